// The one translation unit that compiles stb_image, with only PNG, BMP and binary PNM and a low
// STBI_MAX_DIMENSIONS. The stb_image shipped by distributions (2.27) predates the 2023 security
// fixes, which concern GIF, PSD, PIC, HDR and TGA: those decoders are left out, and never to be
// enabled.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_PNM
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS 16384
#define STBI_ASSERT(x) ((void)0)

#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include <climits>
#include <cstring>
#include <memory>

#include "engine/data/image_decode.h"
#include "kernels/common.h"

namespace lumen::data::detail {

namespace {
uint32_t big_endian_u32(const uint8_t* p) {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | uint32_t(p[3]);
}
uint32_t little_endian_u32(const uint8_t* p) {
  return uint32_t(p[3]) << 24 | uint32_t(p[2]) << 16 | uint32_t(p[1]) << 8 | uint32_t(p[0]);
}
}  // namespace

RgbImage decode_with_stb(const uint8_t* bytes, size_t size, ImageFormat format,
                         const DecodeLimits& limits) {
  const char* name = image_format_name(format);
  if (size > size_t(INT_MAX)) throw Error(::lumen::detail::concat(name, " file too large for the decoder"));
  const int len = int(size);
  // Read the size from the header first, so that an oversized image gets a clear message (stb
  // reports images above STBI_MAX_DIMENSIONS only as "unknown image type").
  if (format == ImageFormat::png && size >= 24 && std::memcmp(bytes + 12, "IHDR", 4) == 0) {
    check_dimensions(big_endian_u32(bytes + 16), big_endian_u32(bytes + 20), limits);
  } else if (format == ImageFormat::bmp && size >= 26) {
    const int64_t height = int32_t(little_endian_u32(bytes + 22));
    check_dimensions(int32_t(little_endian_u32(bytes + 18)), height < 0 ? -height : height,
                     limits);
  }
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes, len, &width, &height, &channels)) {
    throw Error(::lumen::detail::concat("corrupt ", name, " header (", stbi_failure_reason(), ")"));
  }
  check_dimensions(width, height, limits);
  // Asking for 3 channels turns grayscale, gray+alpha, RGBA, palette and 16-bit images into RGB8
  // (alpha dropped, as PIL's convert("RGB") does).
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes, len, &width, &height, &channels, 3), stbi_image_free);
  if (!pixels) {
    throw Error(::lumen::detail::concat("corrupt or truncated ", name, " data (", stbi_failure_reason(), ")"));
  }
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(size_t(width) * size_t(height) * 3);
  std::memcpy(image.pixels.data(), pixels.get(), image.pixels.size());
  return image;
}

}  // namespace lumen::data::detail
