#!/usr/bin/env bash
# Trains study v3 exactly as docs/study/v3/plan.md fixes it, one run at a time, and logs each run.
#
#   bash docs/study/v3/run.sh [--stage 1|2]      (from the repository root; default: stage 1)
#
# Every run is an ordinary `python -m gan_tf.train` run folder under runs/study_v3/runs/NAME.
# Run the script again to go on: finished runs are skipped, an interrupted one resumes from
# its last checkpoint (one per epoch). Each start and finish is appended to
# docs/study/v3/log.csv with the commit that fixed the plan, so the report can show that every
# run trained after it. The script refuses to start while plan.md is not committed, or differs
# above its Deviations section from the commit that added it (check_plan.sh).
set -euo pipefail
cd "$(dirname "$0")/../../.."

stage=1
if [ "${1:-}" = "--stage" ]; then stage=${2:?--stage needs 1 or 2}; fi
case "$stage" in 1 | 2) ;; *) echo "run.sh: --stage must be 1 or 2, got $stage" >&2; exit 2 ;; esac

plan_commit=$(bash docs/study/v3/check_plan.sh) || exit 2

data=${GAN_TF_DATA:-../shared/data/mnist}
out=runs/study_v3
log=docs/study/v3/log.csv
[ -f "$log" ] || echo "run,event,utc,plan_commit,cpu" > "$log"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//; s/,/ /g')
mkdir -p "$out"
# The classifier that scored study v2 scores v3 as well: one yardstick for both.
[ -d "$out/classifier" ] || cp -r docs/study/classifier "$out/classifier"

seeds=(10 11 12 13 14 15)
# Arms as "activation alpha dropout lr": stage 1 is the primary family; stage 2 the
# exploratory arms, in the plan's order (each arm gets every seed or none). Learning rates
# are written as study v2's run names write them.
if [ "$stage" = 1 ]; then
  arms=("relu 0.3 0.3 0.0002" "leaky_relu 0.2 0.3 0.0002" "leaky_relu 0.3 0.3 0.0002")
else
  arms=("relu 0.3 0 0.0002" "leaky_relu 0.2 0 0.0002" "relu 0.3 0.3 0.001"
        "leaky_relu 0.2 0.3 0.001" "leaky_relu 0.01 0.3 0.0002")
fi

name_of() {  # activation alpha dropout lr seed -> the run folder's name
  local name=$1
  [ "$1" = relu ] || name="${1}_$2"
  name="${name}_lr$4_b0.5"
  [ "$3" = 0.3 ] || name="${name}_d$3"
  echo "${name}_seed$5"
}

for seed in "${seeds[@]}"; do  # seed-major, so a cut-off study still holds complete pairs
  for arm in "${arms[@]}"; do
    read -r activation alpha dropout lr <<< "$arm"
    name=$(name_of "$activation" "$alpha" "$dropout" "$lr" "$seed")
    dir="$out/runs/$name"
    if [ -f "$dir/metrics.csv" ] && [ "$(($(wc -l < "$dir/metrics.csv") - 1))" -ge 16 ] \
      && [ -f "$dir/generator.keras" ]; then
      continue
    fi
    echo "$name,start,$(date -u +%Y-%m-%dT%H:%M:%SZ),$plan_commit,$cpu" >> "$log"
    python -m gan_tf.train --data "$data" --activation "$activation" --alpha "$alpha" \
      --dropout "$dropout" --gen-lr "$lr" --disc-lr "$lr" --beta1 0.5 --batch-size 64 \
      --epochs 16 --max-steps-per-epoch 250 --seed "$seed" --eval-every 1 --eval-n 5000 \
      --cache-dir "$out/classifier" --checkpoint-every 1 --max-checkpoints 1 --quiet \
      --out-dir "$dir"
    echo "$name,finish,$(date -u +%Y-%m-%dT%H:%M:%SZ),$plan_commit,$cpu" >> "$log"
  done
done
echo "study v3, stage $stage: every run finished"
