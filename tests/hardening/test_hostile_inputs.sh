# Hostile inputs through the command line: dataset, episode and policy names
# with quotes, SQL, paths and control characters are stored as text and come
# back byte for byte, or are refused with a clear message (exit 64); they
# are never interpreted. Absurd widths are refused with the stated limit
# before anything large is allocated. (A store of a newer schema version is
# covered by tests/cli/test_foundation.sh.)
. "$(dirname "$0")/../cli/lib.sh"

cat >log.csv <<'CSV'
episode,step,obs_0,obs_1,action,reward,terminal,pscore
0,0,0.10,-0.20,2,1.0,0,0.5
0,1,0.15,-0.10,0,1.0,1,0.25
1,0,0.00,0.30,1,0.0,0,0.25
CSV
expect_status 0 "a first dataset" -- ingest log.csv --dataset plain
"$OPE" export --dataset plain -o plain.csv 2>/dev/null || bad "export of the first dataset"

# Names that are stored as they are and read back exactly.
names=("a'b" 'a"b' "'; DROP TABLE steps; --" "x' OR '1'='1" '../../../etc/passwd'
       '/abs/path' '$(touch pwned)' '`touch pwned`' '%s%n%s%x' 'データ' ' leading space'
       "$(printf 'bad\377utf8')" '-' '--dataset')
n=0
for name in "${names[@]}"; do
  n=$((n + 1))
  expect_status 0 "ingest as dataset $n" -- ingest log.csv "--dataset=$name"
  expect_status 0 "export dataset $n" -- export "--dataset=$name" -o "out$n.csv"
  expect_same_file plain.csv "out$n.csv" "dataset $n reads back"
done
# `ope info --json` is strict UTF-8 JSON listing every name; bytes that are
# not UTF-8 come out as U+FFFD.
run info --json
if python3 -c 'import json, os, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
listed = set(x["name"] for x in d["datasets"])
missing = [w for w in (os.fsencode(a).decode("utf-8", "replace") for a in sys.argv[2:]) if w not in listed]
print(missing)
sys.exit(1 if missing else 0)' out "${names[@]}" >py.out 2>&1; then ok; else
  bad "info --json does not list every name as valid JSON: $(head -c 300 py.out)"
fi
[ ! -e pwned ] && ok || bad "a name was run as a command"
expect_status 0 "info after the hostile names" -- info --dataset plain
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 "$OPE_DB" 'select count(*) from steps')" = $((3 * (n + 1))) ] && ok ||
    bad "the steps table lost rows"
fi

# Names that are refused with a reason.
refuse() { # description reason name
  expect_status 64 "$1 refused" -- ingest log.csv "--dataset=$3"
  expect_err "$2" "$1 reason"
}
refuse "an empty name" "the name is empty" ""
refuse "a tab" "control character" "$(printf 'a\tb')"
refuse "a newline" "control character" "$(printf 'a\nb')"
refuse "an escape sequence" "control character" "$(printf 'a\033[2Jb')"
refuse "a 201-byte name" "longer than 200 bytes" "$(printf '%0201d' 0)"

# Episode ids with quotes, commas, newlines and SQL go through unchanged.
printf '%s\n' 'episode,step,obs_0,action,reward' \
  "\"'; DROP TABLE episodes; --\",0,1,0,1" \
  '"a,""b""",0,2,1,0' '"multi' 'line",0,3,0,1' >labels.csv
expect_status 0 "hostile episode ids" -- ingest labels.csv --dataset labels
expect_status 0 "export hostile episode ids" -- export --dataset labels -o labels_out.csv
if python3 - labels_out.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["episode"] for r in rows] == ["'; DROP TABLE episodes; --", 'a,"b"', "multi\nline"], rows
PY
then ok; else bad "episode ids changed on the way through"; fi

# Policy names: looked up as text, never run or interpolated.
for pol in "x'; DROP TABLE estimates; --" '../../etc/passwd' '$(touch pwned)' "$(printf 'p\033]0;t\007')"; do
  expect_status 66 "eval with an unknown policy name" -- eval --dataset plain --policy "$pol" --estimators is --ci none
  expect_err "policy" "the unknown policy is named in the message"
done
[ ! -e pwned ] && ok || bad "a policy name was run as a command"
expect_status 0 "the store is intact after hostile policy names" -- info

# Checkpoint BLOBs in the store whose sizes lie (CRC and sha256 made right
# again), or that are cut short: `ope eval` refuses the policy with exit 65.
expect_status 0 "a dataset to train on" -- sim --env chain --behavior random --episodes 20 --seed 1 --dataset ch
expect_status 0 "a small checkpoint" -- train --dataset ch --algo bc --preset small --steps 20 --checkpoint-every 20
ck=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select name from policies where kind = '"'checkpoint'"'").fetchone()[0])' "$OPE_DB")
expect_status 0 "eval of the intact checkpoint" -- eval --dataset ch --policy "$ck" --estimators is --ci none
lie() { # description python-expression-of-new-blob-from-b
  python3 - "$OPE_DB" "$ck" "$2" <<'PY'
import hashlib, sqlite3, struct, sys, zlib
db, name, expr = sys.argv[1:4]
c = sqlite3.connect(db)
b = bytearray(c.execute("select blob from policies where name = ?", (name,)).fetchone()[0])
orig = bytes(b)
def crc(x):
    x = bytearray(x)
    x[-4:] = struct.pack("<I", zlib.crc32(bytes(x[:-4])))
    return bytes(x)
new = eval(expr)
# The sha256 beside the BLOB is made to match, as a crafted store would.
c.execute("update policies set blob = ?, sha256 = ? where name = ?",
          (new, hashlib.sha256(new).hexdigest(), name))
c.commit()
open("orig.blob", "wb").write(orig)
PY
  expect_status 65 "eval of a checkpoint $1" -- eval --dataset ch --policy "$ck" --estimators is --ci none
  expect_err "$ck" "the bad checkpoint $1 is named"
  python3 -c 'import hashlib, sqlite3, sys
b = open("orig.blob", "rb").read()
c = sqlite3.connect(sys.argv[1])
c.execute("update policies set blob = ?, sha256 = ? where name = ?", (b, hashlib.sha256(b).hexdigest(), sys.argv[2]))
c.commit()' "$OPE_DB" "$ck"
}
lie "claiming 2^64-1 parameters" 'crc(b[:32] + b"\xff" * 8 + b[40:])'
lie "claiming a 4 GiB architecture text" 'crc(b[:16] + b"\xff\xff\xff\xff" + b[20:])'
lie "claiming a huge normalization" 'crc(b[:24] + struct.pack("<I", 1 << 30) + b[28:])'
lie "cut in half" 'b[: len(b) // 2]'
lie "of zero bytes" 'b""'
lie "with a flipped bit" 'b[:-20] + bytes([b[-20] ^ 1]) + b[-19:]'
# Finite weights that overflow float in the forward pass (found by fuzzing):
# refused, never NaN probabilities.
lie "with weights that overflow float" 'crc(b[: len(b) - 4 - 4 * struct.unpack("<Q", b[32:40])[0]] + struct.pack("<f", 3e38) * struct.unpack("<Q", b[32:40])[0] + b[-4:])'
expect_err "non-finite output" "overflowing weights are named as the reason"
expect_status 0 "eval of the restored checkpoint" -- eval --dataset ch --policy "$ck" --estimators is --ci none

# Absurd widths: the stated limit, refused at the header.
printf 'episode,step,action,reward,obs_100000\n0,0,0,1,1\n' >wide1.csv
expect_status 65 "obs_100000 in the header" -- ingest wide1.csv --dataset w
expect_err "wide1.csv:1: 100001 obs_ columns is more than the limit of 4096" "obs_100000 message"
python3 -c 'print("episode,step,action,reward," + ",".join("obs_%d" % i for i in range(200000)))' >wide2.csv
expect_status 65 "a header of 200000 columns" -- ingest wide2.csv --dataset w
expect_err "wide2.csv:1: the header has more than" "wide header message"
printf 'episode,step,action_300,reward,obs_0\n0,0,0,1,1\n' >wide3.csv
expect_status 65 "action_300 in the header" -- ingest wide3.csv --dataset w
expect_err "more than the limit of 256" "action width message"
printf 'episode,step,action,reward,obs_0\n0,0,65536,1,1\n' >wide4.csv
expect_status 65 "action 65536" -- ingest wide4.csv --dataset w
expect_err "beyond the limit of 65536 actions" "action count message"
printf 'episode,step,action,reward,obs_99999999999999999999\n0,0,0,1,1\n' >wide5.csv
expect_status 65 "a column index beyond any integer" -- ingest wide5.csv --dataset w
expect_status 64 "--actions beyond the limit" -- ingest log.csv --dataset w --actions 1000000000
expect_status 64 "--episodes absurd" -- sim --env chain --behavior random --episodes 99999999999999999999 --dataset w
expect_status 66 "no dataset w was made" -- info --dataset w
finish
