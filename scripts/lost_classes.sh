#!/usr/bin/env bash
# How often SPEC's rectified derivative loses a class in a nonspiking network (issue 21): one epoch (60 000 training
# examples, then the 10 000 test images) of the stepped BP 784-1000-10 net of models/mnist_stepped_bp.ron on each seed,
# with SPEC's rule (`spec`), with the unrectified derivative (`unrectified`) and with the rectifier softened by a noise
# of standard deviation 5 (`soft`: learning.rectifier_noise_sd, the step-to-step spread of a LIF output cell's drive).
# A class lost in the first epoch has so far stayed lost for the whole 30 epochs (docs/results.md), so one epoch per
# seed counts the seeds that lose one.
# Usage:
#   bash scripts/lost_classes.sh [BIN] [OUT] [THREADS]
# BIN: the snnsim binary (default target/release/snnsim); OUT: folder of run folders (default output/lost_classes);
# THREADS per run (default 1). SEEDS (default "1 2 3 4 5 6 7 8 9") selects the seeds, VARIANTS (default "spec
# unrectified soft") the rules. Finished runs are skipped
# (--skip-finished); at the end scripts/lost_classes_report.py writes the table into docs/results.md. The runs of the
# table in docs/results.md are kept in docs/runs/lost_classes (model, summary, curve, confusion):
#   python3 scripts/lost_classes_report.py docs/results.md docs/runs/lost_classes   # rebuilds it from them
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/snnsim}
OUT=${2:-output/lost_classes}
THREADS=${3:-1}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9"}
mkdir -p "$OUT"
for seed in $SEEDS; do
    for variant in ${VARIANTS:-spec unrectified soft}; do
        sets=(--set protocol.epochs=1)
        [[ "$variant" == unrectified ]] && sets+=(--set learning.rectified_derivative=false)
        [[ "$variant" == soft ]] && sets+=(--set learning.rectifier_noise_sd=5.0)
        cmd=("$BIN" run models/mnist_stepped_bp.ron "${sets[@]}" --seed "$seed" --out "$OUT/$variant-seed$seed"
            --skip-finished -q --threads "$THREADS")
        echo "[$(date +%H:%M:%S)] ${cmd[*]}"
        "${cmd[@]}" </dev/null || echo "run failed (exit $?): $variant seed $seed" >&2
    done
done
python3 scripts/lost_classes_report.py docs/results.md "$OUT"
