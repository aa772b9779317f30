// StepGraph on the CPU: it runs steps eagerly there and says why, and refuses bad options (the
// CUDA graphs themselves: test_step_graph_cuda.cpp).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "engine/ops/ops.h"
#include "engine/train/step_graph.h"

using namespace lumen;

namespace {
// loss = sum(w * x); its backward accumulates x into w.grad.
Tensor weighted_sum(const Tensor& w, const Tensor& x) { return sum(mul(w, x)); }
}  // namespace

TEST_CASE("StepGraph runs CPU steps eagerly and says why") {
  Tensor w = Tensor::full({4}, 1.0).set_requires_grad();
  Tensor counter = Tensor::zeros({}, DType::i64);
  StepGraph graph(StepGraph::Options{true, 1}, {counter});
  int calls = 0;
  for (int step = 0; step < 3; ++step) {
    Tensor x = Tensor::full({4}, double(step + 1));
    Tensor loss = graph.run({x}, [&](const std::vector<Tensor>& in) {
      ++calls;
      counter.data<int64_t>()[0] += 1;
      Tensor l = weighted_sum(w, in[0]);
      l.backward();
      return l;
    });
    CHECK(loss.item() == doctest::Approx(4.0 * (step + 1)));
  }
  CHECK(calls == 3);
  CHECK(counter.data<int64_t>()[0] == 3);
  CHECK(graph.replays() == 0);
  CHECK_FALSE(graph.replaying());
  CHECK(graph.reason() == "the step runs on the CPU");
  CHECK(w.grad().to_doubles() == std::vector<double>(4, 6.0));
}

TEST_CASE("StepGraph refuses bad options") {
  CHECK_THROWS_WITH_AS(StepGraph(StepGraph::Options{true, 0}),
                       doctest::Contains("warmup_steps must be at least 1"), Error);
  CHECK_THROWS_WITH_AS(StepGraph(StepGraph::Options{}, {Tensor::zeros({1})}),
                       doctest::Contains("host counters must be i64 CPU tensors"), Error);
  StepGraph off(StepGraph::Options{false, 1});
  CHECK(off.reason() == "CUDA graphs are turned off");
}
