// Decoding image files into 8-bit RGB. The format comes from the file's magic bytes, never from
// its name: JPEG through libjpeg-turbo's TurboJPEG API, PNG and BMP through stb_image built with
// only those two formats, binary PPM/PGM (8 or 16 bits) by a small reader of our own, TIFF
// through libtiff (first page) and WebP through libwebp (first frame of an animation). Every image
// becomes RGB8 whatever it holds (grayscale, gray+alpha, RGBA — alpha is dropped —, 16-bit,
// palette, CMYK), as PIL's Image.open(...).convert("RGB") makes it.
//
// A file that cannot be decoded cleanly throws lumen::Error whose message is the reason alone
// ("truncated JPEG data", "not an image (starts with ...)"), so callers can print
// "<file>: <reason>". A libjpeg-turbo warning (premature end of data, corrupt data) counts as an
// error: the pixels would be partly grey.
//
// Running out of memory is not a bad file: it throws DecodeOutOfMemory ("out of memory while
// decoding ..."), which callers never count as corrupt or leave out under data.on_error=skip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/common.h"

namespace lumen::data {

enum class ImageFormat { unknown, jpeg, png, bmp, pnm, tiff, webp };
const char* image_format_name(ImageFormat format);

// The format named by the first bytes of a file (unknown when none matches).
ImageFormat detect_image_format(const uint8_t* bytes, size_t size);

// Limits checked before any pixel is decoded.
struct DecodeLimits {
  size_t max_file_bytes = size_t(256) << 20;  // larger files are refused unread
  int64_t max_pixels = int64_t(1) << 28;      // width * height; 268 M pixels (16384 x 16384)
  int max_side = 16384;                       // matches STBI_MAX_DIMENSIONS in stb_decode.cpp
  // Videos (video_decode.h): frames are checked against max_pixels and max_side; max_file_bytes
  // does not apply (videos are streamed, not read whole).
  int64_t max_video_frames = int64_t(1) << 20;  // frames in one video (9.7 hours at 30 fps)
  double max_video_seconds = 24 * 3600.0;       // duration of one video
};

// A decode that ran out of memory (std::bad_alloc, or a decoder's own allocation failing). The file
// itself may be fine.
class DecodeOutOfMemory : public Error {
 public:
  using Error::Error;
};

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> pixels;  // (height, width, 3) u8
};

// Decodes an image held in memory. Throws lumen::Error (the reason only) on any problem.
RgbImage decode_image(const uint8_t* bytes, size_t size, const DecodeLimits& limits = {});

// Reads and decodes a file. Throws lumen::Error (the reason only: "empty file (0 bytes)",
// "cannot open: No such file or directory", ...).
RgbImage decode_image_file(const std::string& path, const DecodeLimits& limits = {});

// Reads a whole file, refusing files larger than max_bytes.
std::vector<uint8_t> read_file_bytes(const std::string& path, size_t max_bytes);

namespace detail {
// The decoders behind decode_image (format already detected, limits passed through).
RgbImage decode_jpeg(const uint8_t* bytes, size_t size, const DecodeLimits& limits);
RgbImage decode_with_stb(const uint8_t* bytes, size_t size, ImageFormat format,
                         const DecodeLimits& limits);  // PNG, BMP
RgbImage decode_pnm(const uint8_t* bytes, size_t size, const DecodeLimits& limits);
RgbImage decode_tiff(const uint8_t* bytes, size_t size, const DecodeLimits& limits);
RgbImage decode_webp(const uint8_t* bytes, size_t size, const DecodeLimits& limits);
// Throws when width x height breaks the limits.
void check_dimensions(int64_t width, int64_t height, const DecodeLimits& limits);
// Throws DecodeOutOfMemory for an image of that size and format.
[[noreturn]] void fail_out_of_memory(const char* format, int64_t width, int64_t height);
}  // namespace detail

}  // namespace lumen::data
