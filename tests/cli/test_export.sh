# `ope export --policy NAME`: a stored checkpoint written to a file byte for
# byte (ARCHITECTURE.md: "ope export writes them out when asked"), checked
# against the store's own SHA-256; errors keep their sysexits statuses and
# leave no partial file.
. "$OPE_SOURCE_ROOT/tests/cli/lib.sh"

expect_status 0 "simulate" -- sim --env gridworld --behavior medium --episodes 20 --seed 1 --dataset gw
expect_status 0 "train" -- train --dataset gw --algo bc --steps 4 --checkpoint-every 4 --preset small
ck=gw.bc-small-s0@4
expect_status 0 "export a checkpoint" -- export --policy "$ck" -o ck.bin
want=$(python3 -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
print(c.execute("SELECT sha256 FROM policies WHERE name = ?", (sys.argv[2],)).fetchone()[0])' \
  "$OPE_DB" "$ck")
[ "$(sha256sum ck.bin | cut -d' ' -f1)" = "$want" ] && ok || bad "exported bytes differ from the stored checkpoint"
[ "$(head -c 7 ck.bin)" = "OPECKPT" ] && ok || bad "exported file lacks the checkpoint header"
expect_status 0 "export a checkpoint to stdout" -- export --policy "$ck"
[ "$(sha256sum out | cut -d' ' -f1)" = "$want" ] && ok || bad "stdout bytes differ"
expect_status 66 "no such checkpoint" -- export --policy nope -o none.bin
expect_err "nope" "the missing name is named"
[ ! -e none.bin ] && ok || bad "a file was left for a missing checkpoint"
expect_status 64 "both --dataset and --policy" -- export --dataset gw --policy "$ck"
expect_status 64 "neither" -- export
expect_status 73 "unwritable output" -- export --policy "$ck" -o /nonexistent/dir/ck.bin
finish
