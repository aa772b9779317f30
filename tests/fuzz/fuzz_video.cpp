// libFuzzer target for video decoding from memory: FFmpeg through Lumen's own I/O callbacks
// (video_decode.cpp: the demuxer and codec lists, frame counting, the RGB conversion with its
// padding) and the storage resize of every frame. Any input must either decode or throw
// lumen::Error; crashes, leaks, hangs and undefined behaviour in Lumen's code are what the
// sanitizers look for (FFmpeg itself is the system's build, not instrumented). Built by
// tools/fuzz.sh (or by CMake when the compiler is clang and LUMEN_BUILD_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/data/resize.h"
#include "engine/data/video_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lumen::data::DecodeLimits limits;
  limits.max_pixels = int64_t(1024) * 1024;  // keep single inputs fast and within memory
  limits.max_side = 2048;
  limits.max_video_frames = 64;
  limits.max_video_seconds = 3600;
  lumen::data::VideoSource source;
  source.bytes = data;
  source.size = size;
  try {
    lumen::data::probe_video(source, limits, /*threads=*/1);
  } catch (const lumen::Error&) {
    // a refused input: the expected outcome for most mutations
  }
  std::vector<uint8_t> out(16 * 16 * 3);
  try {
    lumen::data::decode_video(source, limits, 1, [&](int64_t, const lumen::data::RgbImage& frame) {
      if (frame.pixels.size() != size_t(frame.width) * size_t(frame.height) * 3) {
        __builtin_trap();
      }
      lumen::data::resize_shorter_and_center_crop(frame.pixels.data(), frame.width, frame.height,
                                                  out.data(), 16);
    });
  } catch (const lumen::Error&) {
  }
  return 0;
}
