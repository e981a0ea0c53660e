#!/usr/bin/env bash
# Akrout, Wilson, Humphreys, Lillicrap & Tweed (2019), "Deep learning without weight transport": the reference
# fully-connected protocol (SPEC §6.4) for every learner of models/akrout_mnist_*.ron, then the figures
# docs/figures/akrout_{accuracy,delta_angle,weight_angle}.png and the generated table of SPEC §6.5's pass bands in
# docs/results.md (scripts/akrout2019_report.py). Then the spiking part (SPEC §6.6): the same rules in the LIF
# 784-1000-10 network of models/mnist_lif_{kp,wm,ss}.ron (30 epochs, about 15 min each on two threads alone), one at
# a time after the rate runs, with the figures docs/figures/akrout_lif_{accuracy,weight_angle,delta_angle}.png and a
# second table against LIF-BA (not rerun: docs/runs/mnist_lif_ba-seed1-30epochs/ and the three seeds of Table 2).
#
#   bash scripts/akrout2019.sh                       # all six learners, 400 epochs (about 10 min each, one core),
#                                                    # then LIF-KP, LIF-WM, LIF-SS, 30 epochs each on two threads
#   LEARNERS="bp kp" EPOCHS=20 bash scripts/akrout2019.sh    # fewer learners, shorter runs (reported as overrides)
#   LANES=2 bash scripts/akrout2019.sh               # two rate runs at a time (one thread each)
#   LIF_LEARNERS="" bash scripts/akrout2019.sh       # the rate part only
#   LEARNERS="" LIF_LEARNERS="lif_kp" LIF_THREADS=4 LIF_EPOCHS=1 bash scripts/akrout2019.sh   # one short LIF run
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
LIF_LEARNERS=${LIF_LEARNERS-"lif_kp lif_wm lif_ss"}   # "" skips the spiking part
LIF_THREADS=${LIF_THREADS:-2}
LIF_BASELINE=${LIF_BASELINE:-docs/runs/mnist_lif_ba-seed1-30epochs}   # LIF-BA, seed 1: not rerun
FIGURES=${FIGURES:-docs/figures}
RESULTS=${RESULTS:-docs/results.md}
mkdir -p "$OUT" "$FIGURES"

# run LEARNER: one run folder OUT/LEARNER, quiet, skipping a finished one. A rate learner X runs
# models/akrout_mnist_X.ron on one thread (EPOCHS overrides its length); a LIF learner lif_X runs models/mnist_lif_X.ron
# on LIF_THREADS threads (LIF_EPOCHS overrides its length).
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
# alignment.csv): θ(W_outᵀ, B) and the hidden teaching signal's angle to backprop's.
lif_runs=()
for learner in $LIF_LEARNERS; do [[ -f "$OUT/$learner/curve.csv" ]] && lif_runs+=("$OUT/$learner"); done
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
python3 scripts/akrout2019_report.py "$OUT" "$RESULTS" "$FIGURES" "$LIF_BASELINE"
