// The GPU version of the example stage: Lumen's view kernel instantiated with InvertColors in this
// translation unit. Compiled with --fmad=false, as Lumen's own kernel, so its views round like the
// CPU's.
#include "augment/custom_stage_cuda.cuh"
#include "tools/examples/custom_augmentation/invert_colors.h"

namespace example {

lumen::CustomStage invert_colors(float p) {
  return lumen::pointwise_stage_with_cuda("invert_colors", InvertColors{p});
}

}  // namespace example
