// Resizing decoded images to the cache's storage size.
//
// The storage transform is torchvision's Resize(S) followed by CenterCrop(S): the shorter side
// becomes S (the longer one int(S * long / short)), then the centre S x S square is kept (offset
// round((L - S) / 2)). Resampling is antialiased bilinear, i.e. a triangle filter whose support
// widens with the downscale factor — what PIL's BILINEAR and torchvision's antialias=True do — so
// that large images shrink without aliasing. Only the pixels inside the crop are computed.
#pragma once

#include <cstdint>

namespace lumen::data {

// src: (height, width, 3) u8  →  dst: (size, size, 3) u8
void resize_shorter_and_center_crop(const uint8_t* src, int width, int height, uint8_t* dst,
                                    int size);

}  // namespace lumen::data
