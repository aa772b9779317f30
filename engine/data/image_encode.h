// Encoding 8-bit RGB images, for thumbnails (lumen report): JPEG through TurboJPEG.
#pragma once

#include <cstdint>
#include <vector>

namespace lumen::data {

// rgb: (height, width, 3) u8 -> the bytes of a baseline JPEG (4:2:0 chroma) at quality 1..100.
std::vector<uint8_t> encode_jpeg(const uint8_t* rgb, int width, int height, int quality = 85);

}  // namespace lumen::data
