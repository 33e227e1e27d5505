#!/usr/bin/env bash
# More seeds of the tutorial's own setting: every tutorial default (50 epochs at batch 256),
# with ReLU and with the tutorial's LeakyReLU (alpha 0.3) in the discriminator, one run at a
# time. docs/sample/ holds seed 0 of each; this adds the seeds given (default: 1).
#
#   bash docs/sample/seeds.sh [SEED ...]     (from the repository root)
#
# Each run is an ordinary run folder, runs/tutorial_seeds/tutorial_ACTIVATION_seedS, with a
# checkpoint after every epoch, so running the script again resumes an interrupted run and
# skips finished ones. Every run is evaluated every 5 epochs and at its end (N = 10,000) by the
# classifier that scored the studies (docs/study/classifier, a copy in runs/tutorial_seeds).
# The finished runs' small files then go into docs/sample/seeds/ with
#   python -m gan_tf.compare runs/tutorial_seeds/tutorial_* --out-dir docs/sample/seeds
set -euo pipefail
cd "$(dirname "$0")/../.."

seeds=("${@:-1}")
for seed in "${seeds[@]}"; do
  case "$seed" in *[!0-9]* | "") echo "seeds.sh: a seed is a whole number, got '$seed'" >&2; exit 2 ;; esac
done
data=${GAN_TF_DATA:-../shared/data/mnist}
out=runs/tutorial_seeds
mkdir -p "$out"
[ -d "$out/classifier" ] || cp -r docs/study/classifier "$out/classifier"

for seed in "${seeds[@]}"; do
  for activation in relu leaky_relu; do
    run="$out/tutorial_${activation}_seed$seed"
    [ -f "$run/evaluation.json" ] && continue
    python -m gan_tf.train --data "$data" --activation "$activation" --seed "$seed" \
      --eval-every 5 --cache-dir "$out/classifier" --checkpoint-every 1 --max-checkpoints 1 \
      --quiet --out-dir "$run"
    python -m gan_tf.evaluate "$run" --data "$data"
  done
done
