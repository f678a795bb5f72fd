# End-to-end: ingest, info, export and the store's safety rules, through the
# `ope` binary: exit statuses, messages naming the place, and a store whose
# bytes do not change when a command fails.
. "$(dirname "$0")/lib.sh"

cat >good.csv <<'CSV'
episode,step,obs_0,obs_1,action,reward,terminal,pscore
0,0,0.10,-0.20,2,1.0,0,0.5
0,1,0.15,-0.10,0,1.0,1,0.25
1,0,0.00,0.30,1,0.0,0,0.25
CSV

expect_status 0 "ingest good file" -- ingest good.csv --dataset ex
expect_out "2 episodes, 3 steps" "ingest summary"
expect_status 0 "info" -- info
expect_out "dataset ex" "info lists the dataset"
expect_out "1 terminal, 1 truncated" "info counts terminal and truncated"
expect_status 0 "info --json" -- info --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); ds=d["datasets"][0]; assert ds["episodes"]==2 and ds["steps"]==3 and ds["n_actions"]==3 and ds["has_pscore"] is True and ds["return_max"]==2' "$SCRATCH/out"; then ok; else bad "info --json content"; fi
expect_status 64 "dataset name taken" -- ingest good.csv --dataset ex
expect_err "exists already" "name taken message"
expect_status 0 "replace" -- ingest good.csv --dataset ex --replace
expect_status 66 "info on a missing dataset" -- info --dataset nope

# Round trip: ingest -> export -> ingest -> export gives the same file, and
# the first export already carries the same numbers.
cat >round.csv <<'CSV'
reward,action_1,action_0,step,episode,obs_0,next_obs_0
1.5,0.25,-0.5,0,"a,
b",0.1,0.30000000000000004
2.5,1e-07,4.9406564584124654e-324,1,"a,
b",0.30000000000000004,-0
-3,0.5,0.5,0,"x""y",1.7976931348623157e308,2
CSV
expect_status 0 "ingest continuous with quoted ids" -- ingest round.csv --dataset round
expect_status 0 "export" -- export --dataset round -o e1.csv
expect_status 0 "re-ingest the export" -- ingest e1.csv --dataset round2
expect_status 0 "export again" -- export --dataset round2 -o e2.csv
expect_same_file e1.csv e2.csv "ingest -> export -> ingest -> export"
if python3 - e1.csv <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert [r["episode"] for r in rows] == ["a,\nb", "a,\nb", 'x"y'], rows
assert float(rows[1]["action_0"]) == 4.9406564584124654e-324
assert float(rows[0]["next_obs_0"]) == 0.30000000000000004
assert float(rows[2]["obs_0"]) == 1.7976931348623157e308
PY
then ok; else bad "exported numbers"; fi
# A FIFO (like a device) is written in place, never replaced by a file.
mkfifo pipe
cat pipe >from-pipe.csv &
expect_status 0 "export to a FIFO" -- export --dataset ex -o pipe
wait
[ -p pipe ] && ok || bad "export replaced the FIFO"
grep -q '^0,1,0.15,-0.1,0,1,1,0.25$' from-pipe.csv && ok || bad "export through the FIFO"
expect_status 0 "export to stdout" -- export --dataset ex
expect_out "0,1,0.15,-0.1,0,1,1,0.25" "export row"

# Bad input: exit 65, FILE:LINE and column in the message, store unchanged.
before=$(checksum ope.db)
bad_case() { # name expected-status text-of-message file-content
  printf '%b' "$4" >"$1.csv"
  expect_status "$2" "bad input $1" -- ingest "$1.csv" --dataset "bad_$1"
  expect_err "$3" "message for $1"
  [ "$(checksum ope.db)" = "$before" ] && ok || bad "store changed by $1"
  [ ! -e ope.db-wal ] && ok || bad "WAL left behind by $1"
}
H='episode,step,obs_0,obs_1,action,reward,terminal,pscore\n'
bad_case missing_col 65 "missing_col.csv:1: required column 'reward' is missing" 'episode,step,obs_0,action\n0,0,1,0\n'
bad_case unknown_col 65 "unknown_col.csv:1: column 'rewad' is not a log column" 'episode,step,obs_0,action,rewad\n0,0,1,0,1\n'
bad_case empty_field 65 "empty_field.csv:3: column 'obs_1': the field is empty" "${H}0,0,0,0,1,0,0,0.5\n0,1,0.1,,1,0,0,0.5\n"
bad_case non_numeric 65 "non_numeric.csv:2: column 'reward': 'x1' is not a number" "${H}0,0,0,0,1,x1,0,0.5\n"
bad_case nan 65 "nan.csv:2: column 'obs_0': 'NaN' is not allowed" "${H}0,0,NaN,0,1,0,0,0.5\n"
bad_case inf 65 "inf.csv:2: column 'reward': 'inf' is not allowed" "${H}0,0,0,0,1,inf,0,0.5\n"
bad_case step_gap 65 "step_gap.csv:3: column 'step': episode '0' goes from step 0 to 2" "${H}0,0,0,0,1,0,0,0.5\n0,2,0,0,1,0,0,0.5\n"
bad_case split 65 "split.csv:4: column 'episode': episode '0' appears again" "${H}0,0,0,0,1,0,0,0.5\n1,0,0,0,1,0,0,0.5\n0,1,0,0,1,0,0,0.5\n"
bad_case early_terminal 65 "early_terminal.csv:3: episode '0' continues after terminal = 1" "${H}0,0,0,0,1,0,1,0.5\n0,1,0,0,1,0,0,0.5\n"
bad_case pscore_zero 65 "pscore_zero.csv:2: column 'pscore': 0 is not a probability" "${H}0,0,0,0,1,0,0,0\n"
bad_case pscore_big 65 "pscore_big.csv:2: column 'pscore': 1.7 is not a probability (discrete actions)" "${H}0,0,0,0,1,0,0,1.7\n"
bad_case pscore_some 65 "pscore_some.csv:3: the row has 7 fields but the header has 8" "${H}0,0,0,0,1,0,0,0.5\n0,1,0,0,1,0,0\n"
bad_case widths 65 "widths.csv:2: the row has 9 fields" "${H}0,0,0,0,1,0,0,0.5,1\n"
bad_case neg_action 65 "neg_action.csv:2: column 'action': -1 is negative" "${H}0,0,0,0,-1,0,0,0.5\n"
bad_case frac_action 65 "frac_action.csv:2: column 'action': '0.5' is not an integer" "${H}0,0,0,0,0.5,0,0,0.5\n"
bad_case empty 65 "empty.csv:1: the file is empty" ""
bad_case header_only 65 "header_only.csv:2: the file has a header but no data rows" "${H}"
printf "${H}0,0,0,0,3,0,0,0.5\n" >big_action.csv
expect_status 65 "action >= A" -- ingest big_action.csv --dataset ba --actions 3
expect_err "big_action.csv:2: column 'action': 3 is not below A = 3" "action >= A message"
[ "$(checksum ope.db)" = "$before" ] && ok || bad "store changed by action >= A"

# Valid oddities: BOM, CRLF, a quoted field with an embedded newline.
printf '\357\273\277episode,step,obs_0,action,reward\r\n"e\n1",0,1,0,1\r\n"e\n1",1,2,1,1\r\n' >odd.csv
expect_status 0 "BOM + CRLF + embedded newline" -- ingest odd.csv --dataset odd
expect_out "1 episodes, 2 steps" "odd file summary"
before=$(checksum ope.db)

# Missing file, unwritable store, foreign and newer files (never modified).
expect_status 66 "file not found" -- ingest nope.csv --dataset n
expect_err "nope.csv" "missing file named"
expect_status 73 "store path not writable" -- ingest good.csv --dataset w --db /nonexistent/dir/ope.db
printf 'this is not a database, just text\n' >notdb.db
nb=$(checksum notdb.db)
expect_status 65 "not an SQLite file" -- ingest good.csv --dataset w --db notdb.db
expect_err "not an ope store" "foreign file message"
[ "$(checksum notdb.db)" = "$nb" ] && ok || bad "foreign file modified"
expect_status 65 "info on a foreign file" -- info --db notdb.db
if command -v sqlite3 >/dev/null; then
  sqlite3 other.db 'create table t(x); insert into t values (1);'
  ob=$(checksum other.db)
  expect_status 65 "another application's SQLite file" -- ingest good.csv --dataset w --db other.db
  expect_err "another application" "foreign SQLite message"
  [ "$(checksum other.db)" = "$ob" ] && ok || bad "foreign SQLite file modified"
  cp ope.db newer.db
  sqlite3 newer.db 'pragma user_version = 999;'
  nb=$(checksum newer.db)
  expect_status 65 "newer schema" -- ingest good.csv --dataset w --db newer.db
  expect_err "newer than this ope" "newer schema message"
  [ "$(checksum newer.db)" = "$nb" ] && ok || bad "newer store modified"
  expect_status 65 "newer schema, read" -- info --db newer.db
  # Anyone with sqlite3 can read the store.
  [ "$(sqlite3 ope.db "select count(*) from steps s join datasets d on d.id = s.dataset_id where d.name = 'ex'")" = 3 ] && ok || bad "sqlite3 reads steps"
  [ "$(sqlite3 ope.db 'pragma journal_mode')" = wal ] && ok || bad "store in WAL mode"
else
  echo "sqlite3 shell not installed: skipping its checks" >&2
fi
expect_status 66 "info without a store" -- info --db absent.db
[ ! -e absent.db ] && ok || bad "info created a store"
[ "$(checksum ope.db)" = "$before" ] && ok || bad "store changed by failed commands"

# Usage errors.
expect_status 64 "unknown command" -- frobnicate
expect_status 64 "unknown option" -- ingest good.csv --dataset x --bogus
expect_err "unknown option '--bogus'" "unknown option named"
expect_status 64 "missing --dataset" -- ingest good.csv
expect_status 64 "bad --actions" -- ingest good.csv --dataset x --actions zero
expect_status 0 "--version" -- --version
expect_out "ope " "version printed"
finish
