# Crash mid-write: `ope ingest`, `ope sim --dataset`, `ope ingest --replace`,
# `ope train` and `ope eval` are killed with SIGKILL after a random delay,
# many times. After every kill the store must open, pass PRAGMA
# integrity_check, and hold each dataset, checkpoint or evaluation whole or
# not at all; `ope info --json` must agree. Delays come from bash's RANDOM
# with a fixed seed; the number of rounds is bounded by time
# (OPE_KILL_SECONDS, default 15) but is at least five.
. "$(dirname "$0")/../cli/lib.sh"

if ! python3 -c 'import sqlite3, json' 2>/dev/null; then
  echo "python3 with sqlite3 and json is needed to inspect the store: skipped" >&2
  exit 77
fi
RANDOM=20261123
budget=${OPE_KILL_SECONDS:-15}

now_ms() { date +%s%3N; }

# verify: the store's invariants; prints a problem and fails when broken.
# Every dataset's rows match its totals (so a dataset is whole or absent),
# every evaluation has its full set of estimates, nothing is orphaned, and
# `ope info --json` lists the same datasets with the same counts.
verify() {
  "$OPE" info --json >info.json 2>info.err || { echo "ope info failed: $(cat info.err)"; return 1; }
  python3 - "$OPE_DB" info.json "$1" <<'PY'
import hashlib, json, sqlite3, sys, zlib
db, info, want_estimates = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
bad = []
ic = c.execute("pragma integrity_check").fetchall()
if ic != [("ok",)]: bad.append("integrity_check: %r" % ic[:3])
if c.execute("pragma foreign_key_check").fetchall(): bad.append("foreign_key_check fails")
sizes = {}
for did, name, ne, ns in c.execute("select id, name, n_episodes, n_steps from datasets"):
    se = c.execute("select count(*) from episodes where dataset_id=?", (did,)).fetchone()[0]
    ss = c.execute("select count(*) from steps where dataset_id=?", (did,)).fetchone()[0]
    cover = c.execute("select coalesce(sum(length),0) from episodes where dataset_id=?", (did,)).fetchone()[0]
    if (se, ss, cover) != (ne, ns, ns) or ns == 0:
        bad.append("dataset %r: totals %d/%d, rows %d/%d, episodes cover %d" % (name, ne, ns, se, ss, cover))
    sizes[name] = (ne, ns)
for t in ("steps", "episodes"):
    n = c.execute("select count(*) from %s where dataset_id not in (select id from datasets)" % t).fetchone()[0]
    if n: bad.append("%d orphan rows in %s" % (n, t))
for eid, n in c.execute("select e.id, (select count(*) from estimates s where s.evaluation_id = e.id) from evaluations e"):
    if n != want_estimates: bad.append("evaluation %d has %d estimates, a whole run has %d" % (eid, n, want_estimates))
for name, blob, sha in c.execute("select name, blob, sha256 from policies where kind = 'checkpoint'"):
    if blob is None or len(blob) < 44 or zlib.crc32(blob[:-4]) != int.from_bytes(blob[-4:], "little"):
        bad.append("checkpoint %r is not whole (CRC)" % name)
    elif sha and hashlib.sha256(blob).hexdigest() != sha:
        bad.append("checkpoint %r does not match its sha256" % name)
listed = {d["name"]: (d["episodes"], d["steps"]) for d in json.load(open(info))["datasets"]}
if listed != sizes: bad.append("ope info --json %r differs from the tables %r" % (listed, sizes))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
}

# kill_round N_ESTIMATES LABEL -- ARGS...: run `ope ARGS` in the background,
# SIGKILL it after a random delay below $span ms, then verify the store.
kills=0
finished=0
kill_round() {
  local want=$1 label=$2
  shift 3
  "$OPE" "$@" >/dev/null 2>round.err &
  local pid=$!
  local delay=$((RANDOM % span))
  sleep "$((delay / 1000)).$(printf '%03d' $((delay % 1000)))"
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null
  local st=$?
  [ "$st" -eq 0 ] && finished=$((finished + 1))
  if [ "$st" -ne 0 ] && [ "$st" -ne 137 ]; then
    bad "ope $label exited $st without being killed: $(head -c 300 round.err)"
  fi
  if out=$(verify "$want"); then ok; else bad "after killing ope $*: $out"; fi
}

# Inputs: a kept dataset, a large log, and one reference run of each
# command to learn how long it takes (the delays span that time).
"$OPE" sim --env cartpole --behavior random --episodes 60 --seed 3 --dataset keep >/dev/null 2>&1 ||
  bad "setting up the kept dataset"
"$OPE" sim --env cartpole --behavior random --episodes 1500 --seed 1 -o big.csv 2>/dev/null ||
  bad "writing the large log"
t0=$(now_ms)
expect_status 0 "reference ingest" -- ingest big.csv --dataset big_ref
ingest_ms=$(( $(now_ms) - t0 + 50 ))
EVAL="--dataset keep --policy cartpole:expert --policy cartpole:medium --estimators is,wis,pdis,wpdis --n-boot 300 --threads 1"
t0=$(now_ms)
# shellcheck disable=SC2086
expect_status 0 "reference eval" -- eval $EVAL
eval_ms=$(( $(now_ms) - t0 + 50 ))
t0=$(now_ms)
expect_status 0 "reference train" -- train --dataset keep --algo bc --preset small --steps 400 --checkpoint-every 100
train_ms=$(( $(now_ms) - t0 + 50 ))
n_est=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from estimates").fetchone()[0])' "$OPE_DB")
[ "$n_est" -gt 0 ] && ok || bad "reference eval stored no estimates"
if out=$(verify "$n_est"); then ok; else bad "store after the reference runs: $out"; fi

start=$(now_ms)
round=0
# At least one round of each kind, however slow the build (valgrind).
while [ $(( $(now_ms) - start )) -lt $((budget * 1000)) ] || [ "$round" -lt 5 ]; do
  round=$((round + 1))
  case $((round % 5)) in
    1) span=$ingest_ms
       kill_round "$n_est" ingest -- ingest big.csv --dataset "big_$round" ;;
    2) span=$ingest_ms
       kill_round "$n_est" sim -- sim --env cartpole --behavior medium --episodes 1500 --seed "$round" --dataset "sim_$round" ;;
    3) span=$ingest_ms
       kill_round "$n_est" replace -- ingest big.csv --dataset keep --replace ;;
    4) span=$train_ms
       kill_round "$n_est" train -- train --dataset keep --algo bc --preset small --steps 400 --checkpoint-every 100 --seed "$round" ;;
    0) span=$eval_ms
       # shellcheck disable=SC2086
       kill_round "$n_est" eval -- eval $EVAL ;;
  esac
done
echo "$round rounds in ${budget}s: $kills killed mid-way, $finished finished first"
# Delays span a whole run, so most runs die mid-way; a third at least must.
[ "$kills" -ge 1 ] && [ $((3 * kills)) -ge "$round" ] && ok ||
  bad "only $kills of $round runs were killed before they finished"
finish
