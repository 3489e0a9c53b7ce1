#!/usr/bin/env bash
# Create .venv (if missing or stale) with torch/torchvision first, at the pins that install offline on our machines,
# then this package in editable mode with its dev extras. Re-runs the package install when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv"
  "$PY" -m venv .venv
fi
if ! .venv/bin/python -c "import torch, torchvision" 2>/dev/null; then
  echo "== installing torch and torchvision (first, alone)"
  .venv/bin/pip install -q torch==2.14.1 torchvision==0.29.1 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c "import torch, torchvision" || { echo "torch/torchvision failed to install"; exit 1; }
fi
stamp=.venv/.bmsa-pyproject.sha
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! .venv/bin/python -c "import bmsa, nbdev, pytest" 2>/dev/null; then
  echo "== installing bmsa (editable) with its dev extras"
  .venv/bin/pip install -q -e ".[dev]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c "import bmsa, nbdev, pytest, fastai" || { echo "bmsa install failed"; exit 1; }
  echo "$want" > "$stamp"
fi
