#!/usr/bin/env bash
# Akrout, Wilson, Humphreys, Lillicrap & Tweed (2019), "Deep learning without weight transport": the reference
# fully-connected protocol (SPEC §6.4) for every learner of models/akrout_mnist_*.ron, then the figures
# docs/figures/akrout_{accuracy,delta_angle,weight_angle}.png and the generated table of SPEC §6.5's pass bands in
# docs/results.md (scripts/akrout2019_report.py). Then the spiking part (SPEC §6.6): the same rules in the LIF
# 784-1000-10 network of models/mnist_lif_{kp,wm,ss}.ron (30 epochs, about 15 min each on two threads alone), one at
# a time after the rate runs, with the figures docs/figures/akrout_lif_{accuracy,weight_angle,delta_angle}.png and a
# second table against LIF-BA (not rerun: docs/runs/mnist_lif_ba-seed1-30epochs/ and the three seeds of Table 2).
# Last, LIF-KP in the 784-630-370-10 network at learning depth 3, Kolen-Pollack layer by layer
# (models/mnist_lif_kp_4layer.ron, learner lif_kp_4layer: about 70 min on two free threads, hours on a loaded machine),
# with the figures docs/figures/akrout_lif4_{accuracy,weight_angle,delta_angle}.png and a third table against LIF-BA
# 784-630-370-10 with γ = α (not rerun: docs/runs/table2/mnist_lif_ba_4layer_gamma_alpha-seed{1,2}/, mean 97.25 %).
#
#   bash scripts/akrout2019.sh                       # all six learners, 400 epochs (about 10 min each, one core),
#                                                    # then LIF-KP, LIF-WM, LIF-SS, LIF-KP 784-630-370-10, 30 epochs
#                                                    # each on two threads
#   LEARNERS="bp kp" EPOCHS=20 bash scripts/akrout2019.sh    # fewer learners, shorter runs (reported as overrides)
#   LANES=2 bash scripts/akrout2019.sh               # two rate runs at a time (one thread each)
#   LIF_LEARNERS="" bash scripts/akrout2019.sh       # the rate part only
#   LEARNERS="" LIF_LEARNERS="lif_kp" LIF_THREADS=4 LIF_EPOCHS=1 bash scripts/akrout2019.sh   # one short LIF run
#   LEARNERS="" LIF_LEARNERS="lif_kp_4layer" bash scripts/akrout2019.sh   # only the 4-layer LIF-KP, then the report
#   LIF_ALONGSIDE=1 bash scripts/akrout2019.sh       # the LIF runs (still one at a time) beside the rate lanes
#   REPORT_ONLY=1 bash scripts/akrout2019.sh         # figures and tables from the runs already there
#   REPORT_ONLY=1 OUT=/tmp/x FIGURES=/tmp/f RESULTS=/tmp/results.md bash scripts/akrout2019.sh   # elsewhere
#
# Re-launching skips finished runs (snnsim run --skip-finished). EPOCHS applies to the rate runs only, LIF_EPOCHS to
# the LIF runs only.
set -euo pipefail
cd "$(dirname "$0")/.."
SNNSIM=${SNNSIM:-target/release/snnsim}
OUT=${OUT:-output/akrout2019}
LEARNERS=${LEARNERS-"bp fa kp wm wm_reference ss"}   # "" skips the rate part
LANES=${LANES:-1}
LIF_LEARNERS=${LIF_LEARNERS-"lif_kp lif_wm lif_ss lif_kp_4layer"}   # "" skips the spiking part
LIF_THREADS=${LIF_THREADS:-2}
LIF_BASELINE=${LIF_BASELINE:-docs/runs/mnist_lif_ba-seed1-30epochs}   # LIF-BA, seed 1: not rerun
# LIF-BA 784-630-370-10 with γ = α, seed 1 (the report's row) first, then seed 2: not rerun, the baseline of lif_kp_4layer
LIF4_BASELINE=${LIF4_BASELINE:-"docs/runs/table2/mnist_lif_ba_4layer_gamma_alpha-seed1 docs/runs/table2/mnist_lif_ba_4layer_gamma_alpha-seed2 docs/runs/table2/mnist_lif_ba_4layer_gamma_alpha-seed3"}
FIGURES=${FIGURES:-docs/figures}
RESULTS=${RESULTS:-docs/results.md}
mkdir -p "$OUT" "$FIGURES"

# run LEARNER: one run folder OUT/LEARNER, quiet, skipping a finished one. A rate learner X runs
# models/akrout_mnist_X.ron on one thread (EPOCHS overrides its length); a LIF learner lif_X runs models/mnist_lif_X.ron
# on LIF_THREADS threads (LIF_EPOCHS overrides its length), lif_kp_4layer models/mnist_lif_kp_4layer.ron.
model_of() { if [[ $1 == lif_* ]]; then echo "models/mnist_$1.ron"; else echo "models/akrout_mnist_$1.ron"; fi; }
run() {
    local cmd=("$SNNSIM" run "$(model_of "$1")" --out "$OUT/$1" --skip-finished -q)
    if [[ $1 == lif_* ]]; then
        cmd+=(--threads "$LIF_THREADS")
        [[ -n "${LIF_EPOCHS:-}" ]] && cmd+=(--set "protocol.epochs=$LIF_EPOCHS")
    else
        cmd+=(--threads 1)
        [[ -n "${EPOCHS:-}" ]] && cmd+=(--set "protocol.epochs=$EPOCHS")
    fi
    echo "[$(date +%H:%M:%S)] ${cmd[*]}"
    "${cmd[@]}" || echo "run failed (exit $?): $1; its summary.json says why" >&2
}
# The LIF runs, one at a time.
run_lif() { for learner in $LIF_LEARNERS; do run "$learner"; done; }

if [[ -z "${REPORT_ONLY:-}" ]]; then
    [[ -x "$SNNSIM" ]] || { echo "no snnsim at $SNNSIM: cargo build --release first (or set SNNSIM)" >&2; exit 2; }
    for learner in $LEARNERS $LIF_LEARNERS; do
        [[ -f "$(model_of "$learner")" ]] || { echo "no $(model_of "$learner")" >&2; exit 2; }
    done
    # With LIF_ALONGSIDE=1 the LIF runs go in one job of their own beside the rate lanes (not counted in LANES).
    lif_pid=
    if [[ -n "${LIF_ALONGSIDE:-}" && -n "$LIF_LEARNERS" ]]; then
        run_lif &
        lif_pid=$!
    fi
    for learner in $LEARNERS; do
        while (( $(jobs -rp | grep -cvx "${lif_pid:-none}") >= LANES )); do wait -n || true; done
        run "$learner" &
    done
    wait
    [[ -n "$lif_pid" ]] || run_lif
fi

# figure NAME ARGS...: snnsim plot ... -o FIGURES/NAME, for the runs that exist.
figure() {
    local name=$1
    shift
    "$SNNSIM" plot "$@" -o "$FIGURES/$name" >/dev/null && echo "wrote $FIGURES/$name.png" ||
        echo "no figure $name (runs missing?)" >&2
}
runs=()
for learner in $LEARNERS; do [[ -f "$OUT/$learner/curve.csv" ]] && runs+=("$OUT/$learner"); done
if (( ${#runs[@]} )); then
    figure akrout_accuracy curve "${runs[@]}" --y-range 95:99
    # The angles of the learners with a feedback matrix (backprop's are 0): the hidden delta's angle to backprop's on
    # the first training image, as the reference logs it, and the angle between W2^T and B.
    aligned=()
    for r in "${runs[@]}"; do [[ -s "$r/alignment.csv" && "$r" != */bp ]] && aligned+=("$r"); done
    if (( ${#aligned[@]} )); then
        figure akrout_delta_angle alignment "${aligned[@]}" --angle probe --log-x
        figure akrout_weight_angle alignment "${aligned[@]}" --angle weight --log-x
    fi
fi

# The spiking part: the LIF runs that exist and LIF-BA's 30-epoch curve (seed 1) for scale, smoothed over 10 000
# training examples (a curve point is 100 random test images); the angles of the LIF runs (LIF-BA's run kept no
# alignment.csv): θ(W_outᵀ, B) and the hidden teaching signal's angle to backprop's. The 784-630-370-10 runs
# (lif_*_4layer) have figures of their own, below.
lif_runs=()
lif4_runs=()
for learner in $LIF_LEARNERS; do
    [[ -f "$OUT/$learner/curve.csv" ]] || continue
    if [[ $learner == *_4layer ]]; then lif4_runs+=("$OUT/$learner"); else lif_runs+=("$OUT/$learner"); fi
done
if (( ${#lif_runs[@]} )); then
    baseline=()
    [[ -f "$LIF_BASELINE/curve.csv" ]] && baseline=("$LIF_BASELINE")
    figure akrout_lif_accuracy curve "${baseline[@]}" "${lif_runs[@]}" --smooth 10000 --y-range 90:100 \
        --title "LIF 784-1000-10, depth 2: test accuracy"
    lif_aligned=()
    for r in "${lif_runs[@]}"; do [[ -s "$r/alignment.csv" ]] && lif_aligned+=("$r"); done
    if (( ${#lif_aligned[@]} )); then
        figure akrout_lif_weight_angle alignment "${lif_aligned[@]}" --angle weight \
            --title "LIF 784-1000-10: θ(W_outᵀ, B), output weights vs feedback"
        figure akrout_lif_delta_angle alignment "${lif_aligned[@]}" \
            --title "LIF 784-1000-10: angle of the hidden teaching signal to backprop's"
    fi
fi
# The 784-630-370-10 network, if its run exists: the LIF-KP run beside both seeds of LIF-BA with γ = α (one line each,
# --by-folder: seed 1 was made under another model name), the angles of both hidden layers: θ(Wᵀ, B) of the KP run
# (hidden1: W_2ᵀ vs B_FA(1), hidden2: W_outᵀ vs B_FA(2); LIF-BA's runs logged none) and the teaching signals' angles
# to backprop's of all.
if (( ${#lif4_runs[@]} )); then
    baseline4=()
    for b in $LIF4_BASELINE; do [[ -f "$b/curve.csv" ]] && baseline4+=("$b"); done
    figure akrout_lif4_accuracy curve "${baseline4[@]}" "${lif4_runs[@]}" --by-folder --smooth 10000 --y-range 90:100 \
        --title "LIF 784-630-370-10, depth 3: test accuracy"
    lif4_aligned=()
    for r in "${lif4_runs[@]}"; do [[ -s "$r/alignment.csv" ]] && lif4_aligned+=("$r"); done
    if (( ${#lif4_aligned[@]} )); then
        figure akrout_lif4_weight_angle alignment "${lif4_aligned[@]}" --by-folder --angle weight \
            --title "LIF 784-630-370-10: θ(Wᵀ, B) of W_2 (hidden1) and W_out (hidden2)"
        base4_aligned=()
        for b in "${baseline4[@]}"; do [[ -s "$b/alignment.csv" ]] && base4_aligned+=("$b"); done
        figure akrout_lif4_delta_angle alignment "${base4_aligned[@]}" "${lif4_aligned[@]}" --by-folder \
            --title "LIF 784-630-370-10: angle of the hidden teaching signals to backprop's"
    fi
fi
# shellcheck disable=SC2086  # LIF4_BASELINE: one argument per folder
python3 scripts/akrout2019_report.py "$OUT" "$RESULTS" "$FIGURES" "$LIF_BASELINE" $LIF4_BASELINE
