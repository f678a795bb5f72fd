#!/usr/bin/env bash
# The quickstart: the main job end to end on shipped sample data, in a fresh
# store under ./quickstart/. Usage: bash data/quickstart.sh PATH/TO/ope
set -euo pipefail
ope=$(realpath "${1:-build-release/src/cli/ope}")
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p quickstart
cd quickstart
export OPE_DB="$PWD/quickstart.db"
rm -f "$OPE_DB" "$OPE_DB-wal" "$OPE_DB-shm"
step() { printf '\n$ ope %s\n' "$*"; "$ope" "$@"; }
step ingest "$root/data/sample/tiny.csv" --dataset tiny
step info
step export --dataset tiny -o tiny-export.csv
echo
echo "The store is quickstart/quickstart.db; try: $ope info --db quickstart/quickstart.db"
