#!/usr/bin/env bash
# SPEC §5.4's check of side-by-side streams: one pass of models/lillicrap_spiking_mnist.ron at each K given (default
# 1 and 100; the paper is K = 1), the same seed, to compare the test errors after one pass (expected equal within two
# standard errors). Usage: bash scripts/lillicrap_spiking_streams.sh [BIN] [OUT] [K...]
# Runs already finished are skipped; scripts/lillicrap_spiking_table.py OUT prints the table.
set -euo pipefail
BIN=${1:-target/release/snnsim}
OUT=${2:-output/lillicrap_streams}
if [ $# -ge 2 ]; then shift 2; else set --; fi
KS=${*:-1 100}
mkdir -p "$OUT"
for K in $KS; do
  name=k$K
  if [ -f "$OUT/$name/summary.json" ] && grep -q '"finished"' "$OUT/$name/summary.json"; then continue; fi
  rm -rf "${OUT:?}/$name"
  "$BIN" run models/lillicrap_spiking_mnist.ron -q --out "$OUT/$name" \
    --set protocol.epochs=1 --set protocol.batch_size="$K" --set protocol.checkpoint_every=0 \
    --set 'record.train_examples=[]' --set 'record.test_examples=[]'
done
