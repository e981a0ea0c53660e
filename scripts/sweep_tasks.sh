#!/usr/bin/env bash
# The task list of a sweep, shared by sweep_local.sh, sweep_parallel.sh and sweep.slurm so that all three run exactly
# the same commands. Edit the lists below (or set them in the environment) to define your sweep.
#
#   source scripts/sweep_tasks.sh
#   sweep_count            # number of tasks
#   sweep_command 7        # the command of task 7 (0-based), one line, ready for eval
#
# Every task writes its own run folder, named from its overrides and seed, under $SWEEP_OUT. Runs use
# --skip-finished: re-launching a sweep skips finished runs and resumes interrupted ones from their checkpoints.

SWEEP_MODEL=${SWEEP_MODEL:-models/small_lif_ba.ron}
SWEEP_OUT=${SWEEP_OUT:-output/sweep}
SWEEP_SNNSIM=${SWEEP_SNNSIM:-snnsim}
# Space-separated values; the sweep is their Cartesian product.
SWEEP_DEPTHS=${SWEEP_DEPTHS:-"1 2"}
SWEEP_REDUCTIONS=${SWEEP_REDUCTIONS:-"Mean"}
SWEEP_SEEDS=${SWEEP_SEEDS:-"1 2 3"}
# Extra arguments for every run, e.g. "--set protocol.epochs=1 --threads 1".
SWEEP_EXTRA=${SWEEP_EXTRA:-"--threads 1"}

read -r -a _depths <<< "$SWEEP_DEPTHS"
read -r -a _reductions <<< "$SWEEP_REDUCTIONS"
read -r -a _seeds <<< "$SWEEP_SEEDS"

sweep_count() {
    echo $(( ${#_depths[@]} * ${#_reductions[@]} * ${#_seeds[@]} ))
}

sweep_command() {
    local id=$1 n_s=${#_seeds[@]} n_r=${#_reductions[@]}
    if (( id < 0 || id >= $(sweep_count) )); then
        echo "sweep_command: task $id out of range 0..$(( $(sweep_count) - 1 ))" >&2
        return 2
    fi
    local seed=${_seeds[$(( id % n_s ))]}
    local reduction=${_reductions[$(( id / n_s % n_r ))]}
    local depth=${_depths[$(( id / (n_s * n_r) ))]}
    local name="depth${depth}_${reduction}_seed${seed}"
    echo "$SWEEP_SNNSIM run $SWEEP_MODEL --set learning.depth=$depth --set learning.batch_reduction=$reduction" \
         "--seed $seed --out $SWEEP_OUT/$name --skip-finished -q $SWEEP_EXTRA"
}
