# Two `ope` processes on one store. Writers: the second waits for the first
# (busy timeout) and then succeeds, or fails with a message that says the
# store is busy; either way both datasets are whole or absent. Two commands
# creating a new store at the same moment both succeed. Readers during a
# write (WAL) always see a consistent store: `ope info` and `ope export`
# succeed and show the dataset whole or not at all.
. "$(dirname "$0")/../cli/lib.sh"

"$OPE" sim --env cartpole --behavior random --episodes 1200 --seed 1 -o big.csv 2>/dev/null ||
  bad "writing the large log"
cat >small.csv <<'CSV'
episode,step,obs_0,action,reward
0,0,0.5,1,1
0,1,0.25,0,1
CSV

# Both commands creating the store at once, several times.
for i in 1 2 3 4; do
  rm -f race.db race.db-wal race.db-shm
  "$OPE" ingest small.csv --dataset a --db race.db >/dev/null 2>a.err &
  p1=$!
  "$OPE" ingest small.csv --dataset b --db race.db >/dev/null 2>b.err &
  p2=$!
  wait "$p1"; s1=$?
  wait "$p2"; s2=$?
  [ "$s1" -eq 0 ] && [ "$s2" -eq 0 ] && ok ||
    bad "creating one store twice at once (round $i): exits $s1 $s2: $(cat a.err b.err | head -c 300)"
  [ "$("$OPE" info --db race.db | grep -c '^dataset')" = 2 ] && ok || bad "round $i: both datasets stored"
done

# Two large ingests into one store at once.
"$OPE" ingest small.csv --dataset first >/dev/null 2>&1 || bad "creating the store"
"$OPE" ingest big.csv --dataset one >/dev/null 2>one.err &
p1=$!
"$OPE" ingest big.csv --dataset two >/dev/null 2>two.err &
p2=$!
wait "$p1"; s1=$?
wait "$p2"; s2=$?
for pair in "one $s1" "two $s2"; do
  set -- $pair
  if [ "$2" -eq 0 ]; then ok
  elif [ "$2" -eq 73 ] && grep -q "the store is busy" "$1.err"; then ok
  else bad "concurrent ingest $1: exit $2: $(head -c 300 "$1.err")"
  fi
done
[ "$s1" -eq 0 ] || [ "$s2" -eq 0 ] && ok || bad "neither concurrent ingest succeeded"
steps=$(wc -l <big.csv)
steps=$((steps - 1))
for name in one two; do
  run info --dataset "$name" --json
  if [ "$rc" -eq 0 ]; then
    grep -q "\"steps\": $steps," out && ok || bad "dataset $name is not whole: $(grep steps out)"
  fi
done

# Readers while a writer works: every snapshot is whole or empty.
"$OPE" export --dataset first -o first.csv 2>/dev/null || bad "export before the write"
"$OPE" ingest big.csv --dataset three >/dev/null 2>three.err &
writer=$!
reads=0
during=0
while kill -0 "$writer" 2>/dev/null && [ "$reads" -lt 40 ]; do
  reads=$((reads + 1))
  run info --json
  if [ "$rc" -ne 0 ]; then bad "info during a write: exit $rc: $(head -c 300 err)"; break; fi
  if grep -q '"name": "three"' out; then
    python3 -c 'import json,sys; d={x["name"]: x for x in json.load(open(sys.argv[1]))["datasets"]}; sys.exit(d["three"]["steps"] != int(sys.argv[2]))' out "$steps" &&
      ok || bad "info during a write saw part of the new dataset"
  else
    during=$((during + 1))
  fi
  run export --dataset first -o first_again.csv
  [ "$rc" -eq 0 ] && ok || bad "export during a write: exit $rc: $(head -c 300 err)"
  expect_same_file first.csv first_again.csv "export during a write"
done
wait "$writer" && ok || bad "the writer failed: $(head -c 300 three.err)"
echo "$reads reads while writing, $during before the commit"
[ "$during" -ge 1 ] && ok || bad "no read happened during the write"
finish
