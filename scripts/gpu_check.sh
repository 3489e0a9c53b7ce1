#!/usr/bin/env bash
# The GPU check of issue 12, for a fresh CUDA machine without internet, run from the repository root:
#   bash scripts/gpu_check.sh            (writes $OUT/*.txt; OUT defaults to ./gpu_out)
# It installs bmsa (no dependencies) into the machine's Python, plus the pure-Python packages its image lacks from the
# wheel folder .whl/ if present (carry it), then, each under its own time limit so the whole stays within ~9 minutes:
#   1. the backend benchmark on the GPU, quick, alone, with torch.compile against eager (default mode and CUDA
#      graphs, section 8, last: a time limit cuts it first)               -> $OUT/bench_cuda.txt
#   2. full CIFAR-10 epochs (500 + 100 batches) on the GPU: dense, masked and compressed (benchmark section 1), and
#      the loop's own cost per batch, plain PyTorch against fastai's Learner (section 7)  -> $OUT/bench_cuda_epochs.txt
#   3. the device tests and the backend notebooks with CUDA available  -> $OUT/tests_device.txt
#   4. the rest of the test suite, in parallel, as far as time allows (only with STEPS including "all")
#                                                                        -> $OUT/tests_all.txt
# With STUDY_MINUTES=N it also runs issue 11's Fashion-MNIST study on the GPU during steps 3-4 -> $OUT/study.tgz
# $OUT/gpu_check.txt holds the environment, each step's exit status and its wall time.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-gpu_out}; mkdir -p "$OUT"
log="$OUT/gpu_check.txt"; : > "$log"
say() { echo "$*" | tee -a "$log"; }
step() {  # step NAME SECONDS FILE COMMAND...: run with a time limit, record its status and wall time
  local name=$1 limit=$2 file=$3; shift 3
  local start=$SECONDS
  timeout --signal=INT --kill-after=15 "$limit" "$@" > "$OUT/$file" 2>&1
  local status=$?
  say "$name: exit $status$([ $status -eq 124 ] && echo ' (time limit reached)') after $((SECONDS - start)) s -> $OUT/$file"
}

PY=${PY:-python3}
[ -x .venv/bin/python ] && .venv/bin/python -c 'import torch, fastai' 2>/dev/null && PY=.venv/bin/python
say "date $(date -u +%FT%TZ); python $($PY -c 'import sys; print(sys.executable, sys.version.split()[0])')"
say "$($PY -c 'import torch; print("torch", torch.__version__, "cuda available:", torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")' 2>&1)"
if command -v nvidia-smi >/dev/null; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >> "$log" 2>&1
else say "nvidia-smi not found"; fi

missing() { $PY - <<'EOF'
import importlib.util
need = ['fastai', 'fastcore', 'fastprogress', 'fasthtml', 'fasttransform', 'plum', 'nbdev', 'execnb', 'IPython', 'matplotlib', 'pytest', 'ipywidgets']
print(' '.join(m for m in need if importlib.util.find_spec(m) is None))
EOF
}
lacking=$(missing)
if [ -n "$lacking" ] && ls .whl/*.whl >/dev/null 2>&1; then
  say "installing from .whl/ (missing: $lacking)"
  $PY -m pip install --no-index --no-deps --quiet .whl/*.whl >> "$log" 2>&1 || say "pip install from .whl/ failed"
  lacking=$(missing)
fi
[ -n "$lacking" ] && say "still missing (tests that need them will fail): $lacking"
$PY -m pip install --no-deps --no-build-isolation --quiet -e . >> "$log" 2>&1 || say "pip install -e . failed; using the source tree on PYTHONPATH"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" OMP_NUM_THREADS=2 MPLBACKEND=Agg
[ -z "${BMSA_DATA:-}" ] && [ -d .gpudata ] && export BMSA_DATA="$PWD/.gpudata"
say "bmsa from $($PY -c 'import bmsa; print(bmsa.__file__)' 2>&1)"
xdist=$($PY -c 'import xdist' 2>/dev/null && echo "-n ${TEST_WORKERS:-6}" || echo "")

STEPS=${STEPS:-"bench epochs device"}     # which of the steps below to run ("bench epochs device all": every one)
has() { case " $STEPS " in *" $1 "*) return 0;; *) return 1;; esac; }
has bench && step "1. benchmark on the GPU (alone, so its timings are clean)" 150 bench_cuda.txt \
  $PY scripts/bench_backends.py --device cuda --quick --threads 2 --sections 0 2 3 4 6 8
has epochs && step "2. full CIFAR-10 epochs on the GPU (alone)" 200 bench_cuda_epochs.txt \
  $PY scripts/bench_backends.py --device cuda --threads 2 --batches 500 --repeats 2 --sections 1 7
if [ -n "${STUDY_MINUTES:-}" ]; then   # issue 11's Fashion-MNIST grid, in the background while the tests run
  say "study: Fashion-MNIST readings on the GPU for at most $STUDY_MINUTES minutes each (scripts/gpu_study.sh)"
  bash scripts/gpu_study.sh "$OUT/study" "$STUDY_MINUTES" &
  study=$!
fi
has device && step "3. device tests and backend notebooks (CUDA)" ${DEVICE_LIMIT:-180} tests_device.txt \
  $PY -m pytest -q -p no:cacheprovider tests/test_device.py tests/test_data.py tests/test_notebooks.py $xdist \
      -k "test_device or fastai_workflow or 02_sparse or 02a_masked or 02b_compressed or 03_dst or 04_set or 05_accset or 06_bmsa or 06a_rigl or 09_topology"
has all && step "4. the rest of the test suite" 120 tests_all.txt \
  $PY -m pytest -q -p no:cacheprovider tests $xdist \
      -k "not (test_device or fastai_workflow or 02_sparse or 02a_masked or 02b_compressed or 03_dst or 04_set or 05_accset or 06_bmsa or 06a_rigl or 09_topology)"
if [ -n "${study:-}" ]; then
  wait $study
  tar -czf "$OUT/study.tgz" -C "$OUT" study && rm -rf "$OUT/study"
  say "study: $(ls "$OUT" | grep -c .) files in \$OUT; run folders in study.tgz"
fi
say "summaries:"
for f in tests_device tests_all; do [ -f "$OUT/$f.txt" ] && say "  $f: $(grep -E '(passed|failed|error)' "$OUT/$f.txt" | tail -1)"; done
say "done $(date -u +%FT%TZ) after $SECONDS s"
