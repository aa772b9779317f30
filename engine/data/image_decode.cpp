#include "engine/data/image_decode.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

#include "kernels/common.h"

namespace lumen::data {

const char* image_format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::jpeg:
      return "JPEG";
    case ImageFormat::png:
      return "PNG";
    case ImageFormat::bmp:
      return "BMP";
    case ImageFormat::pnm:
      return "PNM";
    case ImageFormat::tiff:
      return "TIFF";
    case ImageFormat::webp:
      return "WebP";
    case ImageFormat::unknown:
      break;
  }
  return "unknown";
}

namespace {

bool starts_with(const uint8_t* bytes, size_t size, const char* magic, size_t n) {
  return size >= n && std::memcmp(bytes, magic, n) == 0;
}

// A readable description of a file that is not one of our formats, for the error message.
std::string describe_unknown(const uint8_t* bytes, size_t size) {
  if (starts_with(bytes, size, "GIF8", 4)) return "GIF images are not supported";
  if (size >= 2 && bytes[0] == 'P' && bytes[1] >= '1' && bytes[1] <= '7') {
    return "ASCII or PAM netpbm files are not supported (only binary P5/P6)";
  }
  const size_t n = size < 8 ? size : 8;
  bool text = n > 0;
  std::string hex;
  char buf[4];
  for (size_t i = 0; i < n; ++i) {
    const uint8_t c = bytes[i];
    if (!(c == '\n' || c == '\r' || c == '\t' || (c >= 32 && c < 127))) text = false;
    std::snprintf(buf, sizeof(buf), "%s%02x", i ? " " : "", c);
    hex += buf;
  }
  std::string what =
      "not a JPEG, PNG, BMP, PPM/PGM, TIFF or WebP image whatever its name says (starts with " +
      hex + ")";
  if (text) what += "; it looks like a text file";
  return what;
}

}  // namespace

ImageFormat detect_image_format(const uint8_t* bytes, size_t size) {
  if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) {
    return ImageFormat::jpeg;
  }
  if (starts_with(bytes, size, "\x89PNG\r\n\x1a\n", 8)) return ImageFormat::png;
  if (starts_with(bytes, size, "BM", 2)) return ImageFormat::bmp;
  if (size >= 3 && bytes[0] == 'P' && (bytes[1] == '5' || bytes[1] == '6') &&
      (bytes[2] == ' ' || bytes[2] == '\n' || bytes[2] == '\r' || bytes[2] == '\t')) {
    return ImageFormat::pnm;
  }
  // Classic TIFF (42) and BigTIFF (43), either byte order.
  if (starts_with(bytes, size, "II*\0", 4) || starts_with(bytes, size, "MM\0*", 4) ||
      starts_with(bytes, size, "II+\0", 4) || starts_with(bytes, size, "MM\0+", 4)) {
    return ImageFormat::tiff;
  }
  if (size >= 12 && starts_with(bytes, size, "RIFF", 4) && std::memcmp(bytes + 8, "WEBP", 4) == 0) {
    return ImageFormat::webp;
  }
  return ImageFormat::unknown;
}

namespace detail {
void check_dimensions(int64_t width, int64_t height, const DecodeLimits& limits) {
  if (width <= 0 || height <= 0) {
    throw Error(::lumen::detail::concat("invalid image size ", width, "x", height));
  }
  if (width > limits.max_side || height > limits.max_side || width * height > limits.max_pixels) {
    throw Error(::lumen::detail::concat(
        "image too large: ", width, "x", height, " (limits: ", limits.max_side, " pixels a side, ",
        limits.max_pixels, " pixels in all); shrink it or leave it out"));
  }
}

void fail_out_of_memory(const char* format, int64_t width, int64_t height) {
  const std::string size = width > 0
                               ? ::lumen::detail::concat(" of ", width, "x", height, " pixels (",
                                                         (width * height * 3) >> 20, " MiB as RGB)")
                               : std::string();
  throw DecodeOutOfMemory(::lumen::detail::concat(
      "out of memory while decoding a ", format, " image", size,
      "; the file may be fine: free memory, or decode on fewer threads (loader.num_workers)"));
}
}  // namespace detail

RgbImage decode_image(const uint8_t* bytes, size_t size, const DecodeLimits& limits) {
  if (size == 0) throw Error("empty file (0 bytes)");
  if (size > limits.max_file_bytes) {
    throw Error(::lumen::detail::concat("file too large: ", size, " bytes (limit ",
                                        limits.max_file_bytes, ")"));
  }
  const ImageFormat format = detect_image_format(bytes, size);
  try {
    switch (format) {
      case ImageFormat::jpeg:
        return detail::decode_jpeg(bytes, size, limits);
      case ImageFormat::png:
      case ImageFormat::bmp:
        return detail::decode_with_stb(bytes, size, format, limits);
      case ImageFormat::pnm:
        return detail::decode_pnm(bytes, size, limits);
      case ImageFormat::tiff:
        return detail::decode_tiff(bytes, size, limits);
      case ImageFormat::webp:
        return detail::decode_webp(bytes, size, limits);
      case ImageFormat::unknown:
        break;
    }
  } catch (const std::bad_alloc&) {
    detail::fail_out_of_memory(image_format_name(format), 0, 0);
  }
  throw Error(describe_unknown(bytes, size));
}

std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes) {
  FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw Error(::lumen::detail::concat("cannot open: ", std::strerror(errno)));
  std::vector<uint8_t> bytes;
  std::fseek(file, 0, SEEK_END);
  const long end = std::ftell(file);
  std::fseek(file, 0, SEEK_SET);
  if (end < 0) {
    std::fclose(file);
    throw Error("cannot read: not a regular file");
  }
  if (size_t(end) > max_bytes) {
    std::fclose(file);
    throw Error(::lumen::detail::concat("file too large: ", end, " bytes (limit ", max_bytes, ")"));
  }
  bytes.resize(size_t(end));
  const size_t got = end ? std::fread(bytes.data(), 1, bytes.size(), file) : 0;
  const bool failed = std::ferror(file);
  std::fclose(file);
  if (failed || got != bytes.size()) throw Error("cannot read: I/O error");
  return bytes;
}

RgbImage decode_image_file(const std::string& path, const DecodeLimits& limits) {
  std::vector<uint8_t> bytes;
  try {
    bytes = read_file_bytes(path, limits.max_file_bytes);
  } catch (const std::bad_alloc&) {
    throw DecodeOutOfMemory(
        "out of memory while reading the file; it may be fine: free memory, or decode on fewer "
        "threads (loader.num_workers)");
  }
  return decode_image(bytes.data(), bytes.size(), limits);
}

}  // namespace lumen::data
