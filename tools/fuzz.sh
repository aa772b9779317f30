#!/usr/bin/env bash
# Builds the decode fuzzer (tests/fuzz/fuzz_decode.cpp) with clang++ and libFuzzer,
# AddressSanitizer and UndefinedBehaviorSanitizer, and runs it for a while.
#   tools/fuzz.sh [SECONDS]     default 60; exits non-zero when the fuzzer finds a crash
# Environment: FUZZ_JOBS (parallel fuzzing processes, default 1), BUILD_DIR (default build-fuzz).
# Crashing inputs are written to $BUILD_DIR/crashes/; new interesting inputs to
# $BUILD_DIR/corpus/ (the committed seeds in tests/fuzz/corpus/ are only read).
set -euo pipefail

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
jobs="${FUZZ_JOBS:-1}"
cxx="${CXX_FUZZ:-clang++}"

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found; install clang (apt-get install clang) to build the fuzzer" >&2
  exit 2
fi
mkdir -p "$build/corpus" "$build/crashes"

sources=(
  "$root/tests/fuzz/fuzz_decode.cpp"
  "$root/engine/data/image_decode.cpp"
  "$root/engine/data/jpeg_decode.cpp"
  "$root/engine/data/stb_decode.cpp"
  "$root/engine/data/pnm_decode.cpp"
  "$root/engine/data/tiff_decode.cpp"
  "$root/engine/data/webp_decode.cpp"
  "$root/engine/data/resize.cpp"
)
stb_include="$(dirname "$(find /usr/include /usr/local/include -name stb_image.h 2>/dev/null | head -1)")"
echo "fuzz: building $build/fuzz_decode"
"$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root" -I"$stb_include" "${sources[@]}" -lturbojpeg \
  $(pkg-config --cflags --libs libtiff-4 libwebp libwebpdemux) -o "$build/fuzz_decode"

echo "fuzz: running for ${seconds}s"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
parallel=()
((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")
cd "$build"  # libFuzzer writes its logs (fuzz-N.log with -jobs) into the working folder
"$build/fuzz_decode" "$build/corpus" "$root/tests/fuzz/corpus" \
  -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 "${parallel[@]}" \
  -artifact_prefix="$build/crashes/" -print_final_stats=1
