// An example custom augmentation stage (lightly's custom augmentation tutorial, in Lumen): inverts
// a view's colours with probability p, the coin drawn from the view's own random stream, so runs
// are reproducible and resumable. One LUMEN_HD definition serves the CPU and the fused GPU
// kernel; invert_colors_cuda.cu compiles the GPU version.
#pragma once

#include "augment/custom_stage.h"

namespace example {

struct InvertColors {
  float p = 0.5f;
  struct Params {
    int invert = 0;
  };
  // Once per view of each sample: the view's parameters.
  LUMEN_HD Params sample(lumen::StageRandom& random) const {
    Params q;
    q.invert = random.uniform() < p ? 1 : 0;
    return q;
  }
  // Every pixel, on [0, 1] values after solarize (before normalize).
  LUMEN_HD void pixel(const Params& q, const lumen::PixelAt&, const lumen::StageRandom&,
                      float rgb[3]) const {
    if (!q.invert) return;
    for (int c = 0; c < 3; ++c) rgb[c] = 1.0f - rgb[c];
  }
};

// The stage with its CPU version only: a GPU run of it is refused.
inline lumen::CustomStage invert_colors_cpu(float p) {
  return lumen::pointwise_stage("invert_colors", InvertColors{p});
}

#if defined(LUMEN_WITH_CUDA)
// The stage with its fused GPU version too (invert_colors_cuda.cu).
lumen::CustomStage invert_colors(float p);
#endif

}  // namespace example
