// WebP decoding through libwebp: lossy, lossless, with or without alpha (dropped), and the first
// frame of an animation (through libwebpdemux's animation decoder, as PIL reads it: the frame drawn
// on a transparent black canvas, so uncovered pixels are black). The canvas size comes from the
// header and is checked against the limits before anything is decoded; a file cut short fails
// (libwebp's one-shot decoder needs the whole bitstream).
#include <webp/decode.h>
#include <webp/demux.h>

#include <cstring>
#include <memory>

#include "engine/data/image_decode.h"
#include "kernels/common.h"

namespace lumen::data::detail {

namespace {

const char* status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK:
      return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
      return "suspended";
    case VP8_STATUS_USER_ABORT:
      return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "not enough data: truncated";
  }
  return "unknown status";
}

struct AnimDecoderDeleter {
  void operator()(WebPAnimDecoder* decoder) const { WebPAnimDecoderDelete(decoder); }
};

// The first frame of an animated WebP, composed on its canvas (width x height, already checked).
void decode_first_frame(const uint8_t* bytes, size_t size, RgbImage* image) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) throw Error("cannot set up the WebP decoder");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  const WebPData data = {bytes, size};
  std::unique_ptr<WebPAnimDecoder, AnimDecoderDeleter> decoder(WebPAnimDecoderNew(&data, &options));
  if (!decoder) throw Error("corrupt or truncated animated WebP (its frames cannot be read)");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info) || int(info.canvas_width) != image->width ||
      int(info.canvas_height) != image->height) {
    throw Error("corrupt animated WebP (the canvas size disagrees with the header)");
  }
  uint8_t* rgba = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetNext(decoder.get(), &rgba, &timestamp)) {
    throw Error("corrupt or truncated animated WebP (its first frame cannot be decoded)");
  }
  const size_t pixels = size_t(image->width) * size_t(image->height);
  for (size_t i = 0; i < pixels; ++i) std::memcpy(&image->pixels[3 * i], &rgba[4 * i], 3);
}

}  // namespace

RgbImage decode_webp(const uint8_t* bytes, size_t size, const DecodeLimits& limits) {
  WebPBitstreamFeatures features;
  const VP8StatusCode header = WebPGetFeatures(bytes, size, &features);
  if (header != VP8_STATUS_OK) {
    throw Error(
        ::lumen::detail::concat("corrupt or truncated WebP header (", status_text(header), ")"));
  }
  check_dimensions(features.width, features.height, limits);
  RgbImage image;
  image.width = features.width;
  image.height = features.height;
  image.pixels.resize(size_t(image.width) * size_t(image.height) * 3);
  if (features.has_animation) {
    decode_first_frame(bytes, size, &image);
    return image;
  }
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) throw Error("cannot set up the WebP decoder");
  config.output.colorspace = MODE_RGB;  // alpha, if any, is dropped
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = image.pixels.data();
  config.output.u.RGBA.stride = image.width * 3;
  config.output.u.RGBA.size = image.pixels.size();
  const VP8StatusCode status = WebPDecode(bytes, size, &config);
  WebPFreeDecBuffer(&config.output);
  if (status != VP8_STATUS_OK) {
    throw Error(
        ::lumen::detail::concat("corrupt or truncated WebP data (", status_text(status), ")"));
  }
  return image;
}

}  // namespace lumen::data::detail
