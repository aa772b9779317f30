// libFuzzer target for the decode path: magic-byte detection, TurboJPEG, stb_image (PNG, BMP),
// the PNM reader, libtiff and libwebp behind Lumen's wrappers, and the storage resize. Any input
// must either decode or throw lumen::Error; crashes, leaks and undefined behaviour are what the
// sanitizers look for (in Lumen's code; the libraries are the system's builds). Built by
// tools/fuzz.sh (or by CMake when the compiler is clang and LUMEN_BUILD_FUZZ=ON).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/data/image_decode.h"
#include "engine/data/resize.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  lumen::data::DecodeLimits limits;
  limits.max_pixels = int64_t(4096) * 4096;  // keep single inputs within the sanitizers' memory
  limits.max_side = 8192;
  try {
    const lumen::data::RgbImage image = lumen::data::decode_image(data, size, limits);
    if (image.pixels.size() != size_t(image.width) * size_t(image.height) * 3) __builtin_trap();
    std::vector<uint8_t> out(16 * 16 * 3);
    lumen::data::resize_shorter_and_center_crop(image.pixels.data(), image.width, image.height,
                                                out.data(), 16);
  } catch (const lumen::Error&) {
    // a refused input: the expected outcome for most mutations
  }
  return 0;
}
