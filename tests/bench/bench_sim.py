#!/usr/bin/env python3
"""Simulator benchmark. (1) `ope sim --behavior medium -o /dev/null` on every
environment: steps per second of wall time and of the process's CPU time
(one core, CSV writing included). (2) The same cartpole log produced by the
fastest plain-NumPy route: all episodes stepped in lockstep as arrays, rows
written with numpy.savetxt; the ratio ope/NumPy. (3) `ope truth` on
cartpole:medium with 1 and 2 threads: wall seconds and the speed-up, and
that both print the same bytes. Usage: bench_sim.py OPE"""
import os
import re
import subprocess
import sys
import tempfile
import time

ENVS = [("cartpole", 20000), ("gridworld", 50000), ("chain", 20000),
        ("mountaincar", 10000), ("pendulum", 10000), ("pointmaze", 20000)]


def run(cmd, cwd):
    """Wall seconds, CPU seconds (user + sys) and stderr of one child."""
    t0 = time.perf_counter()
    before = os.times()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}: {p.stderr}")
    return wall, cpu, p.stderr, p.stdout


def numpy_cartpole(episodes, path, seed=0):
    """Cartpole (same equations, eps-greedy medium) for all episodes at once;
    returns the number of rows written with numpy.savetxt."""
    import numpy as np
    rng = np.random.default_rng(seed)
    n = episodes
    s = rng.uniform(-0.05, 0.05, size=(n, 4))
    alive = np.ones(n, dtype=bool)
    chunks = []
    ep = np.arange(n)
    for t in range(200):
        idx = np.nonzero(alive)[0]
        if idx.size == 0:
            break
        x, xd, th, thd = s[idx].T
        greedy = (th + 0.5 * thd + 0.05 * x + 0.1 * xd > 0).astype(np.int64)
        explore = rng.random(idx.size) < 0.6
        a = np.where(explore, rng.integers(0, 2, idx.size), greedy)
        pscore = np.where(a == greedy, 0.7, 0.3)
        f = np.where(a == 1, 10.0, -10.0)
        sn, cs = np.sin(th), np.cos(th)
        tmp = (f + 0.05 * thd * thd * sn) / 1.1
        thacc = (9.8 * sn - cs * tmp) / (0.5 * (4.0 / 3.0 - 0.1 * cs * cs / 1.1))
        xacc = tmp - 0.05 * thacc * cs / 1.1
        ns = np.stack([x + 0.02 * xd, xd + 0.02 * xacc, th + 0.02 * thd, thd + 0.02 * thacc], 1)
        term = (np.abs(ns[:, 0]) > 2.4) | (np.abs(ns[:, 2]) > 0.20943951023931953)
        chunks.append(np.column_stack([ep[idx], np.full(idx.size, t), s[idx], a,
                                       np.ones(idx.size), term, pscore]))
        s[idx] = ns
        alive[idx[term]] = False
    rows = np.concatenate(chunks)
    rows = rows[np.lexsort((rows[:, 1], rows[:, 0]))]
    np.savetxt(path, rows, delimiter=",", comments="",
               header="episode,step,obs_0,obs_1,obs_2,obs_3,action,reward,terminal,pscore",
               fmt=["%d", "%d", "%.17g", "%.17g", "%.17g", "%.17g", "%d", "%.17g", "%d", "%.17g"])
    return rows.shape[0]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ope = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="ope-bench-sim-")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} "
          "(other work may share them)")
    print(f"{'env':<12} {'steps':>9} {'wall s':>7} {'cpu s':>7} {'steps/s wall':>13} {'steps/s cpu':>12}")
    cart = None
    for env, episodes in ENVS:
        wall, cpu, err, _ = run([ope, "sim", "--env", env, "--behavior", "medium", "--episodes",
                                 str(episodes), "--seed", "1", "-o", "/dev/null"], tmp)
        steps = int(re.search(r"(\d+) steps", err).group(1))
        print(f"{env:<12} {steps:>9} {wall:>7.2f} {cpu:>7.2f} {steps / wall:>13,.0f} "
              f"{steps / cpu:>12,.0f}")
        if env == "cartpole":
            cart = (steps, wall, cpu)
    try:
        import numpy  # noqa: F401
    except ImportError:
        print("numpy: not installed, no comparison")
    else:
        t0 = time.perf_counter()
        c0 = time.process_time()
        rows = numpy_cartpole(ENVS[0][1], os.path.join(tmp, "np.csv"))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        print(f"{'numpy cart':<12} {rows:>9} {wall:>7.2f} {cpu:>7.2f} {rows / wall:>13,.0f} "
              f"{rows / cpu:>12,.0f}")
        print(f"cartpole ope/numpy: {cart[0] / cart[1] / (rows / wall):.1f}x (wall), "
              f"{cart[0] / cart[2] / (rows / cpu):.1f}x (cpu)")
    # Python's own shortest round-trip formatting (repr, David Gay's dtoa).
    import random
    rnd = random.Random(1)
    xs = [rnd.uniform(-0.05, 0.05) * (1 + i % 100) for i in range(1000000)]
    c0 = time.process_time()
    total = sum(len(repr(x)) for x in xs)
    cpu = time.process_time() - c0
    print(f"python repr: {1e9 * cpu / len(xs):.0f} ns/number cpu ({total} chars); "
          "compare bench sim-numfmt for ope_numfmt_double")
    outs = []
    for k in (1, 2):
        wall, cpu, _, out = run([ope, "truth", "--policy", "cartpole:medium", "--episodes", "200000",
                                 "--threads", str(k), "--json", "--db", os.path.join(tmp, "t.db")], tmp)
        outs.append((wall, out))
        print(f"truth cartpole:medium 200000 rollouts, {k} thread(s): {wall:.2f} s wall, {cpu:.2f} s cpu")
    print(f"truth speed-up 1 -> 2 threads: {outs[0][0] / outs[1][0]:.2f}x; "
          f"same output: {'yes' if outs[0][1] == outs[1][1] else 'NO'}")
    subprocess.run(["rm", "-rf", tmp])


if __name__ == "__main__":
    main()
