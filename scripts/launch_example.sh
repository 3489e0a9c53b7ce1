#!/usr/bin/env bash
# Data-parallel bmsa-train, as in the docs page "Training on several GPUs or machines" (issue 13):
#   1. NPROC processes train BMSA for 2 epochs into a new run folder (torchrun);
#   2. the same number resumes it to 3 epochs, launched by `accelerate launch` this time;
#   3. one plain process resumes it to 4 epochs.
# On GPUs each process takes one GPU (NCCL); on CPUs the processes use gloo. Usage:
#   scripts/launch_example.sh [NPROC] [RUN_DIR] [extra bmsa-train options, e.g. --backend masked]
set -euo pipefail
cd "$(dirname "$0")/.."
NPROC=${1:-2}; RUN=${2:-$(mktemp -d)/bmsa-distributed}; shift $(( $# < 2 ? $# : 2 ))
if [ -z "${BMSA_DATA:-}" ] && [ -d ../shared/data ]; then export BMSA_DATA="$(cd ../shared/data && pwd)"; fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
TRAIN=.venv/bin/bmsa-train
run() { echo; echo "\$ $*"; "$@" 2> >(grep -v -i 'warn' >&2); }
run .venv/bin/torchrun --standalone --nproc_per_node "$NPROC" "$TRAIN" --method bmsa --backend sparse --epochs 2 \
    --n-train 1000 --n-valid 500 --bs 100 --out "$RUN" "$@"
run .venv/bin/accelerate launch --multi_gpu --num_processes "$NPROC" --num_machines 1 --mixed_precision no \
    --dynamo_backend no "$TRAIN" --resume "$RUN" --epochs 3
run "$TRAIN" --resume "$RUN" --epochs 4
echo; echo "\$ cat $RUN/log.csv | cut -d, -f1-5"; cut -d, -f1-5 "$RUN/log.csv"
