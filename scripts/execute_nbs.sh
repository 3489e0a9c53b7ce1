#!/usr/bin/env bash
# Run notebooks (all of nbs/, or the ones given) as the tests do (cells flagged slow skipped) and save their outputs
# into them, then clean their metadata: the docs that Quarto renders show committed outputs.
#   bash scripts/execute_nbs.sh [nbs/04_set.ipynb ...]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${BMSA_DATA:-}" ] && [ -d ../shared/data ]; then export BMSA_DATA="$(cd ../shared/data && pwd)"; fi
export MPLBACKEND=Agg OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
notebooks=("$@"); [ ${#notebooks[@]} -eq 0 ] && notebooks=(nbs/[0-9i]*.ipynb)
for nb in "${notebooks[@]}"; do
  echo "== $nb"
  .venv/bin/nbdev-test --save "$nb"
  .venv/bin/nbdev-clean --fname "$nb"
done
