#!/usr/bin/env bash
# Builds the fuzz targets with clang++ and libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, and runs each for a while:
#   decode   tests/fuzz/fuzz_decode.cpp: every image format (JPEG, PNG, BMP, PNM, TIFF, WebP) and
#            the resize; seeds in tests/fuzz/corpus/ (tools/fixtures/make_fuzz_corpus.py)
#   video    tests/fuzz/fuzz_video.cpp: videos decoded from memory through FFmpeg; seeds are the
#            committed test videos (tests/fixtures/videos/, tests/fixtures/video_kinds/)
#   tools/fuzz.sh [SECONDS [TARGET...]]   default 60 seconds for each of decode and video; exits
#                                        non-zero when a target finds a crash
# Environment: FUZZ_JOBS (parallel fuzzing processes per target, default 1), BUILD_DIR (default
# build-fuzz). Crashing inputs are written to $BUILD_DIR/crashes-TARGET/; new interesting inputs
# to $BUILD_DIR/corpus-TARGET/ (the committed seeds are only read).
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
((${#targets[@]})) || targets=(decode video)
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${BUILD_DIR:-$root/build-fuzz}"
jobs="${FUZZ_JOBS:-1}"
cxx="${CXX_FUZZ:-clang++}"

if ! command -v "$cxx" >/dev/null; then
  echo "fuzz: $cxx not found; install clang (apt-get install clang) to build the fuzzer" >&2
  exit 2
fi

# Everything the decode path links (image_decode.cpp dispatches to every image decoder).
decode_sources=(
  "$root/engine/data/image_decode.cpp"
  "$root/engine/data/jpeg_decode.cpp"
  "$root/engine/data/stb_decode.cpp"
  "$root/engine/data/pnm_decode.cpp"
  "$root/engine/data/tiff_decode.cpp"
  "$root/engine/data/webp_decode.cpp"
  "$root/engine/data/resize.cpp"
)
stb_include="$(dirname "$(find /usr/include /usr/local/include -name stb_image.h 2>/dev/null | head -1)")"
libraries="$(pkg-config --cflags --libs libtiff-4 libwebp libwebpdemux libavformat libavcodec \
  libswscale libavutil)"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
parallel=()
((jobs > 1)) && parallel=(-jobs="$jobs" -workers="$jobs")

for target in "${targets[@]}"; do
  case "$target" in
    decode) extra=() seeds=("$root/tests/fuzz/corpus") ;;
    video)
      extra=("$root/engine/data/video_decode.cpp")
      seeds=("$root/tests/fixtures/videos" "$root/tests/fixtures/video_kinds")
      ;;
    *) echo "fuzz: unknown target '$target' (decode, video)" >&2; exit 2 ;;
  esac
  binary="$build/fuzz_$target"
  mkdir -p "$build/corpus-$target" "$build/crashes-$target"
  echo "fuzz: building $binary"
  # shellcheck disable=SC2086  # $libraries holds several flags
  "$cxx" -std=c++17 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root" -I"$stb_include" "$root/tests/fuzz/fuzz_$target.cpp" "${decode_sources[@]}" \
    "${extra[@]}" -lturbojpeg $libraries -o "$binary"
  echo "fuzz: running $target for ${seconds}s"
  # libFuzzer writes its logs (fuzz-N.log with -jobs) into the working folder.
  (cd "$build" && "$binary" "$build/corpus-$target" "${seeds[@]}" \
    -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -timeout=10 "${parallel[@]}" \
    -artifact_prefix="$build/crashes-$target/" -print_final_stats=1)
done
