#!/usr/bin/env bash
# The main job: set up the environment if needed, then train a sparse MLP on Fashion-MNIST for a few epochs.
# Arguments replace the defaults below (see `.venv/bin/bmsa-train --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
if [ -z "${BMSA_DATA:-}" ] && [ -d ../shared/data ]; then export BMSA_DATA="$(cd ../shared/data && pwd)"; fi
if [ $# -eq 0 ]; then set -- --dataset fashion_mnist --method bmsa --epochs 3; fi
exec .venv/bin/bmsa-train "$@"
