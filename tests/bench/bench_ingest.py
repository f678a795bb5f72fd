#!/usr/bin/env python3
"""Ingest benchmark: `ope ingest` of a generated log (17 observation columns,
6 continuous action columns, reward, terminal, pscore) against the sqlite3
shell's `.import` of the same file into a plain table, at 100k and 1M steps:
steps/s, peak RSS, and the ratio. Usage: bench_ingest.py OPE [STEPS...]"""
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time


def make_log(path, steps, seed=1):
    rnd = random.Random(seed)
    cols = (["episode", "step"] + [f"obs_{i}" for i in range(17)] +
            [f"action_{i}" for i in range(6)] + ["reward", "terminal", "pscore"])
    with open(path, "w") as f:
        f.write(",".join(cols) + "\n")
        ep, t = 0, 0
        for _ in range(steps):
            last = t == 999
            vals = [str(ep), str(t)]
            vals += [repr(rnd.gauss(0, 1)) for _ in range(17)]
            vals += [repr(rnd.uniform(-1, 1)) for _ in range(6)]
            vals += [repr(rnd.gauss(0, 1)), "1" if last else "0", repr(rnd.uniform(0.01, 2))]
            f.write(",".join(vals) + "\n")
            t += 1
            if last:
                ep, t = ep + 1, 0


def timed(cmd, **kw):
    """Wall seconds and peak RSS (MiB) of one child process."""
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        if "stdin" in kw:
            fd = os.open(kw["stdin"], os.O_RDONLY)
            os.dup2(fd, 0)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.execvp(cmd[0], cmd)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    return wall, ru.ru_maxrss / 1024.0


def main():
    ope = sys.argv[1]
    sizes = [int(s) for s in sys.argv[2:]] or [100_000, 1_000_000]
    sqlite = shutil.which("sqlite3")
    tmp = tempfile.mkdtemp(prefix="ope-bench-ingest-")
    print(f"{'steps':>9} {'file MiB':>9} {'ope s':>7} {'ope steps/s':>12} {'ope RSS':>8}"
          f" {'.import s':>9} {'.import RSS':>11} {'speed ratio':>11}")
    try:
        for n in sizes:
            csv = os.path.join(tmp, f"log{n}.csv")
            make_log(csv, n)
            mib = os.path.getsize(csv) / 2**20
            db = os.path.join(tmp, f"ope{n}.db")
            w, rss = timed([ope, "ingest", csv, "--dataset", "bench", "--db", db])
            line = f"{n:>9} {mib:>9.1f} {w:>7.2f} {n / w:>12.0f} {rss:>7.1f}M"
            if sqlite:
                sdb = os.path.join(tmp, f"sq{n}.db")
                script = os.path.join(tmp, "import.sql")
                with open(script, "w") as f:
                    f.write(f".mode csv\n.import {csv} steps\n")
                ws, rss_s = timed([sqlite, sdb], stdin=script)
                line += f" {ws:>9.2f} {rss_s:>10.1f}M {ws / w:>10.2f}x"
            else:
                line += "   (sqlite3 shell not installed: no comparison)"
            print(line, flush=True)
            for p in os.listdir(tmp):
                if not p.endswith(".csv"):
                    os.unlink(os.path.join(tmp, p))
    finally:
        shutil.rmtree(tmp)
    print("speed ratio = .import time / ope time (> 1: ope is faster); "
          "ope validates every field, .import stores text unchecked")


if __name__ == "__main__":
    main()
