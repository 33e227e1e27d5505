#!/usr/bin/env bash
# Copies the small files of every finished study-v3 run into docs/study/v3/runs/ (to commit),
# with the run log: config.json, metrics.csv, the last progress grid, and for seed 10 every
# grid. Checkpoints and the rest of a run folder stay where they are.
#
#   bash docs/study/v3/archive.sh [ROOT]   (ROOT: the checkout that trains the study;
#                                           default: this one)
set -euo pipefail
here="$(cd "$(dirname "$0")/../../.." && pwd)"
root="$(cd "${1:-$here}" && pwd)"
source_runs="$root/runs/study_v3/runs"
target="$here/docs/study/v3/runs"
mkdir -p "$target"
for run in "$source_runs"/*/; do
  name=$(basename "$run")
  [ -f "$run/metrics.csv" ] || continue
  rows=$(($(wc -l < "$run/metrics.csv") - 1))
  [ "$rows" -ge 16 ] && [ -f "$run/generator.keras" ] || continue
  mkdir -p "$target/$name"
  cp "$run/config.json" "$run/metrics.csv" "$run/image_at_epoch_0016.png" "$target/$name/"
  case "$name" in *_seed10) cp "$run"/image_at_epoch_*.png "$target/$name/" ;; esac
done
[ "$root" = "$here" ] || cp "$root/docs/study/v3/log.csv" "$here/docs/study/v3/log.csv"
ls "$target"
