# A full disk, simulated with RLIMIT_FSIZE (`ulimit -f`; SIGXFSZ ignored so
# that writes fail with EFBIG as they would with ENOSPC): ingest, sim and
# export must fail with a clear message and a sysexits status, the store
# must stay intact (integrity_check, the old datasets whole, nothing of the
# new one), and export must leave no partial file behind.
. "$(dirname "$0")/../cli/lib.sh"

"$OPE" sim --env cartpole --behavior random --episodes 50 --seed 1 --dataset keep >/dev/null 2>&1 ||
  bad "setting up the kept dataset"
"$OPE" sim --env cartpole --behavior random --episodes 1500 --seed 2 -o big.csv 2>/dev/null ||
  bad "writing the large log"
"$OPE" export --dataset keep -o keep.csv 2>/dev/null || bad "exporting the kept dataset"
size_kb=$(( $(stat -c %s "$OPE_DB") / 1024 ))
limit_kb=$(( size_kb + 256 ))

# limited ARGS...: run ope with files capped at limit_kb KiB.
limited() {
  ( trap '' XFSZ; ulimit -f "$limit_kb"; exec "$OPE" "$@" ) >"$SCRATCH/out" 2>"$SCRATCH/err"
  rc=$?
}

# The message says that the disk is full (ENOSPC) or may be (EFBIG).
expect_full() {
  if grep -qE 'disk is full|is the disk full' "$SCRATCH/err"; then ok; else
    bad "$1: $(head -c 300 "$SCRATCH/err")"
  fi
}

intact() {
  if command -v sqlite3 >/dev/null; then
    [ "$(sqlite3 "$OPE_DB" 'pragma integrity_check')" = ok ] && ok || bad "$1: integrity_check"
    [ "$(sqlite3 "$OPE_DB" "select count(*) from datasets where name <> 'keep'")" = 0 ] && ok ||
      bad "$1: a new dataset was left in the store"
  fi
  "$OPE" export --dataset keep -o again.csv 2>/dev/null && ok || bad "$1: kept dataset unreadable"
  expect_same_file keep.csv again.csv "$1: kept dataset unchanged"
}

limited ingest big.csv --dataset big
[ "$rc" -eq 73 ] && ok || bad "ingest on a full disk: exit $rc, wanted 73: $(head -c 300 err)"
expect_full "ingest on a full disk names the cause"
intact "ingest on a full disk"

limited sim --env cartpole --behavior random --episodes 1500 --seed 4 --dataset simmed
[ "$rc" -eq 73 ] && ok || bad "sim on a full disk: exit $rc, wanted 73: $(head -c 300 err)"
expect_full "sim on a full disk names the cause"
intact "sim on a full disk"

# A real ENOSPC on a small tmpfs, when this user may mount one.
if [ "$(id -u)" = 0 ] && mkdir small &&
   mount -t tmpfs -o size=$(( size_kb + 384 ))k tmpfs small 2>/dev/null; then
  trap 'umount "$SCRATCH/small" 2>/dev/null; rm -rf "$SCRATCH"' EXIT
  cp "$OPE_DB" small/ope.db
  expect_status 73 "ingest on a full tmpfs" -- ingest big.csv --dataset big --db small/ope.db
  expect_full "ingest on a full tmpfs names the cause"
  saved=$OPE_DB
  OPE_DB=$SCRATCH/small/ope.db
  intact "ingest on a full tmpfs"
  OPE_DB=$saved
  umount small
else
  echo "cannot mount a tmpfs here: only RLIMIT_FSIZE is used" >&2
fi

# The store still takes writes once there is room again.
expect_status 0 "ingest after the disk has room" -- ingest big.csv --dataset big
expect_status 0 "export of the big dataset" -- export --dataset big -o big_out.csv

# Export: the output is capped well below the dataset's size.
limit_kb=64
limited export --dataset big -o capped.csv
[ "$rc" -eq 74 ] && ok || bad "export on a full disk: exit $rc, wanted 74: $(head -c 300 err)"
expect_err "capped.csv" "export on a full disk names the file"
[ -z "$(ls capped.csv* 2>/dev/null)" ] && ok || bad "export left a partial file: $(ls capped.csv*)"
finish
