#!/usr/bin/env bash
# A sweep as a plain bash loop, one run after another (see sweep_tasks.sh for the task list and its settings).
# Interrupt it at any time and start it again: finished runs are skipped, interrupted ones resumed.
#   SWEEP_SEEDS="1 2" bash scripts/sweep_local.sh && snnsim collect output/sweep -o output/sweep.csv
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sweep_tasks.sh
for (( id = 0; id < $(sweep_count); id++ )); do
    cmd=$(sweep_command "$id")
    echo "[$((id + 1))/$(sweep_count)] $cmd"
    eval "$cmd"
done
