#!/usr/bin/env bash
# Reproduces Samadi et al. (2017) Table 2: every row of scripts/table2_rows.tsv (name, model file, overrides) with each
# seed, one run folder $OUT/<name>-seed<N> per (row, seed), then writes the table (mean and range next to the paper's
# number, epochs, wall time, commit, command) into docs/results.md between the `table2` markers, reading the runs
# from $OUT and from docs/runs/table2 (the runs kept in the repository), and draws Figure 5 (learning curves of the
# LIF rows) and the stepped nonspiking rows' curves into docs/figures/.
#
#   bash scripts/table2.sh                          # every row (paper's 13 and the variants), seeds 1 2 3
#   KIND=rate bash scripts/table2.sh                # the paper's 10 nonspiking rows only (stepped nets)
#   KIND=lif bash scripts/table2.sh                 # the paper's 3 LIF rows only
#   KIND=variants bash scripts/table2.sh            # the variant rows (kinds *-variant and rate-onestep)
#   ONLY="mnist_stepped_bp mnist_lif_ba" SEEDS="1" bash scripts/table2.sh   # rows by name
#   REPORT_ONLY=1 bash scripts/table2.sh            # rebuild the table and figures from the runs already there
#   NO_REPORT=1 bash scripts/table2.sh              # runs only: leave docs/ alone (a queue in the background)
#
# Interrupt it at any time and start it again: finished runs are skipped (those in $OUT, and those kept in
# docs/runs/table2, so a fresh clone runs only what is missing), interrupted ones resumed from their checkpoints
# (snnsim run --skip-finished). Two copies may run at once (one per core, THREADS=1): each skips the run
# the other is running (its folder is locked) and goes on to the next.
set -euo pipefail
cd "$(dirname "$0")/.."
SNNSIM=${SNNSIM:-target/release/snnsim}
OUT=${OUT:-output/table2}
KEPT=docs/runs/table2
SEEDS=${SEEDS:-"1 2 3"}
KIND=${KIND:-all}
ONLY=${ONLY:-}
THREADS=${THREADS:-}
ROWS=scripts/table2_rows.tsv
mkdir -p "$OUT"

case "$KIND" in
    all | rate | lif | variants) ;;
    *) echo "KIND must be all, rate, lif or variants (got $KIND)" >&2; exit 2 ;;
esac
selected() { # selected KIND_OF_ROW: does $KIND take a row of this kind?
    case "$KIND" in
        all) return 0 ;;
        variants) [[ "$1" == *-variant || "$1" == rate-onestep ]] ;;
        *) [[ "$1" == "$KIND" ]] ;;
    esac
}

if [[ -z "${REPORT_ONLY:-}" ]]; then
    [[ -x "$SNNSIM" ]] || { echo "no snnsim at $SNNSIM: cargo build --release first (or set SNNSIM)" >&2; exit 2; }
    while IFS=$'\t' read -r name model overrides paper range kind row of; do
        [[ -z "$name" || "$name" == \#* ]] && continue
        selected "$kind" || continue
        [[ -n "$ONLY" && " $ONLY " != *" $name "* ]] && continue
        sets=()
        if [[ "$overrides" != - ]]; then
            for o in $overrides; do sets+=(--set "$o"); done
        fi
        for seed in $SEEDS; do
            # A run kept in the repository is finished: a fresh clone, or an emptied $OUT, does not run it again.
            if grep -q '"status": *"finished"' "$KEPT/$name-seed$seed/summary.json" 2>/dev/null; then
                echo "[$(date +%H:%M:%S)] $name seed $seed: finished, kept in $KEPT/$name-seed$seed"
                continue
            fi
            cmd=("$SNNSIM" run "models/$model.ron" ${sets[@]+"${sets[@]}"} --seed "$seed" --out "$OUT/$name-seed$seed" --skip-finished -q)
            [[ -n "$THREADS" ]] && cmd+=(--threads "$THREADS")
            echo "[$(date +%H:%M:%S)] ${cmd[*]}"
            "${cmd[@]}" </dev/null || echo "run failed (exit $?): $name seed $seed; its summary.json says why" >&2
        done
    done < "$ROWS"
fi

[[ -n "${NO_REPORT:-}" ]] && exit 0
python3 scripts/table2_report.py docs/results.md README.md "$ROWS" "$OUT" "$KEPT"

# The finished runs <name>-seed<N> of the given rows with a curve.csv, one per folder name: $OUT's copy, else the
# kept one (the same choice as table2_report.py when both are finished).
finished() { grep -q '"status": *"finished"' "$1/summary.json" 2>/dev/null && [[ -f "$1/curve.csv" ]]; }
curve_runs() {
    local name d base
    declare -A seen=()
    for name in "$@"; do
        for d in "$OUT/$name"-seed* "$KEPT/$name"-seed*; do
            base=${d##*/}
            [[ "$base" =~ ^"$name"-seed[0-9]+$ ]] || continue
            [[ -n "${seen[$base]:-}" ]] && continue
            finished "$d" && { seen[$base]=1; echo "$d"; }
        done
    done
}
rows_of_kind() { awk -F'\t' -v k="$1" '!/^#/ && $6 == k { print $1 }' "$ROWS"; }

# Figure 5: the paper's three LIF rows' learning curves, seeds averaged, ±2 SEM. 1800 points of 100-image accuracy per
# run are a noise of ±3 points: a moving average over 30 000 examples (half an epoch) and the range where the three
# rows differ make the bands readable.
mapfile -t lif_runs < <(curve_runs mnist_lif_ba_4layer_gamma_alpha mnist_lif_ba mnist_lif_ba_depth1)
if (( ${#lif_runs[@]} )); then
    "$SNNSIM" plot curve "${lif_runs[@]}" --by-folder --title "Figure 5: LIF-BA on MNIST (mean ± 2 SEM across seeds)" \
        --smooth 30000 --y-range 85:100 -o docs/figures/figure5_lif
fi
# The paper's nonspiking rows (stepped like a LIF presentation), a figure per network and a line per seed: a seed
# that loses a class runs about ten points below one that does not, and a mean with its band across the seeds would
# hide both (and when a lost class comes back).
stepped_figure() { # stepped_figure NAME TITLE ROW...
    local name=$1 title=$2 runs
    shift 2
    mapfile -t runs < <(curve_runs "$@")
    (( ${#runs[@]} )) || return 0
    "$SNNSIM" plot curve "${runs[@]}" --each --title "$title" --smooth 30000 --y-range 60:100 -o "docs/figures/$name"
}
stepped_figure table2_stepped_depth1 "Table 2 rows 1-2: nonspiking 784-1000-10, depth 1, stepped, each seed" \
    mnist_stepped_ba_depth1 mnist_stepped_df_depth1
stepped_figure table2_stepped_depth2 "Table 2 rows 3-6: nonspiking 784-1000-10, depth 2, stepped, each seed" \
    mnist_stepped_bp mnist_stepped_fa mnist_stepped_ba mnist_stepped_df
stepped_figure table2_stepped_4layer "Table 2 rows 7-10: nonspiking 784-630-370-10, stepped, each seed" \
    mnist_stepped_bp_4layer mnist_stepped_fa_4layer mnist_stepped_ba_4layer mnist_stepped_df_4layer
# The earlier one-step nonspiking nets, where their curve.csv is at hand (the kept copies have none).
mapfile -t rate_runs < <(curve_runs $(rows_of_kind rate-onestep))
if (( ${#rate_runs[@]} )); then
    "$SNNSIM" plot curve "${rate_runs[@]}" --by-folder -o docs/figures/table2_rate_curves
fi
