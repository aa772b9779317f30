// Binary netpbm: P5 (PGM, gray) and P6 (PPM, RGB), 8-bit (maxval <= 255) or 16-bit big-endian
// samples (maxval <= 65535), scaled to 0..255 as round(v * 255 / maxval). The header is
// "P5|P6 <ws> width <ws> height <ws> maxval <one ws>" where <ws> may hold '#' comments.
#include "engine/data/image_decode.h"

namespace lumen::data::detail {

namespace {

bool is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// Reads one header number at `at`, skipping whitespace and comments before it.
int64_t read_header_number(const uint8_t* bytes, size_t size, size_t* at) {
  while (*at < size && (is_space(bytes[*at]) || bytes[*at] == '#')) {
    if (bytes[*at] == '#') {
      while (*at < size && bytes[*at] != '\n' && bytes[*at] != '\r') ++*at;
    } else {
      ++*at;
    }
  }
  int64_t value = 0;
  int digits = 0;
  while (*at < size && bytes[*at] >= '0' && bytes[*at] <= '9') {
    if (++digits > 9) throw Error("corrupt PNM header (a number with more than 9 digits)");
    value = value * 10 + (bytes[*at] - '0');
    ++*at;
  }
  if (digits == 0) throw Error("corrupt or truncated PNM header");
  return value;
}

}  // namespace

RgbImage decode_pnm(const uint8_t* bytes, size_t size, const DecodeLimits& limits) {
  const int channels = bytes[1] == '6' ? 3 : 1;
  size_t at = 2;
  const int64_t width = read_header_number(bytes, size, &at);
  const int64_t height = read_header_number(bytes, size, &at);
  const int64_t maxval = read_header_number(bytes, size, &at);
  check_dimensions(width, height, limits);
  if (maxval < 1 || maxval > 65535) {
    throw Error(::lumen::detail::concat("corrupt PNM header (maximum value ", maxval,
                                        "; it must lie in 1..65535)"));
  }
  if (at >= size || !is_space(bytes[at])) throw Error("corrupt or truncated PNM header");
  ++at;  // the single whitespace byte before the samples
  const size_t sample_bytes = maxval > 255 ? 2 : 1;
  const size_t pixels = size_t(width) * size_t(height);
  const size_t needed = pixels * size_t(channels) * sample_bytes;
  if (size - at < needed) {
    throw Error(::lumen::detail::concat("truncated PNM data (", size - at, " of ", needed,
                                        " sample bytes)"));
  }
  const uint8_t* samples = bytes + at;
  auto sample = [&](size_t i) -> uint8_t {
    const uint32_t v =
        sample_bytes == 2 ? uint32_t(samples[2 * i]) << 8 | samples[2 * i + 1] : samples[i];
    const uint32_t clamped = v > uint32_t(maxval) ? uint32_t(maxval) : v;
    return uint8_t((clamped * 255 + uint32_t(maxval) / 2) / uint32_t(maxval));
  };
  RgbImage image;
  image.width = int(width);
  image.height = int(height);
  image.pixels.resize(pixels * 3);
  for (size_t p = 0; p < pixels; ++p) {
    for (int c = 0; c < 3; ++c) {
      image.pixels[3 * p + size_t(c)] = sample(channels == 3 ? 3 * p + size_t(c) : p);
    }
  }
  return image;
}

}  // namespace lumen::data::detail
