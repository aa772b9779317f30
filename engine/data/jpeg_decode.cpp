// JPEG decoding through libjpeg-turbo's TurboJPEG API. Warnings (premature end of data, corrupt
// entropy data) stop the decode and make the file bad; progressive files with absurd scan counts
// are refused (TJFLAG_LIMITSCANS). CMYK and YCCK files decode to CMYK and are converted to RGB
// with the inverted (Adobe) convention that libjpeg-turbo and PIL use: R = C * K / 255.
#include <turbojpeg.h>

#include <memory>
#include <new>
#include <string>

#include "engine/data/image_decode.h"
#include "kernels/common.h"

namespace lumen::data::detail {

namespace {

struct TjHandleDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};

// The thread's decompressor, kept across images while they decode. A handle that saw a failure is
// never used again: TurboJPEG 2.1's tjDecompressHeader3 returns from a libjpeg error (longjmp)
// without aborting the decompression, so the handle keeps the half-read state of the bad file
// (DSTATE_INHEADER, eoi_reached set). The next jpeg_read_header carries on from that state instead
// of starting over, meets "end of image" at once and reports a tables-only stream: the next good
// file had no image size. Any failure (header or data) therefore drops the handle, and the next
// image gets a fresh one.
class ThreadDecompressor {
 public:
  tjhandle get() {
    if (!handle_) handle_.reset(tjInitDecompress());
    if (!handle_) {
      throw Error(
          ::lumen::detail::concat("cannot create a JPEG decompressor: ", tjGetErrorStr2(nullptr)));
    }
    return handle_.get();
  }
  // Throws the failure `what` with TurboJPEG's message, after dropping the handle; libjpeg's
  // "Insufficient memory" (and TurboJPEG's "Memory allocation failure") become DecodeOutOfMemory
  // for an image of width x height.
  [[noreturn]] void fail(const char* what, int width = 0, int height = 0) {
    const std::string message = tjGetErrorStr2(handle_.get());
    handle_.reset();
    if (message.find("Insufficient memory") != std::string::npos ||
        message.find("Memory allocation failure") != std::string::npos) {
      fail_out_of_memory("JPEG", width, height);
    }
    throw Error(::lumen::detail::concat(what, " (", message, ")"));
  }
  void discard() { handle_.reset(); }

 private:
  std::unique_ptr<void, TjHandleDeleter> handle_;
};

thread_local ThreadDecompressor decompressor;

uint8_t mul255(int a, int b) { return uint8_t((a * b + 127) / 255); }

// Decodes the pixels of a JPEG whose header said width x height and colorspace.
RgbImage decompress(tjhandle tj, const uint8_t* bytes, unsigned long len, int width, int height,
                    int colorspace) {
  const int flags = TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS | TJFLAG_ACCURATEDCT;
  RgbImage image;
  image.width = width;
  image.height = height;
  const size_t pixels = size_t(width) * size_t(height);
  image.pixels.resize(pixels * 3);
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) {
    std::vector<uint8_t> cmyk(pixels * 4);
    if (tjDecompress2(tj, bytes, len, cmyk.data(), width, 0, height, TJPF_CMYK, flags) != 0) {
      decompressor.fail("corrupt or truncated JPEG data", width, height);
    }
    for (size_t i = 0; i < pixels; ++i) {
      const uint8_t* p = &cmyk[4 * i];
      image.pixels[3 * i + 0] = mul255(p[0], p[3]);
      image.pixels[3 * i + 1] = mul255(p[1], p[3]);
      image.pixels[3 * i + 2] = mul255(p[2], p[3]);
    }
    return image;
  }
  if (tjDecompress2(tj, bytes, len, image.pixels.data(), width, 0, height, TJPF_RGB, flags) != 0) {
    decompressor.fail("corrupt or truncated JPEG data", width, height);
  }
  return image;
}

}  // namespace

RgbImage decode_jpeg(const uint8_t* bytes, size_t size, const DecodeLimits& limits) {
  tjhandle tj = decompressor.get();
  const unsigned long len = static_cast<unsigned long>(size);
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, bytes, len, &width, &height, &subsampling, &colorspace) != 0) {
    decompressor.fail("corrupt JPEG header");
  }
  if (width <= 0 || height <= 0) {  // a stream of tables only, or a header cut before its frame
    decompressor.discard();
    throw Error("corrupt or truncated JPEG header (no image size)");
  }
  check_dimensions(width, height, limits);
  try {
    return decompress(tj, bytes, len, width, height, colorspace);
  } catch (const std::bad_alloc&) {
    fail_out_of_memory("JPEG", width, height);
  }
}

}  // namespace lumen::data::detail
