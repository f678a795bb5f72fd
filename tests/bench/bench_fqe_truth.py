#!/usr/bin/env python3
"""Neural FQE, DR and WDR against the simulated truth on cartpole and
pendulum logs (200 episodes of medium-expert, discount 0.95 so that
0.95^200 is negligible): prints the table of man/ope-eval.1 (policy,
truth +- 95% half-width, each estimate with its interval, FQE's relative
error) and the CPU seconds of each evaluation, and exits 1 when an FQE
estimate is more than 10% from the truth. Uses the default FQE settings
(the neural kind is forced, as AUTO would choose it here).

usage: bench_fqe_truth.py OPE [WORKDIR]"""
import json
import os
import resource
import subprocess
import sys
import tempfile

GAMMA = "0.95"
CASES = [
    ("cartpole", ["cartpole:expert", "cartpole:medium", "cartpole:random"]),
    ("pendulum", ["pendulum:expert", "pendulum:medium", "pendulum:medium-expert"]),
]


def run(ope, args, env):
    out = subprocess.run([ope] + args, env=env, check=True, capture_output=True, text=True)
    return out.stdout


def child_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 64
    ope = sys.argv[1]
    work = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix="ope-fqe-truth-")
    env = dict(os.environ, OPE_DB=os.path.join(work, "ope.db"))
    worst = 0.0
    print("%-24s %-22s %-28s %-28s %-28s %s" %
          ("policy", "truth +- 95%", "fqe [ci]", "dr [ci]", "wdr [ci]", "fqe err"))
    for envname, policies in CASES:
        log = os.path.join(work, envname + ".csv")
        run(ope, ["sim", "--env", envname, "--behavior", "medium-expert", "--episodes", "200",
                  "--seed", "1", "-o", log], env)
        run(ope, ["ingest", log, "--dataset", envname], env)
        for p in policies:
            t = json.loads(run(ope, ["truth", "--policy", p, "--gamma", GAMMA, "--episodes",
                                     "10000", "--seed", "0", "--threads", "1", "--json"],
                               env))["results"][0]
            cpu0 = child_cpu()
            ev = json.loads(run(ope, ["eval", "--dataset", envname, "--policy", p,
                                      "--estimators", "fqe,dr,wdr", "--gamma", GAMMA,
                                      "--fqe", "neural", "--threads", "1", "--seed", "0",
                                      "--json"], env))
            cpu = child_cpu() - cpu0
            est = {r["estimator"]: r for r in ev["results"]}

            def cell(name):
                r = est[name]
                return "%.2f [%.2f, %.2f]" % (r["estimate"], r["ci_low"], r["ci_high"])

            err = abs(est["fqe"]["estimate"] - t["value"]) / abs(t["value"])
            worst = max(worst, err)
            print("%-24s %-22s %-28s %-28s %-28s %.1f%%  (eval %.0f s CPU)" %
                  (p, "%.2f +- %.2f" % (t["value"], t["value"] - t["ci_low"]), cell("fqe"),
                   cell("dr"), cell("wdr"), 100 * err, cpu), flush=True)
    print("largest FQE relative error: %.1f%% (limit 10%%)" % (100 * worst))
    return 0 if worst < 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())
