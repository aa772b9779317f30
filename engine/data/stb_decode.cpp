// The one translation unit that compiles stb_image, with only PNG and BMP and a low
// STBI_MAX_DIMENSIONS. The stb_image shipped by distributions (2.27) predates the 2023 security
// fixes, which concern GIF, PSD, PIC, HDR and TGA: those decoders are left out, and never to be
// enabled. Its PNM decoder is left out too: the fuzzer found it overflowing on 16-bit files and
// header numbers, and it accepts truncated files; pnm_decode.cpp reads PNM instead. Inputs are
// pre-checked here where stb 2.27 misbehaves (empty IDAT chunks, short BMP files).
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#define STBI_NO_HDR
#define STBI_MAX_DIMENSIONS 16384
// stb's allocations go through these, so that a failed one is known for what it is: stb reports
// some ("outofmem") and returns a bare failure for others (its first zlib buffer).
#include <cstdlib>
namespace lumen::data::detail {
namespace {
thread_local bool stb_out_of_memory = false;
void* stb_malloc(size_t bytes) {
  void* p = std::malloc(bytes);
  if (!p && bytes) stb_out_of_memory = true;
  return p;
}
void* stb_realloc(void* old, size_t bytes) {
  void* p = std::realloc(old, bytes);
  if (!p && bytes) stb_out_of_memory = true;
  return p;
}
}  // namespace
}  // namespace lumen::data::detail
#define STBI_MALLOC(bytes) ::lumen::data::detail::stb_malloc(bytes)
#define STBI_REALLOC(p, bytes) ::lumen::data::detail::stb_realloc(p, bytes)
#define STBI_FREE(p) std::free(p)

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
#include <utility>
#include <vector>

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

// stb_image 2.27 calls memcpy(NULL, src, 0) on a PNG whose first IDAT chunk is empty (undefined
// behaviour, found by the fuzzer). Empty IDAT chunks carry no data, so they are dropped here; the
// copy is made only when the file has one. Returns false when the chunk structure is cut short.
bool drop_empty_idat_chunks(const uint8_t* bytes, size_t size, std::vector<uint8_t>* cleaned) {
  size_t at = 8;
  bool found = false;
  std::vector<std::pair<size_t, size_t>> keep;  // byte ranges of the chunks kept
  while (at + 12 <= size) {
    const size_t length = big_endian_u32(bytes + at);
    if (length > size - at - 12) return false;
    const bool empty_idat = length == 0 && std::memcmp(bytes + at + 4, "IDAT", 4) == 0;
    if (empty_idat) {
      found = true;
    } else {
      keep.emplace_back(at, 12 + length);
    }
    const bool end = std::memcmp(bytes + at + 4, "IEND", 4) == 0;
    at += 12 + length;
    if (end) {
      at = size;
      break;
    }
  }
  if (at < size) return false;  // a chunk cut short (fewer than 12 bytes left)
  if (!found) return true;
  cleaned->assign(bytes, bytes + 8);
  for (const auto& [start, count] : keep) {
    cleaned->insert(cleaned->end(), bytes + start, bytes + start + count);
  }
  return true;
}

// stb_image reads past the end of a short BMP as zeros and reports success; a BMP whose pixel
// rows are not all in the file is refused here instead.
void check_bmp_size(const uint8_t* bytes, size_t size, const DecodeLimits& limits) {
  if (size < 34) throw Error("truncated BMP header");
  if (little_endian_u32(bytes + 14) < 40) return;  // OS/2 1.x header: other field layout
  const int64_t width = int32_t(little_endian_u32(bytes + 18));
  const int64_t height = int32_t(little_endian_u32(bytes + 22));
  check_dimensions(width, height < 0 ? -height : height, limits);
  const uint64_t data_offset = little_endian_u32(bytes + 10);
  const uint64_t bits = uint64_t(bytes[28]) | uint64_t(bytes[29]) << 8;
  const uint32_t compression = little_endian_u32(bytes + 30);
  if (compression == 1 || compression == 2) return;  // RLE: stb refuses it
  // Any other value is decoded by stb as uncompressed rows, so they must all be in the file.
  const uint64_t row_bytes = (uint64_t(width) * bits + 31) / 32 * 4;
  const uint64_t rows = uint64_t(height < 0 ? -height : height);
  if (data_offset + row_bytes * rows > size) {
    throw Error(::lumen::detail::concat("truncated BMP data (", size, " bytes; the pixels need ",
                                        data_offset + row_bytes * rows, ")"));
  }
}

// stb's reason for its last failure on this thread ("outofmem" never reaches here).
const char* failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason ? reason : "no reason given";
}

}  // namespace

RgbImage decode_with_stb(const uint8_t* bytes, size_t size, ImageFormat format,
                         const DecodeLimits& limits) {
  const char* name = image_format_name(format);
  if (size > size_t(INT_MAX))
    throw Error(::lumen::detail::concat(name, " file too large for the decoder"));
  std::vector<uint8_t> cleaned;
  if (format == ImageFormat::png) {
    if (!drop_empty_idat_chunks(bytes, size, &cleaned)) {
      throw Error("truncated PNG data (a chunk runs past the end of the file)");
    }
    if (!cleaned.empty()) {
      bytes = cleaned.data();
      size = cleaned.size();
    }
  }
  const int len = int(size);
  // Read the size from the header first, so that an oversized image gets a clear message (stb
  // reports images above STBI_MAX_DIMENSIONS only as "unknown image type").
  if (format == ImageFormat::png && size >= 24 && std::memcmp(bytes + 12, "IHDR", 4) == 0) {
    check_dimensions(big_endian_u32(bytes + 16), big_endian_u32(bytes + 20), limits);
  } else if (format == ImageFormat::bmp) {
    check_bmp_size(bytes, size, limits);
  }
  int width = 0, height = 0, channels = 0;
  stb_out_of_memory = false;
  if (!stbi_info_from_memory(bytes, len, &width, &height, &channels)) {
    if (stb_out_of_memory) fail_out_of_memory(name, 0, 0);
    throw Error(::lumen::detail::concat("corrupt ", name, " header (", failure_reason(), ")"));
  }
  check_dimensions(width, height, limits);
  // Asking for 3 channels turns grayscale, gray+alpha, RGBA, palette and 16-bit images into RGB8
  // (alpha dropped, as PIL's convert("RGB") does).
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(bytes, len, &width, &height, &channels, 3), stbi_image_free);
  if (!pixels) {
    if (stb_out_of_memory) fail_out_of_memory(name, width, height);
    throw Error(
        ::lumen::detail::concat("corrupt or truncated ", name, " data (", failure_reason(), ")"));
  }
  RgbImage image;
  image.width = width;
  image.height = height;
  image.pixels.resize(size_t(width) * size_t(height) * 3);
  std::memcpy(image.pixels.data(), pixels.get(), image.pixels.size());
  return image;
}

}  // namespace lumen::data::detail
