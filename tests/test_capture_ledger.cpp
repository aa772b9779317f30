// The memory bookkeeping of CUDA graph captures (CaptureLedger), which CudaContext follows: what a
// release does with a block allocated during, before or by a discarded capture. Plain C++: runs
// everywhere; the GPU behaviour it drives is tested in test_step_graph.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include "engine/core/capture_ledger.h"

using namespace lumen;
using Release = CaptureLedger::Release;

namespace {
int blocks[8];  // distinct addresses to stand for device blocks
void* block(int i) { return &blocks[i]; }
}  // namespace

TEST_CASE("outside a capture every block is freed and nothing is recorded") {
  CaptureLedger ledger;
  CHECK_FALSE(ledger.active());
  ledger.on_allocate(block(0));
  CHECK(ledger.on_release(block(0)) == Release::free);
  CHECK(ledger.on_release(block(1)) == Release::free);
}

TEST_CASE("a capture frees its own blocks inside it and retains older ones for the graph") {
  CaptureLedger ledger;
  ledger.begin();
  CHECK(ledger.capturing());
  ledger.on_allocate(block(0));  // an intermediate of the captured step
  ledger.on_allocate(block(1));
  CHECK(ledger.on_release(block(0)) == Release::free_in_capture);
  CHECK(ledger.on_release(block(2)) == Release::keep);  // from before: the graph may read it
  CHECK(ledger.on_release(block(1)) == Release::free_in_capture);
  CaptureLedger::Ended ended = ledger.end(false);
  CHECK(ended.outliving == 0);
  REQUIRE(ended.retained.size() == 1);
  CHECK(ended.retained[0] == block(2));
  CHECK_FALSE(ledger.active());
  CHECK(ledger.on_release(block(2)) == Release::free);  // the graph's owner frees it later
}

TEST_CASE("blocks that outlive a capture, or belong to a discarded one, are never freed") {
  CaptureLedger ledger;
  ledger.begin();
  ledger.on_allocate(block(3));  // kept past the capture by the captured code
  ledger.on_allocate(block(4));
  CHECK(ledger.on_release(block(4)) == Release::free_in_capture);
  CaptureLedger::Ended ended = ledger.end(false);
  CHECK(ended.outliving == 1);
  CHECK(ledger.active());  // block 3 is abandoned
  CHECK(ledger.on_release(block(3)) == Release::skip);
  CHECK_FALSE(ledger.active());
  CHECK(ledger.on_release(block(3)) == Release::free);  // the address may be reused later

  ledger.begin();  // a capture that failed: everything it allocated is abandoned
  ledger.on_allocate(block(5));
  ledger.on_allocate(block(6));
  CHECK(ledger.on_release(block(7)) == Release::keep);
  ended = ledger.end(true);
  CHECK(ended.outliving == 2);
  CHECK(ended.retained.size() == 1);  // the caller frees these: no graph will read them
  CHECK(ledger.on_release(block(6)) == Release::skip);
  CHECK(ledger.on_release(block(5)) == Release::skip);
  CHECK_FALSE(ledger.active());
}

TEST_CASE("captures do not nest, and an end needs a begin") {
  CaptureLedger ledger;
  CHECK_THROWS_WITH_AS(ledger.end(false), doctest::Contains("not begun"), Error);
  ledger.begin();
  CHECK_THROWS_WITH_AS(ledger.begin(), doctest::Contains("do not nest"), Error);
  ledger.end(false);
}
