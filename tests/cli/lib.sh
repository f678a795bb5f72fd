# Helpers for the CLI tests: a scratch folder, expectations, a final count.
# Each test script sources this, calls the expect_* functions, then finish.
set -u
: "${OPE:?OPE must point at the ope binary}"
: "${OPE_SOURCE_ROOT:?OPE_SOURCE_ROOT must point at the source tree}"
SCRATCH=$(mktemp -d /tmp/ope-cli-XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
cd "$SCRATCH" || exit 1
export OPE_DB="$SCRATCH/ope.db"
passed=0
failed=0

ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }

# run CMD...: runs ope, keeping stdout in $SCRATCH/out, stderr in err, status in rc.
run() {
  "$OPE" "$@" >"$SCRATCH/out" 2>"$SCRATCH/err"
  rc=$?
}

# expect_status N DESCRIPTION -- ARGS...
expect_status() {
  local want=$1 what=$2
  shift 3
  run "$@"
  if [ "$rc" -eq "$want" ]; then ok; else
    bad "$what: exit $rc, wanted $want; stderr: $(head -c 400 "$SCRATCH/err")"
  fi
}

# expect_err TEXT DESCRIPTION: the last run's stderr contains TEXT.
expect_err() {
  if grep -qF -- "$1" "$SCRATCH/err"; then ok; else
    bad "$2: stderr lacks '$1': $(head -c 400 "$SCRATCH/err")"
  fi
}

expect_out() {
  if grep -qF -- "$1" "$SCRATCH/out"; then ok; else
    bad "$2: stdout lacks '$1': $(head -c 400 "$SCRATCH/out")"
  fi
}

expect_same_file() {
  if cmp -s "$1" "$2"; then ok; else bad "$3: $1 and $2 differ"; fi
}

checksum() { cat "$@" 2>/dev/null | sha256sum | cut -d' ' -f1; }

finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
