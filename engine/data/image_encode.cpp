#include "engine/data/image_encode.h"

#include <turbojpeg.h>

#include <memory>

#include "kernels/common.h"

namespace lumen::data {

std::vector<uint8_t> encode_jpeg(const uint8_t* rgb, int width, int height, int quality) {
  LUMEN_CHECK(width > 0 && height > 0 && quality >= 1 && quality <= 100, "encode_jpeg: ", width,
              "x", height, " at quality ", quality);
  struct Destroy {
    void operator()(void* h) const { tjDestroy(h); }
  };
  const std::unique_ptr<void, Destroy> handle(tjInitCompress());
  LUMEN_CHECK(handle, "encode_jpeg: TurboJPEG could not start: ", tjGetErrorStr2(nullptr));
  unsigned char* out = nullptr;
  unsigned long size = 0;
  const int status = tjCompress2(handle.get(), rgb, width, 0, height, TJPF_RGB, &out, &size,
                                 TJSAMP_420, quality, TJFLAG_ACCURATEDCT);
  if (status != 0) {
    const std::string reason = tjGetErrorStr2(handle.get());
    tjFree(out);
    LUMEN_FAIL("encode_jpeg: ", reason);
  }
  std::vector<uint8_t> bytes(out, out + size);
  tjFree(out);
  return bytes;
}

}  // namespace lumen::data
