#include "augment/transform.h"

#include <algorithm>
#include <cmath>

#include "kernels/augment.h"

namespace lumen {

TransformConfig simclr_transform(int input_size) {
  ViewConfig view;
  view.input_size = input_size;
  return {{view, view}};
}

namespace {
// MoCo v2 and SimSiam share these in lightly: weaker jitter, larger crops.
ViewConfig moco_like_view(int input_size) {
  ViewConfig view;
  view.input_size = input_size;
  view.cj_bright = 0.4f;
  view.cj_contrast = 0.4f;
  view.cj_sat = 0.4f;
  view.cj_hue = 0.1f;
  view.min_scale = 0.2f;
  return view;
}

void check_probability(float p, const char* name) {
  LUMEN_CHECK(p >= 0.0f && p <= 1.0f, "augmentation config: ", name, " = ", p,
              " is not a probability; use a value in [0, 1]");
}
}  // namespace

TransformConfig moco_v2_transform(int input_size) {
  const ViewConfig view = moco_like_view(input_size);
  return {{view, view}};
}

TransformConfig simsiam_transform(int input_size) {
  const ViewConfig view = moco_like_view(input_size);
  return {{view, view}};
}

TransformConfig byol_transform(int input_size) {
  ViewConfig view1;
  view1.input_size = input_size;
  view1.cj_bright = 0.4f;
  view1.cj_contrast = 0.4f;
  view1.cj_sat = 0.2f;
  view1.cj_hue = 0.1f;
  view1.gaussian_blur = 1.0f;
  view1.solarization_prob = 0.0f;
  ViewConfig view2 = view1;
  view2.gaussian_blur = 0.1f;
  view2.solarization_prob = 0.2f;
  return {{view1, view2}};
}

TransformConfig vicreg_transform(int input_size) {
  ViewConfig view;
  view.input_size = input_size;
  view.cj_strength = 0.5f;
  view.cj_sat = 0.4f;
  view.solarization_prob = 0.1f;
  view.solarize_before_blur = true;
  return {{view, view}};
}

ViewConfig dino_shared_view() {
  ViewConfig view;
  view.interpolation = Interpolation::bicubic;
  view.cj_strength = 0.5f;
  view.cj_sat = 0.4f;
  return view;
}

TransformConfig dino_transform(const DINOTransformArgs& a) {
  LUMEN_CHECK(a.n_local_views >= 0, "DINOTransform: n_local_views = ", a.n_local_views,
              " must not be negative");
  auto view = [&](int size, const std::array<float, 2>& scale, float blur, float solarize) {
    ViewConfig v = a.view;
    v.input_size = size;
    v.min_scale = scale[0];
    v.max_scale = scale[1];
    v.gaussian_blur = blur;
    v.solarization_prob = solarize;
    return v;
  };
  TransformConfig t;
  t.views.push_back(view(a.global_crop_size, a.global_crop_scale, a.gaussian_blur[0], 0.0f));
  t.views.push_back(
      view(a.global_crop_size, a.global_crop_scale, a.gaussian_blur[1], a.solarization_prob));
  // lightly 1.5.26 does not pass cj_strength to global view 2, which keeps DINOViewTransform's
  // default.
  t.views.back().cj_strength = dino_shared_view().cj_strength;
  for (int i = 0; i < a.n_local_views; ++i) {
    t.views.push_back(view(a.local_crop_size, a.local_crop_scale, a.gaussian_blur[2], 0.0f));
  }
  return t;
}

TransformConfig swav_transform(const SwaVTransformArgs& a) {
  const size_t n = a.crop_sizes.size();
  LUMEN_CHECK(a.crop_counts.size() == n, "Length of crop_sizes and crop_counts must be equal but ",
              "are ", n, " and ", a.crop_counts.size(), ".");
  LUMEN_CHECK(a.crop_min_scales.size() == n, "Length of crop_sizes and crop_min_scales must be ",
              "equal but are ", n, " and ", a.crop_min_scales.size(), ".");
  LUMEN_CHECK(a.crop_max_scales.size() == n, "Length of crop_sizes and crop_max_scales must be ",
              "equal but are ", n, " and ", a.crop_max_scales.size(), ".");
  TransformConfig t;
  for (size_t i = 0; i < n; ++i) {
    LUMEN_CHECK(a.crop_counts[i] >= 0, "SwaVTransform: crop_counts[", i, "] = ", a.crop_counts[i],
                " must not be negative");
    ViewConfig v = a.view;
    v.input_size = a.crop_sizes[i];
    v.min_scale = a.crop_min_scales[i];
    v.max_scale = a.crop_max_scales[i];
    for (int k = 0; k < a.crop_counts[i]; ++k) t.views.push_back(v);
  }
  LUMEN_CHECK(!t.views.empty(), "SwaVTransform: crop_counts make no view; give at least one crop");
  return t;
}

kernels::AugmentViewSpec view_spec(const ViewConfig& c) {
  LUMEN_CHECK(c.input_size >= 1 && c.input_size <= 8192,
              "augmentation config: input_size = ", c.input_size,
              " is out of range; use a crop size in [1, 8192]");
  check_probability(c.cj_prob, "cj_prob");
  check_probability(c.random_gray_scale, "random_gray_scale");
  check_probability(c.gaussian_blur, "gaussian_blur");
  check_probability(c.vf_prob, "vf_prob");
  check_probability(c.hf_prob, "hf_prob");
  check_probability(c.rr_prob, "rr_prob");
  check_probability(c.solarization_prob, "solarization_prob");
  LUMEN_CHECK(c.cj_strength >= 0 && c.cj_bright >= 0 && c.cj_contrast >= 0 && c.cj_sat >= 0 &&
                  c.cj_hue >= 0,
              "augmentation config: cj_strength, cj_bright, cj_contrast, cj_sat and cj_hue must be "
              "non-negative");
  const float hue = c.cj_strength * c.cj_hue;
  LUMEN_CHECK(hue <= 0.5f, "augmentation config: cj_strength * cj_hue = ", hue,
              " exceeds 0.5 (torchvision's limit for hue); lower cj_hue or cj_strength");
  LUMEN_CHECK(c.min_scale > 0.0f && c.min_scale <= 1.0f,
              "augmentation config: min_scale = ", c.min_scale, " must lie in (0, 1]");
  LUMEN_CHECK(c.max_scale >= c.min_scale && c.max_scale <= 1.0f,
              "augmentation config: the crop scale (", c.min_scale, ", ", c.max_scale,
              ") must satisfy min_scale <= max_scale <= 1");
  LUMEN_CHECK(c.sigmas[0] > 0.0f && c.sigmas[0] <= c.sigmas[1] && c.sigmas[1] <= 21.0f,
              "augmentation config: sigmas = (", c.sigmas[0], ", ", c.sigmas[1],
              ") must satisfy 0 < min <= max <= 21");
  LUMEN_CHECK(!c.rr_degrees.has_value(),
              "augmentation config: rr_degrees (rotation by a random angle) is not supported yet; "
              "leave it unset for lightly's 90 degree rotations");
  kernels::AugmentViewSpec s;
  s.out_h = s.out_w = c.input_size;
  s.interpolation =
      c.interpolation == Interpolation::bicubic ? kernels::kBicubic : kernels::kBilinear;
  s.scale_min = c.min_scale;
  s.scale_max = c.max_scale;
  s.ratio_min = 3.0f / 4.0f;
  s.ratio_max = 4.0f / 3.0f;
  s.log_ratio_min = float(std::log(3.0 / 4.0));
  s.log_ratio_max = float(std::log(4.0 / 3.0));
  s.rotate90_prob = c.rr_prob;
  s.hflip_prob = c.hf_prob;
  s.vflip_prob = c.vf_prob;
  s.jitter_prob = c.cj_prob;
  s.brightness = c.cj_strength * c.cj_bright;
  s.contrast = c.cj_strength * c.cj_contrast;
  s.saturation = c.cj_strength * c.cj_sat;
  s.hue = hue;
  s.grayscale_prob = c.random_gray_scale;
  s.blur_prob = c.gaussian_blur;
  s.sigma_min = c.sigmas[0];
  s.sigma_max = c.sigmas[1];
  s.solarize_prob = c.solarization_prob;
  s.solarize_threshold = 128.0f / 255.0f;
  s.normalize = c.normalize.has_value() ? 1 : 0;
  s.solarize_before_blur = c.solarize_before_blur ? 1 : 0;
  if (c.normalize) {
    for (int k = 0; k < 3; ++k) {
      LUMEN_CHECK(c.normalize->std[k] > 0.0f, "augmentation config: normalize std[", k,
                  "] = ", c.normalize->std[k], " must be positive");
      s.mean[k] = c.normalize->mean[k];
      s.std[k] = c.normalize->std[k];
    }
  }
  return s;
}

kernels::ViewParams sample_view(const ViewConfig& config, int src_h, int src_w, uint64_t seed,
                                uint64_t epoch, int64_t index, int view) {
  return kernels::sample_view_params(view_spec(config), src_h, src_w, seed, epoch, index, view);
}

DType default_view_dtype(Device device) { return device.is_cuda() ? DType::bf16 : DType::f32; }

void check_custom_stages(const TransformConfig& config, Device device) {
  for (size_t v = 0; v < config.views.size(); ++v) {
    const std::optional<CustomStage>& stage = config.views[v].custom;
    if (!stage) continue;
    LUMEN_CHECK(!device.is_cuda() || stage->cuda.has_value(), "view ", v + 1, "'s custom stage '",
                stage->name, "' has only a CPU version, and the views are made on ", device.str(),
                ": Lumen does not run a CPU stage inside the fused GPU pipeline. Give the stage a "
                "CUDA version (lumen::pointwise_stage_with_cuda in a .cu file, "
                "augment/custom_stage_cuda.cuh), or train with device=cpu");
    LUMEN_CHECK(device.is_cuda() || static_cast<bool>(stage->cpu), "view ", v + 1,
                "'s custom stage '", stage->name,
                "' has no CPU function (CustomStage::cpu), and the views are made on the CPU; "
                "give it one, or train on a GPU");
  }
}

namespace {
std::vector<kernels::AugmentViewSpec> specs_of(const TransformConfig& config) {
  LUMEN_CHECK(!config.views.empty(), "augmentation config has no views; give at least one");
  std::vector<kernels::AugmentViewSpec> specs;
  for (const ViewConfig& v : config.views) specs.push_back(view_spec(v));
  return specs;
}

void check_batch(const Tensor& batch, const char* op) {
  check_defined(batch, op);
  LUMEN_CHECK(batch.dtype() == DType::u8 && batch.ndim() == 4 && batch.size(3) == 3, op,
              ": the batch must be (B, S_h, S_w, 3) u8 NHWC RGB images, got ", batch.str(),
              "; convert grayscale/RGBA images to RGB when decoding");
  LUMEN_CHECK(
      batch.size(1) >= 1 && batch.size(2) >= 1 && batch.size(1) <= 65536 && batch.size(2) <= 65536,
      op, ": image size ", batch.size(1), "x", batch.size(2), " is out of range");
}

void check_out_dtype(DType dtype, const char* op) {
  LUMEN_CHECK(dtype == DType::f32 || dtype == DType::bf16 || dtype == DType::f16, op,
              ": output dtype ", dtype_name(dtype), " is not supported; use f32, bf16 or f16");
}

// One allocation per run of consecutive views of one size, each view a block of its rows: the
// layout group_views returns without copying.
std::vector<Tensor> allocate_views(const Tensor& batch,
                                   const std::vector<kernels::AugmentViewSpec>& specs,
                                   DType dtype) {
  const int64_t b = batch.size(0);
  std::vector<Tensor> out;
  for (size_t first = 0; first < specs.size();) {
    size_t end = first + 1;
    while (end < specs.size() && specs[end].out_h == specs[first].out_h &&
           specs[end].out_w == specs[first].out_w) {
      ++end;
    }
    const int64_t count = int64_t(end - first);
    Tensor block =
        Tensor::empty_on({count * b, specs[first].out_h, specs[first].out_w, 3}, dtype, batch);
    for (int64_t k = 0; k < count; ++k) out.push_back(block.rows(k * b, b));
    first = end;
  }
  return out;
}
// The GPU side of make_views_into: the views without a custom stage in the library's launches,
// the views of each custom stage type in that type's.
void make_views_cuda(const Tensor& batch, const Tensor& idx, uint64_t seed, uint64_t epoch,
                     const TransformConfig& config,
                     const std::vector<kernels::AugmentViewSpec>& specs,
                     const std::vector<Tensor>& out) {
  const int64_t b = batch.size(0);
  kernels::AugmentBatch a;
  a.src = batch.data<uint8_t>();
  a.batch = b;
  a.src_h = int(batch.size(1));
  a.src_w = int(batch.size(2));
  a.indices = idx.data<int64_t>();
  a.seed = seed;
  a.epoch = epoch;
  a.stream = stream_of(batch);
  // A launch: its views' entries, and for a custom stage type the views' stage objects.
  struct Launch {
    const CudaStage* stage = nullptr;  // null: the library's kernel
    std::vector<kernels::AugmentViewEntry> entries;
    std::vector<unsigned char> objects;
  };
  std::vector<Launch> launches(1);
  int64_t scratch_floats = 0;
  for (size_t v = 0; v < specs.size(); ++v) {
    kernels::AugmentViewEntry entry;
    entry.spec = specs[v];
    entry.view = int(v);
    entry.out = out[v].raw_data();
    entry.scratch_offset = scratch_floats;
    scratch_floats += kernels::augment_scratch_floats(specs[v], b);
    Launch* launch = &launches[0];
    if (const std::optional<CustomStage>& custom = config.views[v].custom) {
      const CudaStage& stage = *custom->cuda;  // check_custom_stages made sure it exists
      auto it = std::find_if(launches.begin(), launches.end(), [&](const Launch& l) {
        return l.stage != nullptr && l.stage->type == stage.type;
      });
      if (it == launches.end()) it = launches.insert(launches.end(), Launch{&stage, {}, {}});
      LUMEN_CHECK(stage.object.size() == it->stage->object.size(), "view ", v + 1,
                  "'s custom stage '", custom->name, "' has the type of another view's stage ",
                  "but not its size; make both with lumen::cuda_stage");
      it->objects.insert(it->objects.end(), stage.object.begin(), stage.object.end());
      launch = &*it;
    }
    launch->entries.push_back(entry);
  }
  Tensor scratch;
  if (scratch_floats > 0) {
    scratch = Tensor::empty_on({scratch_floats}, DType::f32, batch);
    a.scratch = scratch.data<float>();
  }
  const DType dtype = out[0].dtype();
  const int kernel = dtype == DType::f32 ? 0 : dtype == DType::bf16 ? 1 : 2;  // CudaStage::launch
  for (const Launch& l : launches) {
    const int count = int(l.entries.size());
    if (l.stage != nullptr) {
      l.stage->launch[kernel](a, l.entries.data(), l.objects.data(), count);
      continue;
    }
    dispatch_float(dtype, "make_views", [&](auto tag) {
      LUMEN_ON_CUDA(kernels::augment_views_cuda<decltype(tag)>(a, l.entries.data(), count));
    });
  }
}
}  // namespace

void make_views_into(const Tensor& batch, const Tensor& indices, uint64_t seed, uint64_t epoch,
                     const TransformConfig& config, const std::vector<Tensor>& out) {
  const char* op = "make_views";
  check_batch(batch, op);
  check_defined(indices, op);
  LUMEN_CHECK(
      indices.dtype() == DType::i64 && indices.ndim() == 1 && indices.size(0) == batch.size(0), op,
      ": indices must be (B) i64 with B = ", batch.size(0), ", got ", indices.str());
  const std::vector<kernels::AugmentViewSpec> specs = specs_of(config);
  LUMEN_CHECK(out.size() == specs.size(), op, ": ", out.size(), " output tensors for ",
              specs.size(), " views; pass one per view");
  const DType out_dtype = out[0].dtype();
  check_out_dtype(out_dtype, op);
  const int64_t b = batch.size(0);
  for (size_t v = 0; v < out.size(); ++v) {
    check_defined(out[v], op);
    const Shape want{b, specs[v].out_h, specs[v].out_w, 3};
    LUMEN_CHECK(out[v].shape() == want && out[v].dtype() == out_dtype, op, ": output of view ", v,
                " is ", out[v].str(), ", expected ", shape_str(want), " ", dtype_name(out_dtype));
    check_same_device(out[v], batch, op);
  }
  check_custom_stages(config, batch.device());
  const int src_h = int(batch.size(1)), src_w = int(batch.size(2));
  if (b == 0) return;
  const int views = int(specs.size());
  Tensor idx = indices.device() == batch.device() ? indices : indices.to(batch.device());
  if (batch.is_cuda()) {
    make_views_cuda(batch, idx, seed, epoch, config, specs, out);
    return;
  }
  std::vector<kernels::CpuViewStage> stages(specs.size());
  for (int v = 0; v < views; ++v) {
    if (!config.views[v].custom) continue;
    stages[v].context = &config.views[v].custom->cpu;
    stages[v].apply = [](const void* context, float* hwc, int h, int w, StageRandom& random) {
      (*static_cast<const decltype(CustomStage::cpu)*>(context))(ViewImage{hwc, h, w}, random);
    };
  }
  dispatch_float(out_dtype, op, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T*> ptrs;
    for (const Tensor& t : out) ptrs.push_back(t.data<T>());
    kernels::augment_views_cpu<T>(batch.data<uint8_t>(), b, src_h, src_w, idx.data<int64_t>(),
                                  specs.data(), views, seed, epoch, ptrs.data(), stages.data());
  });
}

std::vector<Tensor> make_views(const Tensor& batch, const Tensor& indices, uint64_t seed,
                               uint64_t epoch, const TransformConfig& config, DType out_dtype) {
  check_batch(batch, "make_views");
  check_out_dtype(out_dtype, "make_views");
  std::vector<Tensor> out = allocate_views(batch, specs_of(config), out_dtype);
  make_views_into(batch, indices, seed, epoch, config, out);
  return out;
}

std::vector<Tensor> make_views(const Tensor& batch, const Tensor& indices, uint64_t seed,
                               uint64_t epoch, const TransformConfig& config) {
  return make_views(batch, indices, seed, epoch, config, default_view_dtype(batch.device()));
}

std::vector<ViewGroup> view_groups(const TransformConfig& config) {
  std::vector<ViewGroup> groups;
  for (int v = 0; v < int(config.views.size()); ++v) {
    const int size = config.views[v].input_size;
    if (groups.empty() || groups.back().size != size) {
      groups.push_back({v, 1, size});
    } else {
      ++groups.back().count;
    }
  }
  return groups;
}

std::vector<Tensor> group_views(const std::vector<Tensor>& views) {
  const char* op = "group_views";
  std::vector<Tensor> groups;
  for (size_t first = 0; first < views.size();) {
    const Tensor& head = views[first];
    check_defined(head, op);
    LUMEN_CHECK(head.ndim() >= 1, op, ": view ", first, " is ", head.str(), "; views are (B, ...)");
    size_t end = first;
    bool adjacent = true;
    for (; end < views.size(); ++end) {
      const Tensor& v = views[end];
      check_defined(v, op);
      LUMEN_CHECK(!v.requires_grad(), op, ": view ", end, " requires grad; group the views (the ",
                  "inputs) before anything records on them");
      if (v.shape() != head.shape() || v.dtype() != head.dtype() || v.device() != head.device()) {
        break;
      }
      adjacent = adjacent && v.storage() == head.storage() &&
                 v.impl()->byte_offset == head.impl()->byte_offset + (end - first) * head.nbytes();
    }
    const int64_t count = int64_t(end - first), b = head.size(0);
    Shape shape = head.shape();
    shape[0] = count * b;
    if (count == 1) {
      groups.push_back(head);
    } else if (adjacent) {
      groups.push_back(
          Tensor::view_of(head.storage(), head.impl()->byte_offset, shape, head.dtype()));
    } else {
      Tensor block = Tensor::empty_on(shape, head.dtype(), head);
      for (int64_t k = 0; k < count; ++k) block.rows(k * b, b).copy_from(views[first + k]);
      groups.push_back(block);
    }
    first = end;
  }
  return groups;
}

std::vector<Tensor> apply_views_cpu(const Tensor& batch,
                                    const std::vector<kernels::ViewParams>& params,
                                    const TransformConfig& config, DType out_dtype) {
  const char* op = "apply_views_cpu";
  check_batch(batch, op);
  check_out_dtype(out_dtype, op);
  LUMEN_CHECK(!batch.is_cuda(), op, ": the batch must be on the CPU, got ", batch.str());
  const std::vector<kernels::AugmentViewSpec> specs = specs_of(config);
  const int64_t b = batch.size(0);
  const int src_h = int(batch.size(1)), src_w = int(batch.size(2));
  LUMEN_CHECK(int64_t(params.size()) == b * int64_t(specs.size()), op, ": expected ",
              b * int64_t(specs.size()), " parameter sets (views x batch), got ", params.size());
  for (const kernels::ViewParams& p : params) {
    LUMEN_CHECK(p.crop_h >= 1 && p.crop_w >= 1 && p.crop_top >= 0 && p.crop_left >= 0 &&
                    p.crop_top + p.crop_h <= src_h && p.crop_left + p.crop_w <= src_w,
                op, ": crop box (top ", p.crop_top, ", left ", p.crop_left, ", ", p.crop_h, "x",
                p.crop_w, ") lies outside the ", src_h, "x", src_w, " image");
    LUMEN_CHECK(p.blur_radius >= 0 && p.blur_radius <= kernels::kMaxBlurRadius &&
                    (p.blur_radius == 0 || p.blur_sigma > 0.0f),
                op, ": blur radius ", p.blur_radius, " / sigma ", p.blur_sigma, " is invalid");
    LUMEN_CHECK(p.jitter_ops >= 0 && p.jitter_ops <= 4, op, ": jitter_ops must be in [0, 4]");
    for (int k = 0; k < p.jitter_ops; ++k) {
      LUMEN_CHECK(p.order[k] >= 0 && p.order[k] <= 3, op, ": jitter order entry ", p.order[k],
                  " is not an op (0 brightness, 1 contrast, 2 saturation, 3 hue)");
    }
    LUMEN_CHECK(p.hue >= -0.5f && p.hue <= 0.5f && p.brightness >= 0 && p.contrast >= 0 &&
                    p.saturation >= 0,
                op,
                ": jitter factors out of range (brightness, contrast, saturation >= 0; hue in "
                "[-0.5, 0.5])");
  }
  std::vector<Tensor> out = allocate_views(batch, specs, out_dtype);
  if (b == 0) return out;
  dispatch_float(out_dtype, op, [&](auto tag) {
    using T = decltype(tag);
    std::vector<T*> ptrs;
    for (Tensor& t : out) ptrs.push_back(t.data<T>());
    kernels::augment_apply_cpu<T>(batch.data<uint8_t>(), b, src_h, src_w, params.data(),
                                  specs.data(), int(specs.size()), ptrs.data());
  });
  return out;
}

}  // namespace lumen
