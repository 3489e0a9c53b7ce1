#!/usr/bin/env bash
# Docs check: render the documentation pages to HTML with their outputs and check them in headless Chromium (see
# scripts/docs_check.py). Installs what it needs on first use (nbconvert, chromium, MathJax); quick once installed.
# Arguments go to docs_check.py, e.g. `scripts/docs_check.sh --pages index 06_bmsa --execute all`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup_env.sh
if [ -z "${BMSA_DATA:-}" ] && [ -d ../shared/data ]; then export BMSA_DATA="$(cd ../shared/data && pwd)"; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} MPLBACKEND=Agg

# _proc/ is nbdev-proc-nbs's output (incremental: only changed notebooks are processed again).
bash scripts/proc_nbs.sh
exec .venv/bin/python scripts/docs_check.py "$@"
