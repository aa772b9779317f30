// CUDA graphs of the training step: CudaGraph's capture and replay, its refusals (a host sync, a
// tensor kept past the capture) that leave the context usable, and StepGraph, which must train a
// SimCLR task to the same weights as eager steps. The suite is skipped (support/cuda_main.cpp)
// where no CUDA device is present.
#include "support/testing.h"

#include <cmath>
#include <filesystem>

#include "api/lumen.h"
#include "api/ssl_task.h"
#include "api/train_config.h"
#include "engine/autograd/tape.h"
#include "engine/core/cuda_graph.h"
#include "engine/ops/ops.h"
#include "engine/train/step_graph.h"
#include "support/datasets.h"

using namespace lumen;

namespace {
const Device kGpu = Device::cuda(0);

// loss = sum(w * x); its backward accumulates x into w.grad.
Tensor weighted_sum(const Tensor& w, const Tensor& x) { return sum(mul(w, x)); }
}  // namespace

TEST_CASE("GPU: a captured graph replays on new input data") {
  if (!testing::cuda_or_skip()) return;
  Tensor x = Tensor::full({1000}, 1.0, DType::f32, kGpu);
  Tensor y = Tensor::zeros({1000}, DType::f32, kGpu);
  auto ctx = x.storage()->context();
  CudaGraph graph;
  graph.capture(ctx, [&] { y.copy_from(add(scale(x, 2.0), x)); });  // y = 3x, via a temporary
  REQUIRE(graph.captured());
  CHECK(graph.node_count() >= 2);
  CHECK(y.to_doubles()[0] == 0.0);  // capturing runs nothing
  for (double v : {1.0, 5.0, -2.0}) {
    x.copy_from(Tensor::full({1000}, v));
    graph.replay();
    const std::vector<double> out = y.to_doubles();
    CHECK(out.front() == doctest::Approx(3 * v));
    CHECK(out.back() == doctest::Approx(3 * v));
  }
}

TEST_CASE("GPU: a capture that syncs or keeps a tensor fails clearly; the context stays usable") {
  if (!testing::cuda_or_skip()) return;
  Tensor x = Tensor::full({256}, 2.0, DType::f32, kGpu);
  auto ctx = x.storage()->context();
  {
    CudaGraph graph;
    CHECK_THROWS_AS(graph.capture(ctx, [&] { (void)sum(x).item(); }), Error);
    CHECK_FALSE(graph.captured());
  }
  {
    CudaGraph graph;
    Tensor kept;
    CHECK_THROWS_WITH_AS(graph.capture(ctx, [&] { kept = scale(x, 3.0); }),
                         doctest::Contains("still in use after it"), Error);
    CHECK_FALSE(graph.captured());
    kept = Tensor();  // its block belonged to the discarded graph: releasing it is a no-op
  }
  // Eager work, allocation included, runs as before.
  CHECK(sum(scale(x, 0.5)).item() == doctest::Approx(256.0));

  // StepGraph falls back to eager steps when its capture fails, with the loss still right.
  Tensor w = Tensor::full({256}, 1.0, DType::f32, kGpu).set_requires_grad();
  StepGraph graph(StepGraph::Options{true, 1});
  for (int step = 0; step < 3; ++step) {
    Tensor loss = graph.run({x}, [&](const std::vector<Tensor>& in) {
      Tensor l = weighted_sum(w, in[0]);
      l.backward();
      (void)l.item();  // a host sync: cannot be captured
      return l;
    });
    CHECK(loss.item() == doctest::Approx(512.0));
  }
  CHECK(graph.replays() == 0);
  CHECK(graph.reason().find("capture failed") != std::string::npos);
  CHECK(w.grad().to_doubles()[0] == doctest::Approx(6.0));  // three steps of dw = x
}

TEST_CASE(
    "GPU: every method's steps replayed from a CUDA graph train to the eager steps' weights") {
  if (!testing::cuda_or_skip()) return;
  const std::string dir = testing::temp_dir("step_graph");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 64, 4, 1);
  for (const char* method : {"simclr", "byol", "simsiam", "dcl", "dclw", "mocov2", "nnclr"}) {
    CAPTURE(method);
    // MoCo's and NNCLR's banks keep their FIFO position on the host: those steps stay eager.
    const bool capturable = std::string(method) != "mocov2" && std::string(method) != "nnclr";
    auto run = [&](bool graphs, const std::string& out) {
      std::vector<std::string> args = {
          "method=" + std::string(method),
          "input_dir=" + data,
          "output_dir=" + out,
          "device=cuda",
          "model.name=resnet-9",
          "model.width=0.25",
          "model.out_dim=16",
          "collate.input_size=16",
          "loader.batch_size=16",
          "trainer.precision=32",
          "trainer.graph_warmup=2",
          "trainer.cuda_graph=" + std::string(graphs ? "true" : "false"),
          "seed=5"};
      Config schema(train_config_schema(method));
      if (schema.has("model.hidden_dim")) args.push_back("model.hidden_dim=32");
      if (schema.has("model.prediction_hidden_dim"))
        args.push_back("model.prediction_hidden_dim=32");
      if (schema.has("criterion.memory_bank_size")) args.push_back("criterion.memory_bank_size=64");
      SelfSupervisedTask task(read_train_options(train_config(args)));
      TrainerOptions options;
      options.max_epochs = 3;  // 12 steps: 2 eager, then the capture and 10 replays
      options.output_dir = out;
      options.quiet = true;
      train(task, options);
      if (graphs && capturable) {
        CHECK(task.step_graph().reason() == "");
        CHECK(task.step_graph().replays() == 10);
      } else {
        CHECK(task.step_graph().replays() == 0);
        if (graphs) CHECK(task.step_graph().reason().find("host") != std::string::npos);
      }
      std::map<std::string, std::vector<double>> state;
      for (auto& [name, t] : task.state()) state[name] = t.to_doubles();
      return state;
    };
    const auto eager = run(false, dir + "/eager_" + method);
    const auto graphed = run(true, dir + "/graph_" + method);
    REQUIRE(eager.size() == graphed.size());
    for (const auto& [name, values] : eager) {
      CAPTURE(name);
      const std::vector<double>& other = graphed.at(name);
      REQUIRE(other.size() == values.size());
      if (name.find("num_batches_tracked") != std::string::npos) {
        CHECK(other == values);  // 2 forwards per step, 12 steps: advanced on the host per replay
        CHECK(values[0] == 24);
        continue;
      }
      double diff = 0, norm = 0;
      for (size_t i = 0; i < values.size(); ++i) {
        diff += (other[i] - values[i]) * (other[i] - values[i]);
        norm += values[i] * values[i];
      }
      // The same kernels on the same data; only cuDNN's atomics may order sums differently.
      CHECK(std::sqrt(diff) <= 1e-4 * std::sqrt(norm) + 1e-7);
    }
  }
  std::filesystem::remove_all(dir);
}
