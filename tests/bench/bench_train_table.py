"""Results table of the bundled trainer: algorithm x dataset, the value of
the final checkpoint by `ope truth` (rollouts), mean over seeds with a 95%
t-interval across seeds, next to the behavior policy and BC.

Usage: bench_train_table.py OPE [--steps N] [--seeds K] [--truth-episodes T]
                            [--db FILE] [--only ENV] [--algos A,B]
Uses `--preset small`. Long: run it in a release build, not as a test.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

# (dataset name, env, behavior regime, episodes, algorithms)
DATASETS = [
    ("cartpole-mr", "cartpole", "medium-replay", 200, ["bc", "cql", "iql", "bcq"]),
    ("mountaincar-me", "mountaincar", "medium-expert", 200, ["bc", "cql", "iql", "bcq"]),
    ("pendulum-m", "pendulum", "medium", 100, ["bc", "cql", "iql", "td3bc", "bcq"]),
    ("pointmaze-stitch", "pointmaze", "medium-replay", 500, ["bc", "cql", "iql", "td3bc", "bcq"]),
]
T95 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571}


def run(cmd, env):
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write("failed: %s\n%s" % (" ".join(cmd), r.stderr))
        return None
    return r.stdout


def truth(ope, env, policy, episodes, envname):
    out = run([ope, "truth", "--policy", policy, "--env", envname, "--episodes", str(episodes),
               "--seed", "12345", "--json"], env)
    if out is None:
        return None
    res = json.loads(out)["results"]
    return [x for x in res if x["method"] == "rollout"][0]["value"]


def summary(vals):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "failed"
    m = sum(vals) / len(vals)
    if len(vals) < 2:
        return "%.3g" % m
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))
    return "%.3g ± %.2g" % (m, T95.get(len(vals) - 1, 2.0) * sd / math.sqrt(len(vals)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ope")
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--truth-episodes", type=int, default=1000)
    ap.add_argument("--db")
    ap.add_argument("--only", help="one environment")
    ap.add_argument("--algos", help="comma-separated subset of algorithms")
    a = ap.parse_args()
    env = dict(os.environ)
    env["OPE_DB"] = a.db or os.path.join(tempfile.mkdtemp(), "table.db")
    rows = []
    for name, envname, regime, n_ep, algos in DATASETS:
        if a.only and a.only != envname:
            continue
        run([a.ope, "sim", "--env", envname, "--behavior", regime, "--episodes",
             str(n_ep), "--seed", "1", "--dataset", name, "--replace"], env)
        beh = truth(a.ope, env, "%s:%s" % (envname, regime), a.truth_episodes, envname)
        cells = {}
        for algo in algos:
            if a.algos and algo not in a.algos.split(","):
                continue
            vals = []
            for seed in range(a.seeds):
                out = run([a.ope, "train", "--dataset", name, "--algo", algo,
                           "--preset", "small", "--steps", str(a.steps),
                           "--checkpoint-every", str(a.steps), "--seed", str(seed),
                           "--replace"], env)
                pol = "%s.%s-small-s%d@%d" % (name, algo, seed, a.steps)
                vals.append(truth(a.ope, env, pol, a.truth_episodes, envname)
                            if out is not None else None)
                print("%s %s seed %d: %s" % (name, algo, seed, vals[-1]), flush=True)
            cells[algo] = summary(vals)
        rows.append((name, "%.3g" % beh if beh is not None else "failed", cells))
    allg = ["bc", "cql", "iql", "td3bc", "bcq"]
    print("\n| dataset | behavior | " + " | ".join(allg) + " |")
    print("|---|---|" + "---|" * len(allg))
    for name, beh, cells in rows:
        print("| %s | %s | %s |" % (name, beh, " | ".join(cells.get(g, "n/a") for g in allg)))


if __name__ == "__main__":
    main()
