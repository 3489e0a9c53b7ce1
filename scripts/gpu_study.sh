#!/usr/bin/env bash
# Fashion-MNIST study runs of issue 11 on a CUDA machine, in parallel, each capped at MINUTES of wall clock:
#   bash scripts/gpu_study.sh OUTDIR MINUTES
# Expects BMSA_DATA to hold fashion_mnist/ and bmsa importable. Writes OUTDIR/fashion_mnist-*/ run folders.
out=${1:?output folder}; minutes=${2:-5}
mkdir -p "$out"
run() { name=$1; epochs=$2; shift 2
  [ -n "${STUDY_ONLY:-}" ] && ! [[ $name =~ $STUDY_ONLY ]] && return      # STUDY_ONLY: a regex of the runs to make
  OMP_NUM_THREADS=1 python3 scripts/study.py --dataset fashion_mnist --epochs "$epochs" --device cuda --max-minutes "$minutes" \
    --out "$out/fashion_mnist-$name" "$@" > "$out/fashion_mnist-$name.log" 2>&1 &
}
run set 100 --method set
run set-hidden 100 --method set layers=hidden
run accset 100 --method accset
run accset-hidden 100 --method accset layers=hidden
run bmsa 100 --method bmsa
run bmsa-after-removal 100 --method bmsa growth=after_removal
run bmsa-initial 100 --method bmsa target=initial
run bmsa-hidden 100 --method bmsa layers=hidden
run set-seed1 200 --method set --seed 1
run accset-seed1 200 --method accset --seed 1
run bmsa-seed1 200 --method bmsa --seed 1
run set-seed2 200 --method set --seed 2
run accset-seed2 200 --method accset --seed 2
run bmsa-seed2 200 --method bmsa --seed 2
wait
