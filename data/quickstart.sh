#!/usr/bin/env bash
# The quickstart: the main job end to end on simulated data, in a fresh store
# under ./quickstart/: simulate logs with exact propensities, estimate three
# candidate policies with every estimator, rank them with how sure the
# ranking is, and check the winner against the simulator's exact value.
# Usage: bash data/quickstart.sh PATH/TO/ope
set -euo pipefail
ope=$(realpath "${1:-build-release/src/cli/ope}")
mkdir -p quickstart
cd quickstart
export OPE_DB="$PWD/quickstart.db"
rm -f "$OPE_DB" "$OPE_DB-wal" "$OPE_DB-shm"
step() { printf '\n$ ope %s\n' "$*"; "$ope" "$@"; }
step sim --env gridworld --behavior eps=0.5 --episodes 500 --seed 1 -o gridworld.csv
step ingest gridworld.csv --dataset gridworld
step info --dataset gridworld
step eval --dataset gridworld --policy gridworld:expert --policy gridworld:eps=0.1 \
  --policy gridworld:random --gamma 0.95 --seed 1
step rank --run 1 --estimator wdr
step rank --run 1 --estimator wdr --format html -o ranking.html
step truth --env gridworld --policy gridworld:expert --gamma 0.95
step truth --env gridworld --policy gridworld:eps=0.1 --gamma 0.95
printf '\nThe ranking page is quickstart/ranking.html (opens offline);\n'
printf 'the store (data, estimates, truth) is quickstart/quickstart.db.\n'
