// The Embedder on a GPU: the inference program (bf16 and f32, cuDNN, a CUDA graph per batch
// shape) against the CPU's, and workers on their own streams from several threads at once.
#include "support/testing.h"

#include <thread>

#include "api/embedder.h"
#include "api/lumen.h"

using namespace lumen;

namespace {

Tensor images_of(int64_t n, int size, uint64_t seed) {
  return Tensor::uniform({n, size, size, 3}, seed, 0, 255).to(DType::u8);
}

std::vector<std::string> model_args(const std::string& device, const std::string& precision) {
  return {"model.name=torchvision/resnet18", "model.width=0.5",
          "collate.input_size=64",           "device=" + device,
          "trainer.precision=" + precision,  "seed=2"};
}

}  // namespace

TEST_CASE("GPU embeddings equal the CPU's: f32 closely, bf16 within its precision") {
  if (!testing::cuda_or_skip()) return;
  const Embedder cpu(embed_config(model_args("cpu", "auto")));
  const Tensor images = images_of(5, 64, 1);
  const Tensor expected = cpu.embed(images);
  struct Precision {
    const char* key;
    DType dtype;
    double tolerance;
  };
  for (const Precision& p :
       {Precision{"auto", DType::bf16, 2e-2}, Precision{"32", DType::f32, 1e-4}}) {
    for (bool graphs : {true, false}) {
      CAPTURE(p.key);
      CAPTURE(graphs);
      EmbedderSettings settings;
      settings.cuda_graphs = graphs;
      const Embedder gpu(embed_config(model_args("cuda", p.key)), nullptr, settings);
      CHECK(gpu.dtype() == p.dtype);
      for (int call = 0; call < 3; ++call) {  // the first call is eager, later ones replay
        CAPTURE(call);
        CHECK(testing::relative_norm_error(gpu.embed(images), expected) < p.tolerance);
      }
    }
  }
}

TEST_CASE("GPU workers on their own streams give one thread's results from four threads") {
  if (!testing::cuda_or_skip()) return;
  const Embedder gpu(embed_config(model_args("cuda", "auto")));
  std::vector<Tensor> inputs, expected;
  for (int i = 0; i < 16; ++i) {
    inputs.push_back(images_of(1 + i % 3, 64, 10 + uint64_t(i)));
    expected.push_back(gpu.embed(inputs.back()));
  }
  std::vector<Tensor> got(inputs.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = size_t(t); i < inputs.size(); i += 4) got[i] = gpu.embed(inputs[i]);
    });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(i);
    CHECK(testing::relative_norm_error(got[i], expected[i]) < 1e-6);
  }
}
