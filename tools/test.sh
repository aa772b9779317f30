#!/usr/bin/env bash
# Sets up, builds and runs the test suite (the README's test command and CI's).
#   tools/test.sh                     CUDA backend compiled when nvcc is found (GPU tests skip
#                                     without a device)
#   LUMEN_CUDA=OFF tools/test.sh      CPU-only build
#   BUILD_DIR=build-x tools/test.sh   another build folder
# Slow tests (label "slow") are left out; run them with: ctest --test-dir build -L slow
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --full  # --full: PyTorch for the torchvision interop test
[[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"
build="${BUILD_DIR:-build}"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DLUMEN_CUDA="${LUMEN_CUDA:-AUTO}" \
  ${CMAKE_ARGS:-}
cmake --build "$build" -j "$(nproc)"
ctest --test-dir "$build" --output-on-failure -LE slow -j "$(nproc)"
