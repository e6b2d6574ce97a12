#!/usr/bin/env bash
# The whole GPU check in one command, for the GPU machine (docs/cuda-notes.md):
#   1. install the carried wheels (.whl/: numpy 2.4 for numba-cuda 0.30.4; see
#      bench/fetch_gpu_wheels.sh) into .site/ and put .site and the checkout first
#      on PYTHONPATH;
#   2. record the environment (GPU, versions) in $OUT/env.txt;
#   3. run the `gpu`-marked tests (tests/codegen/cuda) -> $OUT/gpu_tests.txt;
#   4. run bench/bench_gpu.py in five groups of workloads, one process and one
#      timeout each -> $OUT/bench_gpu_<group>.txt and .json.
# Each stage has its own timeout; the whole script stays under 8 minutes
# (install ~10 s, env 30 s, tests 80 s (42 s on the H200), bench 440 s at most: 560 s in all). The gpu tests include the
# cuda backend's: the seed programs at seed size on the device, the cooperative
# scan over many blocks (grid sync, which the simulator cannot check), CuPy's cuBLAS. A failing stage is
# reported and the next one still runs; the exit code is the first failure's.
#
#   bash bench/gpu_check.sh             # on the GPU machine (device tool: carry .whl)
#   bash bench/gpu_check.sh --dry-run   # here: CUDA simulator, tiny sizes, no GPU needed
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/results/gpu}
mkdir -p "$OUT"
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
PY=${PYTHON:-python3}
status=0
note() { echo "== $* ($(date -u +%H:%M:%S))"; }

if [ "$DRY" = 0 ] && ls .whl/*.whl >/dev/null 2>&1; then
  note "installing carried wheels into .site"
  timeout 60 "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target .site .whl/*.whl || status=$?
  export PYTHONPATH="$PWD/.site:$PWD"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
export LOOPTRACE_CACHE_DIR=${LOOPTRACE_CACHE_DIR:-/tmp/ltcache_gpu_check}

note "environment"
timeout 30 "$PY" - <<'EOF' 2>&1 | tee "$OUT/env.txt"
import importlib, platform
print("python", platform.python_version())
for name in ("numpy", "numba", "numba_cuda", "cupy", "jax", "torch"):
    try:
        m = importlib.import_module(name)
        print(name, getattr(m, "__version__", "?"))
    except Exception as e:
        print(name, "unavailable:", type(e).__name__, str(e).splitlines()[0][:100] if str(e) else "")
try:
    from looptrace.codegen.cuda import runtime, limits
    print("device available:", runtime.device_available())
    if runtime.device_available():
        print(limits.device_limits())
except Exception as e:
    print("looptrace.codegen.cuda:", type(e).__name__, e)
EOF

if [ "$DRY" = 1 ]; then
  note "tests (dry run: the simulator tests of tests/codegen/cuda)"
  XDIST=$("$PY" -c "import xdist" 2>/dev/null && echo "-n 2")
  timeout 480 "$PY" -m pytest -q -p no:cacheprovider $XDIST tests/codegen/cuda 2>&1 | tee "$OUT/gpu_tests.txt"
else
  note "gpu tests"
  timeout 80 "$PY" -m pytest -m gpu -q -p no:cacheprovider -rs tests/codegen/cuda 2>&1 | tee "$OUT/gpu_tests.txt"
fi
rc=${PIPESTATUS[0]}
[ "$status" = 0 ] && status=$rc

# The benchmark in groups, one process and one timeout each, so a workload that
# hangs costs only its group (on the first H200 run gaussian_layer_x16 took the
# whole stage): name, timeout in seconds, workloads.
BENCH_GROUPS=(
  "rnn 130 rnn_taps_f32,rnn_taps_f64"
  "grad 70 rnn_taps_grad,gaussian_layer"
  "scans 90 scalar_recurrence,linear_recurrence,langevin_f32,batched_conv"
  "wide 110 rnn_taps_T1e4_y512_f32"
  "x16 40 gaussian_layer_x16"
)
for g in "${BENCH_GROUPS[@]}"; do
  read -r name secs only <<<"$g"
  note "bench $name ($only; ${secs} s at most)"
  if [ "$DRY" = 1 ]; then
    timeout 270 "$PY" bench/bench_gpu.py --dry-run --only "$only" --json "$OUT/bench_gpu_$name.json" 2>&1 \
      | tee "$OUT/bench_gpu_$name.txt"
  else
    timeout "$secs" "$PY" bench/bench_gpu.py --repeats 5 --only "$only" \
      --json "$OUT/bench_gpu_$name.json" 2>&1 | grep --line-buffered -v -e NumbaPerformanceWarning -e "warn(errors" \
      | tee "$OUT/bench_gpu_$name.txt"
  fi
  rc=${PIPESTATUS[0]}
  [ "$status" = 0 ] && status=$rc
done
note "done, status $status; tables in $OUT"
exit "$status"
