#!/usr/bin/env bash
# Lillicrap, Cownden, Tweed & Akerman (2016), "Random synaptic feedback weights support error backpropagation for deep
# learning": every experiment of SPEC §5.1-5.5 that snnsim runs, then the figures in docs/figures/lillicrap_fig*.png
# and the generated table of SPEC §5.6's targets in docs/results.md (scripts/lillicrap2016_report.py).
#
#   bash scripts/lillicrap2016.sh                          # everything (MNIST: 20 runs x 4 learners, days on 2 cores)
#   PARTS="linear deep quadratic" bash scripts/lillicrap2016.sh      # the regression tasks (about 10 minutes)
#   PARTS=mnist MNIST_TRIALS=1 MNIST_EPOCHS=5 bash scripts/lillicrap2016.sh   # one short MNIST run per learner
#   REPORT_ONLY=1 bash scripts/lillicrap2016.sh            # figures and table from the runs already there
#
# Re-launching skips finished runs (snnsim run --skip-finished). Each run is one model file of models/lillicrap_*.ron,
# unchanged but for MNIST_TRIALS / MNIST_EPOCHS, which the table reports as overrides.
set -euo pipefail
cd "$(dirname "$0")/.."
SNNSIM=${SNNSIM:-target/release/snnsim}
OUT=${OUT:-output/lillicrap2016}
PARTS=${PARTS:-"linear deep quadratic mnist"}
THREADS=${THREADS:-}
FIGURES=${FIGURES:-docs/figures}
mkdir -p "$OUT" "$FIGURES"

# run NAME MODEL [--set FIELD=VALUE ...]: one run folder OUT/NAME.
run() {
    local name=$1 model=$2
    shift 2
    local cmd=("$SNNSIM" run "$model" --out "$OUT/$name" --skip-finished -q "$@")
    [[ -n "$THREADS" ]] && cmd+=(--threads "$THREADS")
    echo "[$(date +%H:%M:%S)] ${cmd[*]}"
    "${cmd[@]}" || echo "run failed (exit $?): $name; its summary.json says why" >&2
}

if [[ -z "${REPORT_ONLY:-}" ]]; then
    [[ -x "$SNNSIM" ]] || { echo "no snnsim at $SNNSIM: cargo build --release first (or set SNNSIM)" >&2; exit 2; }
    for part in $PARTS; do
        case $part in
            linear)
                for l in bp fa np shallow; do run "linear_$l" "models/lillicrap_linear_$l.ron"; done ;;
            deep)
                for l in 3layer_bp 3layer_fa 4layer_bp 4layer_fa shallow; do
                    run "deep_$l" "models/lillicrap_deep_fit_$l.ron"
                done ;;
            quadratic)
                for l in fa phases; do run "quadratic_$l" "models/lillicrap_quadratic_$l.ron"; done ;;
            mnist)
                sets=()
                [[ -n "${MNIST_TRIALS:-}" ]] && sets+=(--set "trials=$MNIST_TRIALS")
                [[ -n "${MNIST_EPOCHS:-}" ]] && sets+=(--set "protocol.epochs=$MNIST_EPOCHS")
                for l in bp fa fa_sparse shallow; do run "mnist_$l" "models/lillicrap_mnist_$l.ron" "${sets[@]}"; done ;;
            *) echo "unknown part $part (linear, deep, quadratic, mnist)" >&2; exit 2 ;;
        esac
    done
fi

# figure NAME ARGS...: snnsim plot ... -o FIGURES/NAME, for the runs that exist.
figure() {
    local name=$1
    shift
    "$SNNSIM" plot "$@" -o "$FIGURES/$name" >/dev/null && echo "wrote $FIGURES/$name.png" ||
        echo "no figure $name (runs missing?)" >&2
}
have() { for r in "$@"; do [[ -f "$OUT/$r/summary.json" ]] || return 1; done; }

if have linear_bp linear_fa linear_np linear_shallow; then
    figure lillicrap_fig2a curve --nse --each --log-x "$OUT"/linear_{shallow,np,bp,fa} \
        --title "Lillicrap 2016 Fig 2a: linear 30-20-10 task, NSE on 1000 held-out examples"
fi
if have linear_fa; then
    figure lillicrap_fig2b alignment "$OUT/linear_fa" --angle folded --spread --log-x \
        --title "Lillicrap 2016 Fig 2b: angle of FA's hidden update to BP's (mean +- 2 SD, windows of 10)"
fi
if have deep_3layer_bp deep_3layer_fa deep_4layer_bp deep_4layer_fa deep_shallow; then
    figure lillicrap_fig3d curve --nse "$OUT"/deep_{shallow,3layer_bp,3layer_fa,4layer_bp,4layer_fa} \
        --title "Lillicrap 2016 Fig 3d: fitting a 30-20-10-10 tanh teacher (20 runs each)"
fi
if have quadratic_fa; then
    figure lillicrap_fig5a alignment "$OUT/quadratic_fa" --angle unit \
        --title "Lillicrap 2016 Fig 5a: mean angle between each hidden unit's W[:, j] and B[j, :]"
fi
if have quadratic_fa quadratic_phases; then
    figure lillicrap_fig5c curve --nse --each "$OUT/quadratic_phases" "$OUT/quadratic_fa" \
        --title "Lillicrap 2016 Fig 5c: W0 alone, then W alone, then W0 again (2e4 examples each)"
fi
mnist=()
for l in shallow bp fa fa_sparse; do have "mnist_$l" && mnist+=("$OUT/mnist_$l"); done
if ((${#mnist[@]})); then
    figure lillicrap_fig3a curve --error --y-range 0:20 "${mnist[@]}" \
        --title "Lillicrap 2016 Fig 3a: MNIST 784-1000-10, test error"
fi
if have mnist_fa; then
    figure lillicrap_fig3b alignment "$OUT/mnist_fa" --angle folded \
        --title "Lillicrap 2016 Fig 3b: angle of FA's hidden update to BP's on MNIST"
fi
python3 scripts/lillicrap2016_report.py "$OUT" docs/results.md
