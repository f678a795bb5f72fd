#!/bin/sh
# A bounded libFuzzer run, as a test: run_fuzz.sh FUZZER SEED_DIR [MAX_LEN].
# The seed corpus (which holds every input that once crashed) is replayed
# first, then the fuzzer mutates for OPE_FUZZ_SECONDS (default 60) into a
# scratch corpus, so the source tree is never written. A crash leaves its
# input in fuzz-artifacts/ under the build folder; the test then fails
# (exit 1: libFuzzer's default 77 would read as a skip).
set -u
exe=$1
seeds=$2
max_len=${3:-65536}
secs=${OPE_FUZZ_SECONDS:-60}
name=$(basename "$exe")
work=$(mktemp -d "${TMPDIR:-/tmp}/ope-$name-XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
arts="$PWD/fuzz-artifacts"
mkdir -p "$arts" "$work/corpus"
"$exe" -max_total_time="$secs" -max_len="$max_len" -timeout=20 \
  -rss_limit_mb=1536 -malloc_limit_mb=1024 -print_final_stats=1 \
  -error_exitcode=1 -timeout_exitcode=1 \
  -artifact_prefix="$arts/$name-" "$work/corpus" "$seeds" 2>"$work/log"
rc=$?
# 77 means "skipped" to meson: never let a finding pass for that
[ "$rc" -eq 77 ] && rc=1
grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+.*DONE)' "$work/log"
if [ "$rc" -ne 0 ]; then
  tail -n 80 "$work/log"
  echo "$name: failed (exit $rc); the input is in $arts/" >&2
fi
exit "$rc"
