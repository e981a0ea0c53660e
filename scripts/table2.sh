#!/usr/bin/env bash
# Reproduces Samadi et al. (2017) Table 2: every row of scripts/table2_rows.tsv with each seed, one run folder per
# (row, seed) under $OUT, then writes the table (mean and range next to the paper's number, wall time, commit,
# command) into docs/results.md between the `table2` markers, and Figure 5 (learning curves) into docs/figures/.
#
#   bash scripts/table2.sh                          # all 13 rows, seeds 1 2 3
#   KIND=rate bash scripts/table2.sh                # the 10 nonspiking rows only (KIND=lif: the 3 LIF rows)
#   ONLY=mnist_rate_bp SEEDS="1" bash scripts/table2.sh
#   REPORT_ONLY=1 bash scripts/table2.sh            # rebuild the table and figure from the runs already there
#
# Interrupt it at any time and start it again: finished runs are skipped, interrupted ones resumed from their
# checkpoints (snnsim run --skip-finished).
set -euo pipefail
cd "$(dirname "$0")/.."
SNNSIM=${SNNSIM:-target/release/snnsim}
OUT=${OUT:-output/table2}
SEEDS=${SEEDS:-"1 2 3"}
KIND=${KIND:-all}
ONLY=${ONLY:-}
THREADS=${THREADS:-}
mkdir -p "$OUT"

if [[ -z "${REPORT_ONLY:-}" ]]; then
    [[ -x "$SNNSIM" ]] || { echo "no snnsim at $SNNSIM: cargo build --release first (or set SNNSIM)" >&2; exit 2; }
    while IFS=$'\t' read -r model paper range kind row; do
        [[ -z "$model" || "$model" == \#* ]] && continue
        [[ "$KIND" != all && "$KIND" != "$kind" ]] && continue
        [[ -n "$ONLY" && " $ONLY " != *" $model "* ]] && continue
        for seed in $SEEDS; do
            cmd=("$SNNSIM" run "models/$model.ron" --seed "$seed" --out "$OUT/$model-seed$seed" --skip-finished -q)
            [[ -n "$THREADS" ]] && cmd+=(--threads "$THREADS")
            echo "[$(date +%H:%M:%S)] ${cmd[*]}"
            "${cmd[@]}" || echo "run failed (exit $?): $model seed $seed; its summary.json says why" >&2
        done
    done < scripts/table2_rows.tsv
fi

python3 scripts/table2_report.py "$OUT" scripts/table2_rows.tsv docs/results.md
# Figure 5: the finished LIF rows' learning curves, seeds averaged, ±2 SEM.
finished() { grep -q '"status": "finished"' "$1/summary.json" 2>/dev/null; }
lif_runs=()
for m in mnist_lif_ba_4layer mnist_lif_ba mnist_lif_ba_depth1; do
    for d in "$OUT/$m"-seed*; do
        finished "$d" && lif_runs+=("$d")
    done
done
if (( ${#lif_runs[@]} )); then
    # 1800 points of 100-image accuracy per run are a noise of ±3 points: a moving average over 30 000 examples (half
    # an epoch) and the range where the three rows differ make the bands readable.
    "$SNNSIM" plot curve "${lif_runs[@]}" --title "Figure 5: LIF-BA on MNIST (mean ± 2 SEM across seeds)" \
        --smooth 30000 --y-range 85:100 -o docs/figures/figure5_lif
fi
rate_runs=()
for d in "$OUT"/mnist_rate_*-seed*; do
    finished "$d" && rate_runs+=("$d")
done
if (( ${#rate_runs[@]} )); then
    "$SNNSIM" plot curve "${rate_runs[@]}" -o docs/figures/table2_rate_curves
fi
