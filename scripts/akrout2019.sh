#!/usr/bin/env bash
# Akrout, Wilson, Humphreys, Lillicrap & Tweed (2019), "Deep learning without weight transport": the reference
# fully-connected protocol (SPEC §6.4) for every learner of models/akrout_mnist_*.ron, then the figures
# docs/figures/akrout_{accuracy,delta_angle,weight_angle}.png and the generated table of SPEC §6.5's pass bands in
# docs/results.md (scripts/akrout2019_report.py).
#
#   bash scripts/akrout2019.sh                       # all six learners, 400 epochs (about 10 min each, one core)
#   LEARNERS="bp kp" EPOCHS=20 bash scripts/akrout2019.sh    # fewer learners, shorter runs (reported as overrides)
#   LANES=2 bash scripts/akrout2019.sh               # two runs at a time (one thread each)
#   REPORT_ONLY=1 bash scripts/akrout2019.sh         # figures and table from the runs already there
#
# Re-launching skips finished runs (snnsim run --skip-finished).
set -euo pipefail
cd "$(dirname "$0")/.."
SNNSIM=${SNNSIM:-target/release/snnsim}
OUT=${OUT:-output/akrout2019}
LEARNERS=${LEARNERS:-"bp fa kp wm wm_reference ss"}
LANES=${LANES:-1}
FIGURES=${FIGURES:-docs/figures}
mkdir -p "$OUT" "$FIGURES"

# run LEARNER: one run folder OUT/LEARNER from models/akrout_mnist_LEARNER.ron, on one thread.
run() {
    local cmd=("$SNNSIM" run "models/akrout_mnist_$1.ron" --out "$OUT/$1" --skip-finished -q --threads 1)
    [[ -n "${EPOCHS:-}" ]] && cmd+=(--set "protocol.epochs=$EPOCHS")
    echo "[$(date +%H:%M:%S)] ${cmd[*]}"
    "${cmd[@]}" || echo "run failed (exit $?): $1; its summary.json says why" >&2
}

if [[ -z "${REPORT_ONLY:-}" ]]; then
    [[ -x "$SNNSIM" ]] || { echo "no snnsim at $SNNSIM: cargo build --release first (or set SNNSIM)" >&2; exit 2; }
    for learner in $LEARNERS; do
        [[ -f "models/akrout_mnist_$learner.ron" ]] || { echo "no models/akrout_mnist_$learner.ron" >&2; exit 2; }
        while (( $(jobs -rp | wc -l) >= LANES )); do wait -n; done
        run "$learner" &
    done
    wait
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
python3 scripts/akrout2019_report.py "$OUT" docs/results.md
