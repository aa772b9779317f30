// View transforms with lightly's parameters and defaults, and the call that makes the views of a
// batch on the CPU or the GPU.
//
// A ViewConfig mirrors the arguments of lightly's view transforms (SimCLRViewTransform,
// BYOLView1Transform, ...). Colour jitter is scaled as lightly does: brightness =
// cj_strength * cj_bright, contrast = cj_strength * cj_contrast, saturation = cj_strength * cj_sat,
// hue = cj_strength * cj_hue. lightly's deprecated `kernel_size` is ignored by lightly and not
// carried here; the blur's standard deviation is drawn uniformly from `sigmas`.
//
// Order of a view (lightly 1.5.26's): random resized crop (scale (min_scale, max_scale), ratio
// (3/4, 4/3), bilinear or bicubic) -> horizontal flip -> vertical flip -> 90 degree rotation with
// rr_prob -> colour jitter with cj_prob (random op order) -> grayscale -> Gaussian blur -> solarize
// -> normalize; VICReg's views (solarize_before_blur) solarize before the blur.
//
// Where Lumen differs from lightly's PIL pipeline, by design: ops run on float images
// (torchvision's tensor semantics) instead of 8-bit PIL images between ops; the resize is bilinear
// or bicubic without antialiasing (torchvision's tensor resize with antialias=False; bicubic with
// PyTorch's A = -0.75 where PIL's is -0.5, clamped into [0, 1] as 8-bit images are); the blur is a
// true Gaussian truncated at radius ceil(3 sigma) with reflected borders, where PIL approximates a
// Gaussian of the same standard deviation with three box blurs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "augment/custom_stage.h"
#include "engine/core/tensor.h"
#include "kernels/augment.cuh"

namespace lumen {

struct NormalizeConfig {
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};  // ImageNet (lightly's IMAGENET_NORMALIZE)
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

enum class Interpolation { bilinear, bicubic };  // of the random resized crop

// One view's transform; the defaults are lightly's SimCLRTransform.
struct ViewConfig {
  int input_size = 224;
  Interpolation interpolation = Interpolation::bilinear;  // DINO's views: bicubic
  float cj_prob = 0.8f;
  float cj_strength = 1.0f;
  float cj_bright = 0.8f;
  float cj_contrast = 0.8f;
  float cj_sat = 0.8f;
  float cj_hue = 0.2f;
  float min_scale = 0.08f;
  float max_scale = 1.0f;  // the crop's area fraction lies in [min_scale, max_scale]
  float random_gray_scale = 0.2f;
  float gaussian_blur = 0.5f;  // probability of the blur
  std::array<float, 2> sigmas{0.1f, 2.0f};
  float vf_prob = 0.0f;
  float hf_prob = 0.5f;
  float rr_prob = 0.0f;
  // lightly's rr_degrees: unset means rotations by 90 degrees (counter-clockwise). Rotations by a
  // random angle are not supported yet; setting this is an error.
  std::optional<std::array<float, 2>> rr_degrees;
  float solarization_prob = 0.0f;  // BYOL; threshold 128/255 as lightly's RandomSolarization
  // lightly's VICRegViewTransform solarizes before the Gaussian blur, every other view transform
  // after it.
  bool solarize_before_blur = false;
  std::optional<NormalizeConfig> normalize = NormalizeConfig{};
  // The user's own stage, after solarize and before normalize (augment/custom_stage.h).
  std::optional<CustomStage> custom;
};

// The views a method trains on (two for SimCLR, MoCo, SimSiam, BYOL; 2 + n_local_views for DINO,
// sum(crop_counts) for SwAV), in order. Views may differ in size.
struct TransformConfig {
  std::vector<ViewConfig> views;
};

// lightly's presets (with lightly's defaults; input_size overrides the crop size).
TransformConfig simclr_transform(int input_size = 224);
TransformConfig moco_v2_transform(int input_size = 224);
TransformConfig simsiam_transform(int input_size = 224);
// BYOL's asymmetric views: view 1 always blurs and never solarizes; view 2 blurs with p = 0.1 and
// solarizes with p = 0.2. Both use cj (0.4, 0.4, 0.2, 0.1).
TransformConfig byol_transform(int input_size = 224);
// lightly's VICRegTransform: two views of VICRegViewTransform as VICRegTransform passes its
// defaults (cj_strength 0.5 on cj (0.8, 0.8, 0.4, 0.2), solarize 0.1 before the blur 0.5, sigmas
// (0.1, 2); the view class's own default sigmas (0.2, 2) never reach it).
TransformConfig vicreg_transform(int input_size = 224);

// The arguments every DINO view shares, with DINOTransform's defaults (cj_strength 0.5, cj_sat
// 0.4, bicubic crops; the rest as ViewConfig's).
ViewConfig dino_shared_view();

// lightly's DINOTransform arguments, with its defaults. `view` holds the arguments all views share
// (hf_prob, vf_prob, rr_prob, rr_degrees, cj_*, random_gray_scale, sigmas, normalize); each view's
// input_size, crop scale, gaussian_blur and solarization_prob come from the fields here.
struct DINOTransformArgs {
  int global_crop_size = 224;
  std::array<float, 2> global_crop_scale{0.4f, 1.0f};
  int local_crop_size = 96;
  std::array<float, 2> local_crop_scale{0.05f, 0.4f};
  int n_local_views = 6;
  // Blur probabilities of (global view 1, global view 2, every local view).
  std::array<float, 3> gaussian_blur{1.0f, 0.1f, 0.5f};
  float solarization_prob = 0.2f;  // of global view 2 only
  ViewConfig view = dino_shared_view();
};
// Views: global 1 (blur 1.0), global 2 (blur 0.1, solarize 0.2), then n_local_views local views
// (blur 0.5), bicubic crops as lightly's DINOViewTransform. As in lightly 1.5.26, global view 2
// keeps cj_strength 0.5 whatever view.cj_strength is (DINOTransform does not pass cj_strength
// to it); set that view's own cj_strength to change it.
TransformConfig dino_transform(const DINOTransformArgs& args = {});

// lightly's SwaVTransform arguments (MultiCropTranform's crop categories), with its defaults:
// crop_counts[i] views of crop_sizes[i] with crop scale (crop_min_scales[i], crop_max_scales[i]),
// category after category. `view` holds the arguments every crop shares (SwaVViewTransform's
// defaults are ViewConfig's: no solarization).
struct SwaVTransformArgs {
  std::vector<int> crop_sizes{224, 96};
  std::vector<int> crop_counts{2, 6};
  std::vector<float> crop_min_scales{0.14f, 0.05f};
  std::vector<float> crop_max_scales{1.0f, 0.14f};
  ViewConfig view;
};
// Throws, with lightly's message, when the four lists differ in length.
TransformConfig swav_transform(const SwaVTransformArgs& args = {});

// The kernel-side description of a view; throws lumen::Error naming the bad field.
kernels::AugmentViewSpec view_spec(const ViewConfig& config);

// The parameters view `view` of the sample with dataset index `index` gets, for a source image of
// (src_h, src_w): what make_views draws, on every device.
kernels::ViewParams sample_view(const ViewConfig& config, int src_h, int src_w, uint64_t seed,
                                uint64_t epoch, int64_t index, int view);

// Default output dtype: bf16 on the GPU, f32 on the CPU.
DType default_view_dtype(Device device);

// Throws unless every view's custom stage can run where the views are made: on a GPU, a stage
// needs its CUDA version (Lumen does not run a CPU stage in the middle of the fused GPU
// pipeline); on the CPU, its CPU function. The message names the view and the stage. make_views
// checks this before any work; training checks it before anything is built.
void check_custom_stages(const TransformConfig& config, Device device);

// Makes every view of a batch (any number of views, of any sizes; on the GPU in one fused launch
// per 24 views, and one more for the views of each custom stage type).
//   batch:   (B, S_h, S_w, 3) u8, NHWC RGB, on the CPU or a GPU
//   indices: (B) i64, each sample's dataset index (any device; copied to the batch's if needed)
//   returns: one (B, input_size, input_size, 3) tensor per view, NHWC, dtype out_dtype (f32, bf16
//            or f16), on the batch's device. Consecutive views of one size are consecutive row
//            blocks of one allocation, so group_views joins them without a copy.
std::vector<Tensor> make_views(const Tensor& batch, const Tensor& indices, uint64_t seed,
                               uint64_t epoch, const TransformConfig& config, DType out_dtype);
std::vector<Tensor> make_views(const Tensor& batch, const Tensor& indices, uint64_t seed,
                               uint64_t epoch, const TransformConfig& config);

// make_views into existing tensors (preallocated or captured buffers): out[v] must be
// (B, input_size, input_size, 3) f32/bf16/f16 on the batch's device, one per view.
void make_views_into(const Tensor& batch, const Tensor& indices, uint64_t seed, uint64_t epoch,
                     const TransformConfig& config, const std::vector<Tensor>& out);

// Consecutive views of one size: views [first, first + count) are (size, size).
struct ViewGroup {
  int first = 0, count = 0, size = 0;
};
// The runs of consecutive same-size views of a transform, in order: DINO's defaults give
// {0, 2, 224} (the global views) and {2, 6, 96} (the local views).
std::vector<ViewGroup> view_groups(const TransformConfig& config);

// Views of one size as one batch, so that they go through a network in one pass (lightly's
// torch.cat(views[first:first + count])). One tensor per run of consecutive views of equal shape,
// dtype and device:
//   views:   (B, H, W, 3) each, without autograd history
//   returns: per run, (count * B, H, W, 3) with rows [k * B, (k + 1) * B) = view first + k
//            (view-major; row k * B + b is view first + k of sample b)
// Views make_views made are already adjacent in memory: their group is a view of that memory (no
// copy). Other tensors (e.g. the copies a CUDA graph replays from) are copied once into a new
// tensor per run; a run of one view is that view.
std::vector<Tensor> group_views(const std::vector<Tensor>& views);

// Applies explicit parameters on the CPU (tests and fixtures).
//   batch: (B, S_h, S_w, 3) u8 on the CPU; params: (views, B), view v of sample b at v * B + b
std::vector<Tensor> apply_views_cpu(const Tensor& batch,
                                    const std::vector<kernels::ViewParams>& params,
                                    const TransformConfig& config, DType out_dtype = DType::f32);

}  // namespace lumen
