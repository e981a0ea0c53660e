#!/usr/bin/env bash
# One pass of the stochastic spiking network of Lillicrap et al. 2016 (models/lillicrap_spiking_mnist.ron) for each of
# SPEC §5.4's open choices, so that what moves the result shows after 60 000 images. Usage:
#   bash scripts/lillicrap_spiking_choices.sh [BIN] [OUT] [K]
# BIN: the snnsim binary (default target/release/snnsim); OUT: folder of run folders (default
# output/lillicrap_choices); K: streams side by side (default 32). Runs already finished are skipped; the table is
# printed by scripts/lillicrap_spiking_table.py OUT.
set -euo pipefail
BIN=${1:-target/release/snnsim}
OUT=${2:-output/lillicrap_choices}
K=${3:-32}
mkdir -p "$OUT"
run() {
  local name=$1; shift
  if [ -f "$OUT/$name/summary.json" ] && grep -q '"finished"' "$OUT/$name/summary.json"; then return; fi
  rm -rf "$OUT/$name"
  "$BIN" run models/lillicrap_spiking_mnist.ron -q --out "$OUT/$name" \
    --set protocol.epochs=1 --set protocol.batch_size="$K" --set protocol.checkpoint_every=0 \
    --set 'record.train_examples=[]' --set 'record.test_examples=[]' "$@"
}
run base
run error_probability --set network.cells.Bernoulli.error_input=Probability
run eta_3e-3 --set 'learning.learning_rate=Fixed(0.003)'
run phi_tanh --set network.cells.Bernoulli.feedback_signal=Tanh
run third_potential --set network.cells.Bernoulli.third_factor=Potential
run shallow_output_only --set learning.depth=1
run weights_0.15 --set 'init.weights=Uniform(0.15)'
run eta_1e-2 --set 'learning.learning_rate=Fixed(0.01)'
