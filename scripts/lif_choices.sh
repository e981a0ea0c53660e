#!/usr/bin/env bash
# One pass (60 000 training examples, then all 10 000 test images) of the LIF-BA 784-1000-10 network of
# models/mnist_lif_ba.ron for each choice SPEC §2.4 leaves open, on several seeds, to find which moves Table 2's row 12
# (snnsim 96.48 % over three seeds, the paper 96.02 %, 95.97-96.11) towards the paper (issue 21), as "Why the 4-layer
# row is low" did for row 13 in docs/results.md. Usage:
#   bash scripts/lif_choices.sh [BIN] [OUT] [THREADS]
# BIN: the snnsim binary (default target/release/snnsim); OUT: folder of run folders (default output/lif_choices);
# THREADS per run (default 2). SEEDS (default "1 2 3") and CHOICES (default: all, by name) select runs. Finished runs
# are skipped; at the end `snnsim collect` writes OUT/runs.csv and prints the table (test accuracy per run), and
# scripts/lif_choices_report.py writes the comparison into docs/results.md. count_whole and ties_lowest change only
# the answer: a run of their own would train the base run's network bit for bit, so they are measured by testing the
# base run's network again (`snnsim test OUT/base-seedN --set ...`, a row of its tests.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/snnsim}
OUT=${2:-output/lif_choices}
THREADS=${3:-2}
SEEDS=${SEEDS:-"1 2 3"}
mkdir -p "$OUT"
declare -A SETS=(
    [base]=""
    [count_whole]="protocol.count_from_ms=Some(0.0)"        # answer over 0-100 ms instead of 20-100 ms
    [ties_lowest]="protocol.ties=Lowest"                     # a tie answers its lowest-numbered cell
    [no_reset]="protocol.reset_between_examples=false"       # cells carry their state from example to example
    [global_scaling]="data.scaling=StandardiseGlobal"        # one map for all pixels instead of one per pixel
    [settle_0]="protocol.settle_ms=0.0"                      # learning and counting from the first step
    [batch_sum]="learning.batch_reduction=Sum"               # the minibatch's updates summed, not averaged
)
ORDER=(base count_whole ties_lowest no_reset global_scaling settle_0 batch_sum)
CHOICES=${CHOICES:-"${ORDER[*]}"}
# Choices that act at test time only: the base run's network tested again (`snnsim test`, a row of its tests.csv)
# instead of a run of their own, which would train the same network bit for bit.
TEST_TIME=" count_whole ties_lowest "
for seed in $SEEDS; do
    for name in $CHOICES; do
        [[ -v "SETS[$name]" ]] || { echo "unknown choice $name (one of: ${ORDER[*]})" >&2; exit 2; }
        [[ "$TEST_TIME" == *" $name "* ]] && continue
        dir="$OUT/$name-seed$seed"
        if [[ -f "$dir/summary.json" ]] && grep -q '"status": *"finished"' "$dir/summary.json"; then continue; fi
        rm -rf "$dir"
        sets=(--set protocol.epochs=1 --set protocol.checkpoint_every=0 --set protocol.curve_test_examples=1000
              --set 'record.train_examples=[]' --set 'record.test_examples=[]')
        for s in ${SETS[$name]}; do sets+=(--set "$s"); done
        echo "[$(date +%H:%M:%S)] $name seed $seed"
        "$BIN" run models/mnist_lif_ba.ron --seed "$seed" --threads "$THREADS" -q --out "$dir" "${sets[@]}" </dev/null
    done
done
for seed in $SEEDS; do
    for name in $CHOICES; do
        [[ "$TEST_TIME" == *" $name "* && ! -d "$OUT/$name-seed$seed" ]] || continue
        base="$OUT/base-seed$seed"
        [[ -f "$base/checkpoint.bin" ]] || { echo "no $base/checkpoint.bin: run the base choice first" >&2; exit 2; }
        wanted=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1:]))' ${SETS[$name]})
        if [[ -f "$base/tests.csv" ]] && grep -qF "$(printf '%s' "$wanted" | sed 's/"/""/g')" "$base/tests.csv"; then continue; fi
        sets=()
        for s in ${SETS[$name]}; do sets+=(--set "$s"); done
        echo "[$(date +%H:%M:%S)] $name seed $seed (snnsim test of the base run)"
        "$BIN" test "$base" --threads "$THREADS" -q "${sets[@]}" </dev/null
    done
done
"$BIN" collect "$OUT" -o "$OUT/runs.csv"
python3 scripts/lif_choices_report.py docs/results.md "$OUT"
