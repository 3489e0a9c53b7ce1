#!/usr/bin/env bash
# The whole test suite: environment, notebooks/library in sync, every notebook and tests/ under pytest, docs smoke test.
# Extra arguments go to pytest (e.g. `scripts/test.sh --flags slow` also runs the slow cells).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
if [ -z "${BMSA_DATA:-}" ] && [ -d ../shared/data ]; then export BMSA_DATA="$(cd ../shared/data && pwd)"; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MPLBACKEND=Agg

echo "== nbdev-clean and nbdev-export must leave the tree unchanged"
snapshot() { git status --porcelain; git diff; }
before=$(snapshot)
.venv/bin/nbdev-clean
.venv/bin/nbdev-export
after=$(snapshot)
if [ "$before" != "$after" ]; then
  echo "ERROR: nbdev-clean/nbdev-export changed files: the notebooks were not clean, or bmsa/ was out of step with nbs/."
  echo "Run '.venv/bin/nbdev-clean && .venv/bin/nbdev-export' and commit the result. Changed:"
  diff <(echo "$before") <(echo "$after") | head -40 || true
  exit 1
fi

echo "== pytest: notebooks and tests/"
.venv/bin/python -m pytest tests -q -p no:cacheprovider "$@"

echo "== docs smoke test: nbdev-proc-nbs"
rm -rf _proc
bash scripts/proc_nbs.sh
test -f _proc/index.ipynb || { echo "ERROR: nbdev-proc-nbs did not produce _proc/index.ipynb"; exit 1; }
echo "== docs check: pages rendered with outputs, checked in headless Chromium"
bash scripts/docs_check.sh
echo "== all tests passed"
