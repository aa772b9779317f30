// Custom augmentation stages: a user's own step in a view of a preset, as lightly's custom
// augmentation tutorial adds a torchvision transform to a view's Compose.
//
// A stage runs on each view it is given to (ViewConfig::custom) after every built-in op, on the
// view's [0, 1] values (after solarize), and before normalize. It draws its randomness from the
// view's own stream (StageRandom: Philox keyed by seed, epoch, dataset index and view, like the
// built-in parameters), so it is reproducible, a resumed run draws what the interrupted one would
// have, and the CPU and the GPU draw the same numbers.
//
//   CPU: CustomStage::cpu, any function of the view, (height, width, 3) floats changed in place:
//     stage.cpu = [](lumen::ViewImage image, lumen::StageRandom& random) {...};
//   It is called concurrently for different samples and views: it must not change shared state.
//   GPU: the fused kernel cannot call host code, so a stage that should run on a GPU is written as
//   a pointwise type compiled into the kernel, with per-view parameters drawn once and a function
//   of one pixel (LUMEN_HD, so one definition serves both devices):
//     struct InvertColors {
//       float p = 0.5f;
//       struct Params { int invert = 0; };
//       LUMEN_HD Params sample(lumen::StageRandom& random) const { return {random.uniform() < p}; }
//       LUMEN_HD void pixel(const Params& q, const lumen::PixelAt& at,
//                           const lumen::StageRandom& random, float rgb[3]) const {
//         if (q.invert) for (int c = 0; c < 3; ++c) rgb[c] = 1.0f - rgb[c];
//       }
//     };
//   pointwise_stage(name, fn) makes its CPU version (any .cpp); pointwise_stage_with_cuda(name,
//   fn) from augment/custom_stage_cuda.cuh, in a .cu file compiled with --fmad=false, adds the
//   fused GPU version (the kernel instantiated with the type; views whose stages share a type run
//   in one launch beside the library's). A per-pixel random number is random.uniform_at(k) with k
//   past the draws sample() takes (e.g. 1024 + (at.y * at.w + at.x) * 3 + channel).
// A GPU run of a view whose stage has no CUDA version is an error that says so (no CPU detour):
// check_custom_stages (augment/transform.h) reports it before any work.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "kernels/augment.h"

namespace lumen {

using kernels::PixelAt;
using kernels::StageRandom;

// A view as a custom stage sees it: (height, width, 3) floats, row-major HWC, RGB in [0, 1].
struct ViewImage {
  float* data;
  int height, width;
};

// The fused-kernel version of a stage, made by cuda_stage (augment/custom_stage_cuda.cuh).
struct CudaStage {
  const void* type = nullptr;         // the stage type: views sharing it run in one launch
  std::vector<unsigned char> object;  // the stage object's bytes (its parameters)
  // The kernel instantiated with the type, for f32, bf16 and f16 views.
  std::array<kernels::AugmentStageLaunch, 3> launch{};
};

struct CustomStage {
  std::string name;  // in messages
  std::function<void(ViewImage image, StageRandom& random)> cpu;
  std::optional<CudaStage> cuda;  // none: the stage runs on the CPU only
};

// The CPU version of a pointwise stage type (see above).
template <typename Fn>
CustomStage pointwise_stage(std::string name, const Fn& fn) {
  CustomStage s;
  s.name = std::move(name);
  s.cpu = [fn](ViewImage image, StageRandom& random) {
    const typename Fn::Params q = fn.sample(random);
    for (int y = 0; y < image.height; ++y) {
      for (int x = 0; x < image.width; ++x) {
        fn.pixel(q, PixelAt{y, x, image.height, image.width}, random,
                 image.data + (int64_t(y) * image.width + x) * 3);
      }
    }
  };
  return s;
}

}  // namespace lumen
