# End-to-end: the Decision Transformer through `ope train --algo dt` on small
# simulator logs (discrete cartpole, continuous pendulum), a tiny model and
# a few steps: it exits 0, stores its checkpoints, gives the same bytes for
# 1 and 2 threads, refuses settings that cannot train, and `ope eval`,
# `ope rank` and `ope truth` use what it stored.
. "$(dirname "$0")/lib.sh"

TINY=(--preset small --set n_layer=1 --set n_embd=16 --set n_head=2
      --set context=4 --set batch=8)

# sha256 of a stored checkpoint: DB NAME
blob_sha() {
  python3 - "$1" "$2" <<'PY'
import sqlite3, sys
row = sqlite3.connect(sys.argv[1]).execute(
    "SELECT sha256 FROM policies WHERE name = ?", (sys.argv[2],)).fetchone()
print(row[0] if row else "missing")
PY
}

expect_status 0 "simulate cartpole" -- sim --env cartpole --behavior medium \
  --episodes 8 --horizon 40 --seed 1 --dataset cp
expect_status 0 "train dt" -- train --dataset cp --algo dt "${TINY[@]}" \
  --steps 6 --checkpoint-every 3 --seed 2 --json
if python3 - "$SCRATCH/out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert [c["step"] for c in d["checkpoints"]] == [3, 6], d
assert all(c["algo"] == "dt" and c["bytes"] > 0 for c in d["checkpoints"]), d
assert d["interrupted"] is False
PY
then ok; else bad "train --json lists two dt checkpoints"; fi
ck=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkpoints"][-1]["name"])' "$SCRATCH/out")
ck3=${ck%@6}@3
expect_status 0 "info" -- info
expect_out "$ck" "info lists the checkpoint"

# Same seed with 2 threads, in another store: the same checkpoint bytes.
expect_status 0 "simulate cartpole into the second store" -- sim --env cartpole \
  --behavior medium --episodes 8 --horizon 40 --seed 1 --dataset cp --db two.db
expect_status 0 "train dt with 2 threads" -- train --dataset cp --algo dt \
  "${TINY[@]}" --steps 6 --checkpoint-every 3 --seed 2 --threads 2 --db two.db
one=$(blob_sha ope.db "$ck")
two=$(blob_sha two.db "$ck")
if [ "$one" = "$two" ] && [ "$one" != missing ]; then ok; else
  bad "checkpoint bytes differ between 1 and 2 threads: $one vs $two"; fi

expect_status 64 "n_head must divide n_embd" -- train --dataset cp --algo dt \
  "${TINY[@]}" --set n_head=3 --steps 2 --seed 9
expect_err "n_head" "the message names the setting"

# The checkpoints as candidates (importance sampling only: quick).
expect_status 0 "eval a dt checkpoint" -- eval --dataset cp --policy "$ck" \
  --policy cartpole:medium --estimators is,pdis,wis --n-boot 50 --json
if python3 - "$SCRATCH/out" "$ck" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
mine = [r for r in d["results"] if r["policy"] == sys.argv[2]]
assert sorted(r["estimator"] for r in mine) == ["is", "pdis", "wis"], mine
assert all(math.isfinite(r["estimate"]) and r["ess"] > 0 for r in mine), mine
PY
then ok; else bad "eval --json has finite dt estimates"; fi
expect_status 0 "rank two dt checkpoints" -- rank --dataset cp --policy "$ck" \
  --policy "$ck3" --estimators wis,pdis --n-boot 50 --json
if python3 - "$SCRATCH/out" "$ck" "$ck3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
got = {p["policy"]: p for p in d["policies"]}
assert set(got) == set(sys.argv[2:4]), got.keys()
assert sorted(p["rank"] for p in got.values()) == [1, 2]
assert all(p["algo"] == "dt" and len(p["sha256"]) == 64 for p in got.values())
PY
then ok; else bad "rank --json ranks both dt checkpoints"; fi

# Continuous actions: pendulum; the policy's density is the recorded
# kernel, and rollouts for the ground truth run it online.
expect_status 0 "simulate pendulum" -- sim --env pendulum --behavior medium \
  --episodes 6 --horizon 30 --seed 3 --dataset pend
expect_status 0 "train dt on pendulum" -- train --dataset pend --algo dt \
  "${TINY[@]}" --set kernel_bw=0.5 --steps 4 --checkpoint-every 4 --json
pk=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["checkpoints"][-1]["name"])' "$SCRATCH/out")
expect_status 0 "eval the pendulum checkpoint" -- eval --dataset pend \
  --policy "$pk" --estimators is,wis --n-boot 50 --json
if python3 - "$SCRATCH/out" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
assert len(d["results"]) == 2, d["results"]
assert all(r["bandwidth"] == 0.5 and math.isfinite(r["estimate"]) for r in d["results"])
PY
then ok; else bad "eval uses the recorded bandwidth"; fi
expect_status 0 "truth of the pendulum checkpoint" -- truth --policy "$pk" \
  --env pendulum --episodes 4 --horizon 20 --json
expect_out '"value"' "truth prints a value"

finish
