# Every subcommand has help that works three ways, and a man page that
# documents each of its options.
. "$(dirname "$0")/lib.sh"
man="$OPE_SOURCE_ROOT/man"
expect_status 0 "ope help" -- help
cmds=$(sed -n 's/^  \([a-z]*\)  .*/\1/p' "$SCRATCH/out")
[ -n "$cmds" ] && ok || bad "ope help lists no commands"
[ -f "$man/ope.1" ] && ok || bad "man/ope.1 missing"
for c in $cmds; do
  expect_status 0 "ope $c --help" -- "$c" --help
  cp "$SCRATCH/out" "$SCRATCH/h1"
  expect_status 0 "ope help $c" -- help "$c"
  expect_same_file "$SCRATCH/h1" "$SCRATCH/out" "'ope $c --help' and 'ope help $c' agree"
  page="$man/ope-$c.1"
  if [ -f "$page" ]; then ok; else bad "no man page for $c"; continue; fi
  grep -q "$c" "$man/ope.1" && ok || bad "ope(1) does not mention $c"
  for o in $(grep -o -- '--[a-z][a-z-]*' "$SCRATCH/h1" | sort -u); do
    flat=$(sed 's/\\-/-/g; s/\\fB//g; s/\\fR//g; s/\\fI//g' "$page")
    if printf '%s' "$flat" | grep -q -- "$o"; then ok; else
      case "$o" in --help) ok ;; *) bad "man page ope-$c.1 does not document $o" ;; esac
    fi
  done
done
expect_status 64 "help for an unknown command" -- help nosuch
# A usage error is one short message of ope's own (no getopt echo), and a
# missing value is reported as such, not as an unknown option.
for c in $cmds; do
  expect_status 64 "ope $c with an unknown option" -- "$c" --no-such-option
  [ "$(grep -c . "$SCRATCH/err")" -eq 2 ] && ok || bad "ope $c: usage error is not 2 lines: $(cat "$SCRATCH/err")"
done
expect_status 64 "eval --dataset without a value" -- eval --dataset
expect_err "needs a value" "eval names the missing value"
# open ranges are named as such: alpha in (0, 1), gamma in (0, 1], scales > 0
expect_status 64 "eval --alpha 1" -- eval --dataset d --policy p --alpha 1
expect_err "'1' is not a number in (0, 1)" "eval names alpha's open range"
expect_status 64 "eval --gamma 0" -- eval --dataset d --policy p --gamma 0
expect_err "'0' is not a number in (0, 1]" "eval names gamma's range"
expect_status 64 "rank --clip -1" -- rank --dataset d --policy p --clip -1
expect_err "'-1' is not a number > 0" "rank names clip's range"
expect_status 64 "audit --alpha 0" -- audit --dataset d --policy p --alpha 0
expect_err "'0' is not a number in (0, 1)" "audit names alpha's open range"
finish
