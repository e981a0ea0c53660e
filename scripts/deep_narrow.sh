#!/usr/bin/env bash
# The deep, narrow teacher task of Samadi et al. (2017) Figures 3 and 4 (SPEC §3): every algorithm (BP, FA, BA, DF
# nonspiking; LIF-BA) at every learning depth 1..9, each run holding all its trials (models/deep_narrow_*.ron:
# 500 trials for the nonspiking nets, 100 for LIF). Then one figure per algorithm (error against training examples,
# one band per depth, 2 SEM thick) in docs/figures/, and the table of final errors in docs/results.md.
#
#   bash scripts/deep_narrow.sh                     # everything
#   ALGS="bp fa" DEPTHS="8 9" bash scripts/deep_narrow.sh
#   TRIALS=20 OUT=/tmp/dn bash scripts/deep_narrow.sh   # a quick look with fewer trials
#   REPORT_ONLY=1 bash scripts/deep_narrow.sh       # figures and table from the runs already there
#
# Re-launching skips finished runs (snnsim run --skip-finished). The same runs as a cluster job array, one depth per
# array task (then draw them with: snnsim plot curve output/deep_narrow_bp/depth*_Mean_seed1 --error):
#   SWEEP_MODEL=models/deep_narrow_bp.ron SWEEP_DEPTHS="1 2 3 4 5 6 7 8 9" SWEEP_SEEDS=1 \
#   SWEEP_OUT=output/deep_narrow_bp sbatch --array=0-8 scripts/sweep.slurm        (DRY_RUN=1 bash ... to check)
set -euo pipefail
cd "$(dirname "$0")/.."
SNNSIM=${SNNSIM:-target/release/snnsim}
OUT=${OUT:-output/deep_narrow}
ALGS=${ALGS:-"bp fa ba df lif_ba"}
DEPTHS=${DEPTHS:-"1 2 3 4 5 6 7 8 9"}
THREADS=${THREADS:-}
FIGURES=${FIGURES:-docs/figures}
mkdir -p "$OUT" "$FIGURES"

if [[ -z "${REPORT_ONLY:-}" ]]; then
    [[ -x "$SNNSIM" ]] || { echo "no snnsim at $SNNSIM: cargo build --release first (or set SNNSIM)" >&2; exit 2; }
    for alg in $ALGS; do
        for depth in $DEPTHS; do
            cmd=("$SNNSIM" run "models/deep_narrow_$alg.ron" --set "learning.depth=$depth"
                 --out "$OUT/deep_narrow_$alg-depth$depth" --skip-finished -q)
            [[ -n "${TRIALS:-}" ]] && cmd+=(--set "trials=$TRIALS")
            [[ -n "$THREADS" ]] && cmd+=(--threads "$THREADS")
            echo "[$(date +%H:%M:%S)] ${cmd[*]}"
            "${cmd[@]}" || echo "run failed (exit $?): $alg depth $depth; its summary.json says why" >&2
        done
    done
fi

declare -A TITLE=(
    [bp]="Figure 3A: backprop, nonspiking"
    [fa]="Figure 3B: feedback alignment, nonspiking"
    [ba]="Figure 3C: broadcast alignment, nonspiking"
    [df]="Figure 3D: derivative-free, nonspiking (depths 1 and 9)"
    [lif_ba]="Figure 4: broadcast alignment, LIF"
)
for alg in $ALGS; do
    runs=()
    for depth in $DEPTHS; do
        [[ "$alg" == df && "$depth" != 1 && "$depth" != 9 ]] && continue # the paper shows DF's two extremes
        d="$OUT/deep_narrow_$alg-depth$depth"
        [[ -f "$d/trial_curves.csv" || -f "$d/curve.csv" ]] && runs+=("$d")
    done
    if (( ${#runs[@]} )); then
        "$SNNSIM" plot curve "${runs[@]}" --error --title "${TITLE[$alg]} (mean ± 2 SEM over trials)" \
            -o "$FIGURES/deep_narrow_$alg"
    fi
done
python3 scripts/deep_narrow_report.py "$OUT" docs/results.md
