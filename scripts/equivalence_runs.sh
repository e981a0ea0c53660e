#!/usr/bin/env bash
# Nine short runs that cover every engine path (LIF 784-1000-10 with the Gram carry, the 4-layer net with the
# active-input sums and traces, LIF error pools, the Direct first layer without reset, rate FA, stepped rate BP, rate
# BA's broadcast pathway and rate DF, trials of the teacher task). Run them with two binaries and compare the folders with scripts/compare_runs.py to show
# that a change of code is no change of behaviour (docs/performance.md, "Session 9").
#
#   bash scripts/equivalence_runs.sh path/to/old/snnsim out/before
#   bash scripts/equivalence_runs.sh target/release/snnsim out/after
#   python3 scripts/compare_runs.py out/before out/after
set -euo pipefail
B=$(realpath "$1"); O=$2; mkdir -p "$O"
cd "$(dirname "$0")/.."
T=(--threads 2 -q)
run() { local name=$1; shift; "$B" run "$@" --out "$O/$name" "${T[@]}" > "$O/$name.log" 2>&1; }
run A models/mnist_lif_ba.ron --set data.train_limit=10000 --set protocol.epochs=1
run B models/mnist_lif_ba_4layer.ron --set data.train_limit=2000 --set data.test_limit=1000 --set protocol.epochs=1 \
  --set protocol.curve_every=500 --set 'record.train_examples=[0,1,1500]' \
  --set 'record.traces=[(population:"hidden2",cells:[0,5,77],variables:[v,h,a,iota,delta]),(population:"output",cells:[0,3],variables:[v,a,iota])]'
run C models/mnist_rate_fa.ron --set data.train_limit=5000 --set data.test_limit=2000 --set protocol.epochs=1
run D models/small_lif_ba.ron --set 'network.error_pools=Lif(gain:2.0)' \
  --set 'record.traces=[(population:"hidden1",cells:[1,2],variables:[v,h,a,iota,delta])]'
run E models/deep_narrow_fa.ron --set trials=20 --set learning.depth=3
run F models/mnist_rate_bp_4layer.ron --set data.train_limit=3000 --set data.test_limit=1000 --set protocol.epochs=1 \
  --set 'network.cells=Rate(c1:0.82,steps:3)'
run G models/small_lif_ba.ron --set engine.first_layer=Direct --set learning.algorithm=DF \
  --set protocol.reset_between_examples=false
run H models/mnist_rate_ba_4layer.ron --set data.train_limit=3000 --set data.test_limit=1000 --set protocol.epochs=1
run I models/mnist_rate_df_depth1.ron --set data.train_limit=3000 --set data.test_limit=1000 --set protocol.epochs=1
echo "runs in $O"
