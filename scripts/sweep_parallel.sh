#!/usr/bin/env bash
# The same sweep with GNU parallel (apt-get install parallel), JOBS runs at a time (default: one per core, each run on
# one thread: results are identical at any thread count). Re-launch to skip finished runs and resume interrupted ones.
#   JOBS=2 bash scripts/sweep_parallel.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/sweep_tasks.sh
JOBS=${JOBS:-$(nproc)}
for (( id = 0; id < $(sweep_count); id++ )); do sweep_command "$id"; done \
    | parallel --jobs "$JOBS" --halt never --joblog "${SWEEP_OUT%/}.joblog" --line-buffer
