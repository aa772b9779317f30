// Custom augmentation stages on the CPU, with the example stage of
// tools/examples/custom_augmentation (colour inversion with probability p from the view's
// stream): it changes exactly the views it is given, as its own draws say, on both pipeline paths
// (with and without blur); it is reproducible and keyed like the built-in draws; a stage's
// exception reaches the caller; training through train_embedding_model works and resumes bit for
// bit; and a GPU run of a stage without a CUDA version is refused, by a check that needs no GPU.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/datasets.h"
#include "support/testing.h"

#include <filesystem>

#include "api/lumen.h"
#include "augment/transform.h"
#include "engine/io/safetensors.h"
#include "tools/examples/custom_augmentation/invert_colors.h"

using namespace lumen;
using testing::check_close;

namespace {

// SimCLR's two views at 16 without normalisation (values stay in [0, 1]), view 2 blurring always
// or never.
TransformConfig plain_views(bool blur) {
  TransformConfig t = simclr_transform(16);
  for (ViewConfig& v : t.views) v.normalize.reset();
  t.views[1].gaussian_blur = blur ? 1.0f : 0.0f;
  return t;
}

// Whether the example stage inverts view `view` of the sample with dataset index `index`: its
// first draw, recomputed from the stream's key.
bool inverts(uint64_t seed, uint64_t epoch, int64_t index, int view, float p) {
  return kernels::stage_random(seed, epoch, index, view).uniform() < p;
}

std::vector<double> indices_of(int64_t n) {
  std::vector<double> out;
  for (int64_t i = 0; i < n; ++i) out.push_back(double(100 + 7 * i));
  return out;
}

// The sample rows of view 2 are the base view's, inverted exactly where the stage's draw says.
// Returns how many samples were inverted.
int check_inverted(const Tensor& with, const Tensor& base, const std::vector<double>& index,
                   uint64_t seed, uint64_t epoch) {
  int inverted = 0;
  for (int64_t b = 0; b < base.size(0); ++b) {
    const bool flip = inverts(seed, epoch, int64_t(index[b]), 1, 0.5f);
    inverted += flip;
    std::vector<float> expected = base.rows(b, 1).to_floats();
    if (flip) {
      for (float& v : expected) v = 1.0f - v;
    }
    CHECK_MESSAGE(with.rows(b, 1).to_floats() == expected, "sample " << b << " inverted " << flip);
  }
  return inverted;
}

std::vector<std::string> recipe(const std::string& data, const std::string& out) {
  return {"method=simclr",
          "input_dir=" + data,
          "output_dir=" + out,
          "device=cpu",
          "model.name=resnet-9",
          "model.width=0.125",
          "model.hidden_dim=32",
          "model.out_dim=16",
          "collate.input_size=16",
          "loader.batch_size=16",
          "trainer.max_epochs=2",
          "trainer.checkpoint_every=1",
          "seed=3"};
}

void check_same_tensors(const std::string& a_path, const std::string& b_path) {
  SafetensorsFile a = load_safetensors(a_path), b = load_safetensors(b_path);
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    CAPTURE(name);
    CHECK(b.tensors.at(name).to_doubles() == t.to_doubles());
  }
}

}  // namespace

TEST_CASE("a CPU stage changes exactly its view, where its own draw says, with and without blur") {
  const int64_t n = 48;
  Tensor batch = Tensor::uniform({n, 24, 20, 3}, 3, 0, 255, DType::f32).to(DType::u8);
  const std::vector<double> index = indices_of(n);
  Tensor idx = Tensor::from_vector(index, {n}, DType::i64);
  for (bool blur : {false, true}) {
    CAPTURE(blur);
    const TransformConfig plain = plain_views(blur);
    TransformConfig custom = plain;
    custom.views[1].custom = example::invert_colors_cpu(0.5f);
    const std::vector<Tensor> base = make_views(batch, idx, 9, 2, plain);
    const std::vector<Tensor> with = make_views(batch, idx, 9, 2, custom);
    check_close(with[0], base[0], 0.0, "view 1 has no stage");
    const int inverted = check_inverted(with[1], base[1], index, 9, 2);
    CHECK(inverted > 0);  // 48 fair coins: both outcomes occur
    CHECK(inverted < n);
  }
  // With normalisation, the stage runs before it: view 2 is normalize(1 - v) where it inverts.
  TransformConfig normalized = simclr_transform(16);
  normalized.views[1].custom = example::invert_colors_cpu(1.0f);
  TransformConfig expected = normalized;
  expected.views[1].custom.reset();
  const std::vector<Tensor> a = make_views(batch, idx, 9, 2, normalized);
  const std::vector<Tensor> b = make_views(batch, idx, 9, 2, expected);
  const std::vector<float> av = a[1].to_floats(), bv = b[1].to_floats();
  const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
  for (size_t i = 0; i < av.size(); i += 997) {
    const int c = int(i % 3);
    const float v = bv[i] * std[c] + mean[c];  // the [0, 1] value before normalisation
    CHECK(av[i] == doctest::Approx(((1.0f - v) - mean[c]) / std[c]).epsilon(1e-5));
  }
}

TEST_CASE("a stage's draws are reproducible and keyed by (seed, epoch, index, view)") {
  const int64_t n = 32;
  Tensor batch = Tensor::uniform({n, 20, 20, 3}, 4, 0, 255, DType::f32).to(DType::u8);
  const std::vector<double> index = indices_of(n);
  Tensor idx = Tensor::from_vector(index, {n}, DType::i64);
  TransformConfig custom = plain_views(false);
  custom.views[1].custom = example::invert_colors_cpu(0.5f);
  const std::vector<Tensor> first = make_views(batch, idx, 5, 1, custom);
  const std::vector<Tensor> again = make_views(batch, idx, 5, 1, custom);
  check_close(again[1], first[1], 0.0, "the same key, the same view");
  // Another epoch draws other coins (and other crops): each epoch's views are its coins applied.
  const std::vector<Tensor> base = make_views(batch, idx, 5, 3, plain_views(false));
  const std::vector<Tensor> later = make_views(batch, idx, 5, 3, custom);
  check_inverted(later[1], base[1], index, 5, 3);
  int changed = 0;
  for (int64_t b = 0; b < n; ++b) {
    changed +=
        inverts(5, 1, int64_t(index[b]), 1, 0.5f) != inverts(5, 3, int64_t(index[b]), 1, 0.5f);
  }
  CHECK(changed > 0);
  // The stream differs with every part of its key, and from the view's own parameter draws.
  const float u = kernels::stage_random(1, 2, 3, 4).uniform_at(0);
  CHECK(u != kernels::stage_random(2, 2, 3, 4).uniform_at(0));
  CHECK(u != kernels::stage_random(1, 3, 3, 4).uniform_at(0));
  CHECK(u != kernels::stage_random(1, 2, 4, 4).uniform_at(0));
  CHECK(u != kernels::stage_random(1, 2, 3, 5).uniform_at(0));
  CHECK(u != philox_uniform(1, (uint64_t(2) << 32) | 4, 3 * kernels::kAugmentDrawsPerView));
  kernels::StageRandom r = kernels::stage_random(1, 2, 3, 4);
  CHECK(r.uniform() == u);
  CHECK(r.uniform() == kernels::stage_random(1, 2, 3, 4).uniform_at(1));
}

TEST_CASE("a stage's exception reaches the caller; a stage without a CPU function is refused") {
  Tensor batch = Tensor::zeros({4, 12, 12, 3}, DType::u8);
  Tensor idx = Tensor::from_vector(std::vector<double>{0, 1, 2, 3}, {4}, DType::i64);
  TransformConfig t = plain_views(false);
  CustomStage bad;
  bad.name = "fails";
  bad.cpu = [](ViewImage, StageRandom&) { LUMEN_FAIL("the stage's own error"); };
  t.views[0].custom = bad;
  CHECK_THROWS_WITH_AS(make_views(batch, idx, 1, 0, t), doctest::Contains("the stage's own error"),
                       Error);
  CustomStage empty;
  empty.name = "gpu_only";
  t.views[0].custom = empty;
  CHECK_THROWS_WITH_AS(make_views(batch, idx, 1, 0, t),
                       doctest::Contains("custom stage 'gpu_only' has no CPU function"), Error);
}

TEST_CASE("a GPU run of a stage without a CUDA version is refused, saying so") {
  TransformConfig t = dino_transform();
  t.views[4].custom = example::invert_colors_cpu(0.5f);
  CHECK_NOTHROW(check_custom_stages(t, Device::cpu()));
  CHECK_THROWS_WITH_AS(check_custom_stages(t, Device::cuda(0)),
                       doctest::Contains("view 5's custom stage 'invert_colors' has only a CPU "
                                         "version, and the views are made on cuda:0"),
                       Error);
  CHECK_THROWS_WITH_AS(check_custom_stages(t, Device::cuda(0)),
                       doctest::Contains("does not run a CPU stage inside the fused GPU pipeline"),
                       Error);
  // A stage with a CUDA version passes the check (its kernel is the caller's; not run here).
  t.views[4].custom->cuda = CudaStage{};
  CHECK_NOTHROW(check_custom_stages(t, Device::cuda(0)));
}

TEST_CASE("training with a custom stage through train_embedding_model works and resumes") {
  const std::string dir = testing::temp_dir("custom_augmentation");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 48, 4, 1);
  const ViewsEdit invert = [](TransformConfig& t) {
    t.views[1].custom = example::invert_colors_cpu(0.5f);
  };
  const std::string straight =
      train_embedding_model(train_config(recipe(data, dir + "/a")), invert);
  // Stopped after the first step of epoch 2 (3 steps an epoch), then resumed with the same edit.
  std::vector<std::string> first = recipe(data, dir + "/b");
  first.push_back("trainer.max_steps=4");
  train_embedding_model(train_config(first), invert);
  std::vector<std::string> rest = recipe(data, dir + "/b");
  rest.push_back("resume=true");
  const std::string resumed = train_embedding_model(train_config(rest), invert);
  check_same_tensors(straight, resumed);
  // The stage changes training: without it the weights differ.
  const std::string plain = train_embedding_model(train_config(recipe(data, dir + "/c")));
  SafetensorsFile with = load_safetensors(straight), without = load_safetensors(plain);
  CHECK(with.tensors.at("backbone.layer1.0.conv1.weight").to_doubles() !=
        without.tensors.at("backbone.layer1.0.conv1.weight").to_doubles());

  // device=cuda: on a machine without a GPU the missing device is reported first; with one, the
  // stage's missing CUDA version, before anything is built.
  std::vector<std::string> gpu = recipe(data, dir + "/d");
  gpu.push_back("device=cuda");
  const char* expected =
      cuda_device_count() == 0 ? "no CUDA device is usable" : "has only a CPU version";
  CHECK_THROWS_WITH_AS(train_embedding_model(train_config(gpu), invert),
                       doctest::Contains(expected), Error);
  std::filesystem::remove_all(dir);
}
