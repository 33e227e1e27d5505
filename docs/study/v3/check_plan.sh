#!/usr/bin/env bash
# Prints the commit that fixed study v3's plan (the one that added docs/study/v3/plan.md), or
# refuses, exit 2, when the plan is not committed as it stands or when anything above its
# "Deviations" heading differs from that commit: the plan lets only that section change once
# a run has started. run.sh runs it before every start.
#
#   bash docs/study/v3/check_plan.sh      (from the repository root)
set -euo pipefail
plan=docs/study/v3/plan.md
commit=$(git log --diff-filter=A --format=%H -- "$plan" | tail -n 1)
above_deviations() { sed '/^## Deviations/,$d'; }
if [ -z "$commit" ] || ! git diff --quiet HEAD -- "$plan" \
  || ! cmp -s <(git show "$commit:$plan" | above_deviations) <(above_deviations < "$plan"); then
  echo "check_plan.sh: $plan must be committed, and unchanged above its Deviations, before any v3 run" >&2
  exit 2
fi
echo "$commit"
