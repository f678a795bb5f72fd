# End to end: `ope rank`, `ope audit` and `ope bench` on a simulated log, in
# every format. The same command gives the same bytes (also with another
# thread count), JSON and CSV parse, the HTML page is well-formed XML and,
# when chromium is installed, renders to a screenshot that is not blank.
. "$OPE_SOURCE_ROOT/tests/cli/lib.sh"
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

expect_status 0 "simulate a log" -- sim --env gridworld --behavior medium --episodes 80 \
  --seed 5 --dataset gw
P="--policy gridworld:expert --policy gridworld:eps=0.3 --policy gridworld:random"
E="--estimators is,wis,wpdis,dr,wdr --n-boot 200 --seed 3"

for f in text md csv json html; do
  expect_status 0 "rank --format $f" -- rank --dataset gw $P $E --threads 1 --format $f -o "r1.$f"
done
# every format renders the same numbers, so one rerun checks determinism
expect_status 0 "rank again, two threads" -- rank --dataset gw $P $E --threads 2 --format json \
  -o r2.json
expect_same_file r1.json r2.json "rank is deterministic across runs and thread counts"
grep -q "^verdict: gridworld:expert ranks first" r1.text && ok || bad "rank verdict: $(tail -3 r1.text)"
grep -q "rank range" r1.text && ok || bad "rank table lacks the rank range"
$py - r1.json r1.csv <<'PY' && ok || bad "rank JSON/CSV do not parse or lack fields"
import csv, json, sys
j = json.load(open(sys.argv[1]))
need = {"policy", "estimator", "estimate", "ci_low", "ci_high", "ci_method", "n_episodes"}
assert j["results"] and all(need <= set(r) for r in j["results"])
assert [p["rank"] for p in j["policies"]] == [1, 2, 3]
assert abs(sum(p["p_best"] for p in j["policies"]) - 1) < 1e-12
assert len(j["data_sha256"]) == 64 and all(len(p["sha256"]) == 64 for p in j["policies"])
rows = list(csv.DictReader(open(sys.argv[2], newline="")))
assert len(rows) == 3 * 5 and rows[0]["policy"] == j["policies"][0]["policy"]
PY
$py -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" r1.html && ok \
  || bad "rank HTML is not well-formed"
grep -q "http" r1.html && grep -v 'xmlns="http://www.w3.org/' r1.html | grep -q "http" \
  && bad "rank HTML refers to the network" || ok

# a stored run ranks with its own numbers
expect_status 0 "eval stores a run" -- eval --dataset gw $P $E --json
cp "$SCRATCH/out" eval.json
expect_status 0 "rank --run" -- rank --run 1 --json
$py - eval.json "$SCRATCH/out" <<'PY' && ok || bad "rank --run differs from the stored run"
import json, sys
key = lambda r: (r["policy"], r["estimator"])
ev = {key(r): r for r in json.load(open(sys.argv[1]))["results"]}
rk = json.load(open(sys.argv[2]))
assert rk["run_id"] == 1 and rk["created_at"]
assert set(ev) == {key(r) for r in rk["results"]}
for r in rk["results"]:
    for f in ("estimate", "ci_low", "ci_high"):
        assert r[f] == ev[key(r)][f], (key(r), f, r[f], ev[key(r)][f])
PY

# audit
for f in text json html; do
  expect_status 0 "audit --format $f" -- audit --dataset gw --policy gridworld:eps=0.3 $E \
    --format $f -o "a.$f"
done
expect_status 0 "audit again" -- audit --dataset gw --policy gridworld:eps=0.3 $E
expect_same_file "a.text" "$SCRATCH/out" "audit is reproducible byte for byte"
grep -q "^verdict: at 95%" a.text && ok || bad "audit verdict: $(tail -2 a.text)"
grep -q "behavior" a.text && ok || bad "audit lacks the behavior value"
$py -c "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])" a.html && ok \
  || bad "audit HTML is not well-formed"

# bench
expect_status 0 "bench" -- bench --env gridworld --behavior medium --episodes 40 --seeds 2 \
  --estimators is,wis,wpdis --n-boot 50 --candidates expert,random,eps=0.3 --json
$py - "$SCRATCH/out" <<'PY' && ok || bad "bench JSON lacks the scorecard"
import json, sys
j = json.load(open(sys.argv[1]))
assert [s["estimator"] for s in j["scorecard"]] == ["is", "wis", "wpdis"]
for s in j["scorecard"]:
    for m in ("spearman", "kendall", "regret@1", "regret@5", "abs_error", "coverage"):
        assert m in s
    assert -1 <= s["spearman"]["mean"] <= 1 and 0 <= s["regret@1"]["mean"] <= 1
assert all(p["truth_method"] == "exact" for p in j["policies"])
PY
# chain's episodes are truncated and 0.99^100 is not negligible: the
# scorecard says that FQE's value ignores the time limit
expect_status 0 "bench on truncated episodes" -- bench --env chain --behavior eps=0.5 \
  --episodes 20 --seeds 2 --estimators wis,dm --n-boot 20 --candidates expert,random
expect_out "note: dm: discount^horizon = 0.99^100" "bench lacks FQE's time-limit caveat"

# A policy that lives elsewhere, given by its scores (--policy-csv), on a
# hand-computed log (gamma 0.9): w = 0.6, 0.8, 1.5 and G = 2.62, 0.9, 3, so
# IS = 6.792 / 3 = 2.264 and WIS = 6.792 / 2.9.
printf '%s\n' episode,step,obs_0,action,reward,terminal,pscore 0,0,0,1,1,0,0.5 \
  0,1,1,0,0,0,0.25 0,2,2,1,2,1,0.8 1,0,0,0,0,0,0.5 1,1,1,1,1,0,0.5 2,0,0,1,3,1,0.4 >hand.csv
printf '%s\n' episode,step,prob,prob_0,prob_1 0,0,0.6,0.4,0.6 0,1,0.5,0.5,0.5 \
  0,2,0.2,0.8,0.2 1,0,0.4,0.4,0.6 1,1,0.5,0.5,0.5 2,0,0.6,0.4,0.6 >scores.csv
expect_status 0 "ingest the hand log" -- ingest hand.csv --dataset hand
H="--dataset hand --gamma 0.9 --estimators is,wis --n-boot 50"
expect_status 0 "audit --policy-csv" -- audit $H --policy-csv scores.csv --json
cp "$SCRATCH/out" audit-csv.json
expect_status 0 "rank --policy-csv" -- rank $H --policy-csv scores.csv --policy chain:random \
  --json
cp "$SCRATCH/out" rank-csv.json
$py - audit-csv.json rank-csv.json "$(sha256sum scores.csv | cut -d' ' -f1)" <<'PY' && ok \
  || bad "audit/rank --policy-csv: wrong values or policy record"
import json, sys
for path in sys.argv[1:3]:
    j = json.load(open(path))
    est = {r["estimator"]: r["estimate"] for r in j["results"] if r["policy"] == "scores.csv"}
    assert abs(est["is"] - 2.264) <= 1e-12 * 2.264, est
    assert abs(est["wis"] - 6.792 / 2.9) <= 1e-12 * 2.342, est
    p = [p for p in j["policies"] if p["policy"] == "scores.csv"][0]
    assert p["algo"] == "scores" and p["sha256"] == sys.argv[3], p
PY
expect_status 66 "missing scores file" -- audit $H --policy-csv nosuch.csv
expect_status 64 "audit with --policy and --policy-csv" -- audit $H --policy-csv scores.csv \
  --policy gridworld:random

# errors
expect_status 64 "rank without policies" -- rank --dataset gw
expect_status 64 "unknown format" -- rank --dataset gw $P --format pdf
expect_status 64 "two policies to audit" -- audit --dataset gw --policy gridworld:expert \
  --policy gridworld:random
expect_status 66 "unknown dataset" -- rank --dataset nosuch $P $E
expect_status 66 "unknown policy" -- rank --dataset gw --policy nosuch $E
expect_status 66 "unknown run" -- rank --run 999
expect_status 66 "unknown environment" -- bench --env nosuch --behavior medium
expect_status 73 "unwritable output" -- rank --dataset gw $P $E -o /nonexistent/dir/r.txt
[ ! -e /nonexistent/dir/r.txt ] && ok || bad "a failed write left a file"

# headless chromium: the page renders offline and is not blank
if command -v chromium >/dev/null 2>&1; then
  prof=$(mktemp -d)
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$prof" --screenshot="$SCRATCH/shot.png" --window-size=1200,1600 \
    "file://$SCRATCH/r1.html" >/dev/null 2>&1
  rm -rf "$prof"
  if [ -s shot.png ]; then
    $py "$OPE_SOURCE_ROOT/tests/reports/check_png.py" shot.png && ok || bad "the screenshot is blank"
  else
    bad "chromium wrote no screenshot"
  fi
else
  echo "chromium not installed: skipping the rendering check"
fi
finish
