#!/usr/bin/env bash
# The GPU check: builds Lumen with CUDA, runs every test (slow ones too) and the benchmarks, and
# prints a short results table (also written to the file given as $1, e.g. bench/results/x.md).
#
# On a machine without a package registry, first run tools/fetch_gpu_deps.sh where one is
# reachable: the .deb files it leaves in .deps/ are unpacked here into a prefix under /tmp.
# Environment: BUILD_DIR, LOG_DIR (full logs), LUMEN_CUDA_ARCHS (e.g. 90), SUITE_TIMEOUT and
# BENCH_TIMEOUT (seconds), SKIP_BENCH=1 (tests only), LUMEN_PYTHON (the PyTorch peer's python),
# PROFILE=0 (no Nsight Compute kernel profile).
# cuDNN and NCCL are taken from the CUDA toolkit, or from PyTorch's nvidia-* wheels when the
# toolkit lacks them.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${1:-}"
build=$(realpath -m "${BUILD_DIR:-build-gpu}")
# Full logs of every suite and benchmark go here (one file each for tests and benchmarks).
logs="${LOG_DIR:-$build/logs}"
cmake_args=(-DCMAKE_BUILD_TYPE=Release -DLUMEN_CUDA=ON)
# LUMEN_CUDA_ARCHS=90 builds for the one GPU at hand only (faster); default: CMakeLists' list.
[[ -n "${LUMEN_CUDA_ARCHS:-}" ]] && cmake_args+=(-DCMAKE_CUDA_ARCHITECTURES="$LUMEN_CUDA_ARCHS")
command -v ninja >/dev/null && cmake_args+=(-G Ninja)
[[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"

if compgen -G ".deps/*.deb" >/dev/null; then
  prefix=/tmp/lumen-deps
  for f in .deps/*.deb; do dpkg -x "$f" "$prefix"; done
  multiarch=$prefix/usr/lib/x86_64-linux-gnu
  # Debian's alternatives symlinks are not unpacked by dpkg -x; point at the real OpenBLAS.
  [[ -e $multiarch/libopenblas.so ]] || ln -sf openblas-openmp/libopenblas.so "$multiarch/libopenblas.so"
  cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix/usr" -DCMAKE_INCLUDE_PATH="$prefix/usr/include"
               -DCMAKE_LIBRARY_PATH="$multiarch")
  export LD_LIBRARY_PATH="$multiarch:$multiarch/openblas-openmp:${LD_LIBRARY_PATH:-}"
  [[ -d $prefix/usr/share/datasets/fashion-mnist ]] &&
    export LUMEN_FASHION_MNIST=$prefix/usr/share/datasets/fashion-mnist
else
  tools/setup.sh
fi
for lib in cudnn nccl; do
  root=$(python3 -c "import nvidia.$lib; print(list(nvidia.$lib.__path__)[0])" 2>/dev/null)
  if [[ -n "$root" && ! -e /usr/local/cuda/include/$lib.h ]]; then
    cmake_args+=(-D${lib^^}_ROOT="$root")
    export LD_LIBRARY_PATH="$root/lib:${LD_LIBRARY_PATH:-}"
  fi
done

cmake -S . -B "$build" "${cmake_args[@]}" || exit 1
cmake --build "$build" -j "$(nproc)" || exit 1
mkdir -p "$logs"
: >"$logs/tests.log"
: >"$logs/bench.log"
device=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)

table="| suite | test cases | passed | failed | GPU cases skipped |
| --- | --- | --- | --- | --- |"
status=0
for exe in "$build"/bin/test_* "$build"/bin/slow_*; do
  [[ -x "$exe" ]] || continue
  name=$(basename "$exe")
  start=$SECONDS
  log=$(cd tests && timeout "${SUITE_TIMEOUT:-300}" "$exe" 2>&1)
  rc=$?
  { echo "=== $name (exit $rc, $((SECONDS - start)) s)"; echo "$log"; } >>"$logs/tests.log"
  # Exit 77: the suite ran nothing (no dataset, no CUDA device). A GPU suite that cannot run
  # fails the GPU check; any other suite is reported skipped.
  if [[ $rc -eq 77 ]]; then
    [[ $name == *_cuda ]] && status=1
    table+=$'\n'"| $name | $(grep -m1 '^skipped:' <<<"$log") | - | - | - |"
    continue
  fi
  line=$(grep "test cases:" <<<"$log" | tail -1)
  total=$(sed -E 's/.*test cases: *([0-9]+).*/\1/' <<<"$line")
  passed=$(sed -E 's/.*\| *([0-9]+) passed.*/\1/' <<<"$line")
  failed=$(sed -E 's/.*\| *([0-9]+) failed.*/\1/' <<<"$line")
  skipped=$(grep -c "skipped: no CUDA device" <<<"$log")
  [[ $rc -ne 0 ]] && { status=1; echo "$log" | tail -40; }
  table+=$'\n'"| $name | $total | $passed | $failed | $skipped |"
done

bench_table=""
[[ -n "${SKIP_BENCH:-}" ]] && build_benches=() || build_benches=("$build"/bin/bench_*)
for exe in "${build_benches[@]}"; do
  [[ -x "$exe" ]] || continue
  blog=$(timeout "${BENCH_TIMEOUT:-300}" "$exe" 2>&1)
  { echo "=== $(basename "$exe") (exit $?)"; echo "$blog"; } >>"$logs/bench.log"
  bench_table+=$'\n'"### $(basename "$exe")"$'\n\n```\n'"$(tail -40 <<<"$blog")"$'\n```\n'
done

# SimCLR training throughput (ResNet-18 32x32 batch 512): `lumen train` on Fashion-MNIST when the
# dataset is installed, beside PyTorch's step on ready-made views (bench/simclr_torch.py).
fmnist=${LUMEN_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}/train-images-idx3-ubyte.gz
if [[ -z "${SKIP_BENCH:-}" && -f $fmnist ]] && nvidia-smi >/dev/null 2>&1; then
  # With the step replayed as a CUDA graph (the default) and eagerly, for the graph's effect.
  tlog=""
  for graph in true false; do
    run=$("$build/bin/lumen" train input_dir=$fmnist output_dir="$build/simclr_run_$graph" \
          model.name=resnet-18 loader.batch_size=512 collate.input_size=32 data.limit=20480 \
          collate.gaussian_blur=0 trainer.max_epochs=3 trainer.cuda_graph=$graph overwrite=true 2>&1 |
          tr '\r' '\n' | grep -E "/40 |done|lumen:")
    tlog+="trainer.cuda_graph=$graph"$'\n'"$run"$'\n'
  done
  plog=$(cd bench && timeout "${BENCH_TIMEOUT:-300}" "${LUMEN_PYTHON:-python3}" simclr_torch.py 2>&1)
  { echo "=== simclr throughput"; echo "$tlog"; echo "$plog"; } >>"$logs/bench.log"
  bench_table+=$'\n'"### SimCLR throughput"$'\n\n```\n'"$tlog"$'\n'"$(tail -2 <<<"$plog")"$'\n```\n'
fi

# Kernel time of one ResNet-50 step by category (Nsight Compute, when installed; PROFILE=0 skips).
if [[ -z "${SKIP_BENCH:-}" && "${PROFILE:-1}" != 0 ]] && command -v ncu >/dev/null &&
   nvidia-smi >/dev/null 2>&1; then
  ncu_csv="$logs/ncu_resnet50.csv"
  timeout "${BENCH_TIMEOUT:-300}" ncu --profile-from-start off --metrics gpu__time_duration.sum \
    --print-summary per-kernel --csv "$build/bin/bench_resnet" --arch torchvision/resnet50 \
    --batch 128 --image 224 --iters 1 --warmup 2 --no-torch --no-graph >"$ncu_csv" 2>&1
  summary=$(python3 tools/kernel_summary.py "$ncu_csv" 2>&1)
  { echo "=== ncu torchvision/resnet50 batch 128"; echo "$summary"; } >>"$logs/bench.log"
  bench_table+=$'\n'"### Kernel time of one ResNet-50 224x224 batch-128 bf16 step (ncu)"$'\n\n'"$summary"$'\n'
  # PyTorch's kernel table of the same step, for comparison (full log only).
  (cd bench && timeout "${BENCH_TIMEOUT:-300}" "${LUMEN_PYTHON:-python3}" resnet_torch.py \
    --arch torchvision/resnet50 --batch 128 --image 224 --device cuda --dtype bf16 --iters 3 \
    --warmup 2 --profile) >>"$logs/bench.log" 2>&1
fi

report="# GPU check

- device: ${device:-unknown}
- commit: ${LUMEN_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
- date: $(date -u +%Y-%m-%dT%H:%MZ)
- command: tools/gpu_check.sh

$table
$bench_table"
echo "$report"
[[ -n "$out" ]] && echo "$report" >"$out"
exit $status
