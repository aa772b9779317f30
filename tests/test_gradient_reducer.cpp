// Data parallelism's gradient all-reduce: the tape saying when each gradient is complete, the
// buckets over the flat gradient buffer, and the average over ranks (threads of one process)
// started during backward.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <map>
#include <thread>

#include "engine/dist/gradient_reducer.h"
#include "engine/dist/in_process_group.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/matmul.h"
#include "engine/ops/reduce.h"
#include "support/testing.h"

using namespace lumen;

namespace {

// A chain x -> x w0 -> relu -> w1 -> relu -> w2 of sizes 6 -> 8 -> 16 -> 3, its parameters
// declared in forward order as a network's are.
struct Chain {
  ParameterBuffer params;
  Chain() {
    params.add("w0", {6, 8});
    params.add("w1", {8, 16});
    params.add("w2", {16, 3});
    params.finalize(Device::cpu());
    for (size_t i = 0; i < params.size(); ++i) {
      params[i].copy_from(Tensor::normal(params[i].shape(), 10 + i, 0, 0.5));
    }
  }
  Tensor loss(const Tensor& x) {
    Tensor h = relu(matmul(x, params[0]));
    h = relu(matmul(h, params[1]));
    return sum(matmul(h, params[2]));
  }
};

// Records the order of the reports and each gradient as it was when reported.
class Recorder : public GradientObserver {
 public:
  void gradient_ready(const Tensor& leaf) override {
    order.push_back(leaf.impl());
    at_report[leaf.impl()] = leaf.grad().clone();
  }
  std::vector<TensorImpl*> order;
  std::map<TensorImpl*, Tensor> at_report;
};

}  // namespace

TEST_CASE("the tape reports each parameter once, last layer first, with its final gradient") {
  Chain chain;
  Recorder recorder;
  const Tensor x = Tensor::normal({5, 6}, 1);
  {
    ObserveGradients watch(&recorder);
    chain.loss(x).backward();
  }
  REQUIRE(recorder.order.size() == 3);
  CHECK(recorder.order[0] == chain.params[2].impl());
  CHECK(recorder.order[1] == chain.params[1].impl());
  CHECK(recorder.order[2] == chain.params[0].impl());
  for (size_t i = 0; i < 3; ++i) {
    testing::check_close(recorder.at_report.at(chain.params[i].impl()), chain.params[i].grad(), 0,
                         "gradient when reported");
  }
  // Outside the scope nothing is reported.
  chain.loss(x).backward();
  CHECK(recorder.order.size() == 3);
}

TEST_CASE("buckets cover the flat gradient buffer from its end, at parameter boundaries") {
  Chain chain;  // offsets 0, 64, 192 (64-element alignment), 256 elements in all
  auto comm = single_process_communicator();
  GradientReducer one(chain.params, comm, 4);  // 4 bytes: one parameter per bucket
  const auto spans = one.buckets();
  REQUIRE(spans.size() == 3);
  CHECK(spans[0].start == 192);
  CHECK(spans[0].count == 64);
  CHECK(spans[1].start == 64);
  CHECK(spans[1].count == 128);
  CHECK(spans[2].start == 0);
  CHECK(spans[2].count == 64);
  GradientReducer all(chain.params, comm, 25 << 20);  // everything in one bucket
  REQUIRE(all.buckets().size() == 1);
  CHECK(all.buckets()[0].start == 0);
  CHECK(all.buckets()[0].count == chain.params.gradients().numel());
  CHECK_THROWS_WITH_AS(GradientReducer(chain.params, comm, 0),
                       doctest::Contains("trainer.bucket_mb"), Error);
}

TEST_CASE("3 ranks: every rank ends with the mean of the ranks' gradients, reduced in backward") {
  const int world = 3;
  std::vector<Tensor> inputs, own(world), reduced(world);
  for (int r = 0; r < world; ++r) inputs.push_back(Tensor::normal({4, 6}, 100 + r));
  Tensor expected = Tensor::zeros({256});
  for (int r = 0; r < world; ++r) {
    Chain chain;
    chain.loss(inputs[r]).backward();
    add_inplace(expected, chain.params.gradients(), 1.0 / world);
  }
  auto group = InProcessGroup::create(world);
  std::vector<int> started(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      Chain chain;
      GradientReducer reducer(chain.params, group->communicator(r), 4);
      for (int step = 0; step < 2; ++step) {  // the reducer is reused step after step
        chain.params.zero_grad();
        {
          ObserveGradients watch(&reducer);
          chain.loss(inputs[r]).backward();
        }
        reducer.finish();
      }
      started[r] = reducer.started_in_backward();
      reduced[r] = chain.params.gradients().clone();
    });
  }
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) {
    CAPTURE(r);
    testing::check_scaled(reduced[r], expected, 1e-6, "reduced gradients");
    CHECK(reduced[r].to_doubles() == reduced[0].to_doubles());
    CHECK(started[r] == 3);  // all three buckets started before finish()
  }
}
