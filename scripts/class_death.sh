#!/usr/bin/env bash
# When and where SPEC's rectified derivative kills a class (issue 21). With eq 2.11's rectified derivative an output
# cell's teaching signal is zero on every image that drives it to v <= 0; once every image of its own class does, no
# image of that class can raise it again (only a change of the hidden layer can). This script trains the stepped
# 784-1000-10 nets of models/mnist_stepped_{ba_depth1,bp,fa}.ron for the first 100 (one minibatch), 1000 and 10 000
# training examples of each seed with SPEC's rule; the depth-1 net also without momentum, with the unrectified
# derivative and with the true class's target at c1 = 0.82 instead of 1; and BP online (one example per update, one
# step each, a third reading of SPEC §2.5's presentation), with SPEC's and the unrectified derivative. Then
# scripts/class_death_report.py reads each run's weights.h5 and the initial weights' (a run of no epochs), counts for
# each class the test images whose own output cell has v <= 0, and writes the table into docs/results.md. The LIF
# net (models/mnist_lif_ba.ron, the same initial weights) is run alike, after 0 (its initial weights), 100, 1000 and
# 10 000 examples, its output cells' drive traced on every step of the first LIF_TEST (default 1000) test images: a
# class is dead there when its own cell has v <= 0 on every learning step of (nearly) all its images.
# Usage:
#   bash scripts/class_death.sh [BIN] [OUT] [THREADS]
# BIN: the snnsim binary (default target/release/snnsim); OUT: folder of run folders (default output/class_death);
# THREADS per run (default 1). SEEDS (default "1 2 3 4 5 6 7 8 9") and EXAMPLES (default "100 1000 10000") select the
# runs. Finished runs are skipped (--skip-finished). The report keeps what it measured in
# docs/runs/class_death/dead_fractions.csv (the weights are not kept), from which it rebuilds the table alone:
#   python3 scripts/class_death_report.py docs/results.md docs/runs/class_death/dead_fractions.csv
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/snnsim}
OUT=${2:-output/class_death}
THREADS=${3:-1}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9"}
EXAMPLES=${EXAMPLES:-"100 1000 10000"}
KEPT=docs/runs/class_death/dead_fractions.csv
mkdir -p "$OUT" "$(dirname "$KEPT")"

# net name, model file, overrides separated by ";" (- for none)
NETS=(
    "depth1 mnist_stepped_ba_depth1 -"
    "depth1_no_momentum mnist_stepped_ba_depth1 learning.momentum=0.0"
    "depth1_unrectified mnist_stepped_ba_depth1 learning.rectified_derivative=false"
    "depth1_target_c1 mnist_stepped_ba_depth1 learning.class_target=0.82"
    "bp mnist_stepped_bp -"
    "fa mnist_stepped_fa -"
    "bp_online mnist_stepped_bp network.cells=Rate(c1: 0.82, steps: 1);protocol.batch_size=1"
    "bp_online_unrectified mnist_stepped_bp network.cells=Rate(c1: 0.82, steps: 1);protocol.batch_size=1;learning.rectified_derivative=false"
)
# The initial weights (Appendix B; the same for every net of a seed): a run of no epochs.
for seed in $SEEDS; do
    cmd=("$BIN" run models/mnist_stepped_ba_depth1.ron --set protocol.epochs=0 --seed "$seed"
        --out "$OUT/init-n0-seed$seed" --skip-finished -q --threads "$THREADS")
    echo "[$(date +%H:%M:%S)] ${cmd[*]}"
    "${cmd[@]}" </dev/null >/dev/null || echo "run failed (exit $?): init seed $seed" >&2
done
for examples in $EXAMPLES; do
    for seed in $SEEDS; do
        for net in "${NETS[@]}"; do
            read -r name model overrides <<<"$net"
            sets=(--set protocol.epochs=1 --set "data.train_limit=$examples")
            if [[ "$overrides" != - ]]; then
                IFS=';' read -ra list <<<"$overrides"
                for o in "${list[@]}"; do sets+=(--set "$o"); done
            fi
            cmd=("$BIN" run "models/$model.ron" "${sets[@]}" --seed "$seed"
                --out "$OUT/$name-n$examples-seed$seed" --skip-finished -q --threads "$THREADS")
            echo "[$(date +%H:%M:%S)] ${cmd[*]}"
            "${cmd[@]}" </dev/null >/dev/null || echo "run failed (exit $?): $name $examples seed $seed" >&2
        done
    done
done
# The LIF net of the same seed (SPEC §1–2; the same initial weights) under the same rule: its output cells' drive
# v, traced on every step of the first $LIF_TEST test images, shows whether a cell gets a teaching signal (v > 0 on
# some learning step) where the rate net's is zero for the whole presentation.
LIF_TEST=${LIF_TEST:-1000}
trace=(--set "record.test_examples=[$(seq -s, 0 $((LIF_TEST - 1)))]" --set 'record.populations=["output"]'
    --set 'record.traces=[(population: "output", cells: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], variables: [v])]'
    --set record.trace_every=1 --set "data.test_limit=$LIF_TEST")
for examples in 0 $EXAMPLES; do
    for seed in $SEEDS; do
        if [[ $examples == 0 ]]; then sets=(--set protocol.epochs=0); else
            sets=(--set protocol.epochs=1 --set "data.train_limit=$examples"); fi
        cmd=("$BIN" run models/mnist_lif_ba.ron "${sets[@]}" "${trace[@]}" --seed "$seed"
            --out "$OUT/lif-n$examples-seed$seed" --skip-finished -q --threads "$THREADS")
        echo "[$(date +%H:%M:%S)] ${cmd[*]}"
        "${cmd[@]}" </dev/null >/dev/null || echo "run failed (exit $?): lif $examples seed $seed" >&2
    done
done
python3 scripts/class_death_report.py docs/results.md "$KEPT" "$OUT"
