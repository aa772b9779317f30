// The fused GPU version of a custom stage (the example's colour inversion, instantiated into
// Lumen's view kernel by tools/examples/custom_augmentation/invert_colors_cuda.cu) against its CPU
// version: the same views from the same draws, on views with and without blur, beside views
// without a stage (a second launch) and across several views of one stage type (one launch). A
// CPU-only stage on a GPU batch is refused. Skips (saying so) where no CUDA device is present;
// built without CUDA, the suite has no GPU version to test and skips the same way.
#include "support/testing.h"

#include "augment/transform.h"
#include "tools/examples/custom_augmentation/invert_colors.h"

using namespace lumen;
using testing::check_close;

#if defined(LUMEN_WITH_CUDA)
namespace {
const Device kGpu = Device::cuda(0);

void compare(const char* name, const TransformConfig& config, int64_t b, int src, DType dtype) {
  CAPTURE(name);
  CAPTURE(dtype_name(dtype));
  Tensor batch = Tensor::uniform({b, src, src, 3}, 12, 0, 256, DType::f32).to(DType::u8);
  std::vector<double> index_values;
  for (int64_t i = 0; i < b; ++i) index_values.push_back(double(50 + 11 * i));
  Tensor indices = Tensor::from_vector(index_values, {b}, DType::i64);
  const std::vector<Tensor> cpu = make_views(batch, indices, 3, 1, config, DType::f32);
  std::vector<Tensor> gpu;
  for (const Tensor& t : cpu) gpu.push_back(testing::poisoned(t.shape(), dtype, kGpu));
  make_views_into(batch.to(kGpu), indices.to(kGpu), 3, 1, config, gpu);
  const double tol = dtype == DType::f32 ? 1e-4 : testing::tolerance(dtype) * 2;
  for (size_t v = 0; v < cpu.size(); ++v) {
    check_close(gpu[v], cpu[v], tol, std::string(name) + " view " + std::to_string(v + 1));
  }
}
}  // namespace

TEST_CASE("GPU: a custom stage's fused version makes the CPU version's views") {
  if (!testing::cuda_or_skip()) return;
  DINOTransformArgs d;
  d.global_crop_size = 24;
  d.local_crop_size = 12;
  TransformConfig dino = dino_transform(d);  // view 1 always blurs, view 2 rarely
  dino.views[0].custom = example::invert_colors(0.5f);
  dino.views[1].custom = example::invert_colors(0.5f);
  dino.views[5].custom = example::invert_colors(0.7f);  // the same type, another object
  TransformConfig simclr = simclr_transform(20);
  simclr.views[1].custom = example::invert_colors(0.5f);
  for (DType t : {DType::f32, DType::bf16}) {
    compare("dino with stages on views 1, 2, 6", dino, 9, 32, t);
    compare("simclr with a stage on view 2", simclr, 17, 28, t);
  }
}

TEST_CASE("GPU: make_views refuses a stage with only a CPU version") {
  if (!testing::cuda_or_skip()) return;
  TransformConfig t = simclr_transform(16);
  t.views[1].custom = example::invert_colors_cpu(0.5f);
  Tensor batch = Tensor::zeros({2, 20, 20, 3}, DType::u8, kGpu);
  Tensor indices = Tensor::from_vector(std::vector<double>{0, 1}, {2}, DType::i64);
  CHECK_THROWS_WITH_AS(make_views(batch, indices, 1, 0, t),
                       doctest::Contains("has only a CPU version"), Error);
}
#endif
