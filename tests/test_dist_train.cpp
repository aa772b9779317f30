// Data-parallel training through `mpirun -np 2 lumen train` on the CPU, against PyTorch DDP's
// semantics:
//   - with trainer.sync_batchnorm and criterion.gather_distributed, 2 ranks of batch B end with the
//     weights of 1 rank of batch 2B (step s of the two ranks is the union of their shards, the
//     augmentations are keyed by dataset index, batch norm sees the whole batch, the loss every
//     rank's rows, and the average of the ranks' gradients is the gradient of the global mean);
//   - without them the run differs as DDP's would (each rank's own batch statistics and
//     negatives), keeps the ranks' parameters equal, and still learns;
//   - one checkpoint set and one metrics file (rank 0), which embed reads; kNN monitoring once;
//   - an interrupted 2-rank run resumed on 2 ranks ends exactly as an uninterrupted one, and a
//     resume on another number of ranks is refused;
//   - the methods whose losses or shuffles cross ranks (MoCo v2, NNCLR, DCL) train on 2 ranks.
// Skipped (exit 77) where MPI or mpirun is missing.
#define DOCTEST_CONFIG_IMPLEMENT
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "engine/io/safetensors.h"
#include "support/datasets.h"
#include "support/mpirun.h"
#include "support/testing.h"

namespace fs = std::filesystem;
using namespace lumen;

namespace {

struct Run {
  int code = -1;
  std::string out;
};

Run shell(const std::string& command) {
  Run r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) r.out.append(buffer, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// `lumen <args>` on `ranks` ranks (1: without mpirun).
Run run_lumen(int ranks, const std::string& args) {
  const std::string program = std::string(LUMEN_CLI_PATH) + " " + args;
  return shell(ranks == 1 ? program : testing::mpirun_prefix(ranks) + program);
}

// A CIFAR-10 batch of n images of random pixels: no flat regions, so rounding-level differences
// between two runs do not decide ties.
std::string write_noise_cifar(const std::string& path, int n, unsigned seed) {
  std::mt19937 random(seed);
  std::ofstream out(path, std::ios::binary);
  for (int i = 0; i < n; ++i) {
    out.put(char(i % 4));
    for (int b = 0; b < 3072; ++b) out.put(char(random() & 0xff));
  }
  return path;
}

// The tiny SimCLR run of these tests: resnet-9 x0.125 on 8x8 views.
std::string tiny(const std::string& data, const std::string& output_dir) {
  return "train input_dir=" + data + " output_dir=" + output_dir +
         " device=cpu model.name=resnet-9 model.width=0.125 model.out_dim=16 "
         "collate.input_size=8 seed=3 ";
}

SafetensorsFile last_checkpoint(const std::string& output_dir) {
  return load_safetensors(output_dir + "/checkpoints/last.safetensors");
}

// Largest scaled error (max |a - b| / max |b|) over the float tensors whose names start (or, with
// prefix "!", do not start) with the prefix; integer tensors must be equal.
double worst_error(const SafetensorsFile& a, const SafetensorsFile& b, const std::string& prefix,
                   std::string* where) {
  const bool negate = !prefix.empty() && prefix[0] == '!';
  const std::string p = negate ? prefix.substr(1) : prefix;
  double worst = 0;
  REQUIRE(a.tensors.size() == b.tensors.size());
  for (const auto& [name, t] : a.tensors) {
    if ((name.rfind(p, 0) == 0) == negate) continue;
    const Tensor& u = b.tensors.at(name);
    if (!dtype_is_float(t.dtype())) {
      CHECK_MESSAGE(t.to_doubles() == u.to_doubles(), name);
      continue;
    }
    const double e = testing::scaled_error(t, u);
    if (e > worst) {
      worst = e;
      *where = name;
    }
  }
  return worst;
}

// A key's value in a checkpoint's config.
std::string config_value(const SafetensorsFile& f, const std::string& key) {
  std::istringstream lines(f.metadata.at("config"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  }
  return "";
}

// The loss of each epoch in output_dir/metrics.jsonl.
std::vector<double> epoch_losses(const std::string& output_dir) {
  std::ifstream in(output_dir + "/metrics.jsonl");
  std::vector<double> losses;
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("\"loss\": ");
    if (at != std::string::npos) losses.push_back(std::stod(line.substr(at + 8)));
  }
  return losses;
}

}  // namespace

TEST_CASE(
    "2 ranks with sync batch norm and gathered negatives end as 1 rank with twice the batch") {
  const std::string dir = testing::temp_dir("dist_equal");
  const std::string data = write_noise_cifar(dir + "/data_batch_1.bin", 16, 1);
  // 2 epochs of one step: the second reshuffles, and momentum and the schedule act.
  const std::string common =
      " trainer.max_epochs=2 trainer.sync_batchnorm=true "
      "criterion.gather_distributed=true";
  const Run one = run_lumen(1, tiny(data, dir + "/one") + "loader.batch_size=16" + common);
  INFO(one.out);
  REQUIRE(one.code == 0);
  const Run two = run_lumen(2, tiny(data, dir + "/two") + "loader.batch_size=8" + common);
  INFO(two.out);
  REQUIRE(two.code == 0);
  // Rank 0 alone writes and prints.
  CHECK(two.out.find("checkpoint: " + dir + "/two/checkpoints/last.safetensors") !=
        std::string::npos);
  CHECK(two.out.find("checkpoint:") == two.out.rfind("checkpoint:"));
  const SafetensorsFile a = last_checkpoint(dir + "/one"), b = last_checkpoint(dir + "/two");
  std::string where;
  // Parameters and batch-norm buffers: f32 rounding apart (the sums run in another order).
  const double weights = worst_error(a, b, "!optimizer.", &where);
  MESSAGE("weights: largest scaled difference " << weights << " (" << where << ")");
  CHECK(weights <= 1e-5);
  // The momentum buffers are sums of gradients with heavy cancellation in the batch-norm biases;
  // they agree to what their rounding allows.
  CHECK(worst_error(a, b, "optimizer.", &where) <= 1e-4);
  CHECK(b.metadata.at("world_size") == "2");
  // The learning rate derived from the global batch: the same.
  CHECK(config_value(a, "optimizer.lr") == config_value(b, "optimizer.lr"));
  CHECK(config_value(a, "optimizer.lr") == "0.0075");
  const std::vector<double> la = epoch_losses(dir + "/one"), lb = epoch_losses(dir + "/two");
  REQUIRE(la.size() == 2);
  REQUIRE(lb.size() == 2);  // one metrics line per epoch: rank 0's
  for (size_t e = 0; e < 2; ++e) CHECK(std::fabs(la[e] - lb[e]) <= 1e-5 * std::fabs(la[e]));
  fs::remove_all(dir);
}

TEST_CASE("without sync batch norm and gathering, 2 ranks train as DDP: differ, agree, learn") {
  const std::string dir = testing::temp_dir("dist_ddp");
  const std::string data = testing::write_cifar_batch(dir + "/data_batch_1.bin", 64, 4, 2);
  // Mild views (no colour jitter, grey or blur; crops of 80% or more): a few steps show learning.
  const std::string common =
      " trainer.max_epochs=8 trainer.checkpoint_every=4 collate.cj_prob=0 "
      "collate.random_gray_scale=0 collate.gaussian_blur=0 collate.min_scale=0.8";
  const Run one = run_lumen(1, tiny(data, dir + "/one") + "loader.batch_size=32" + common);
  REQUIRE(one.code == 0);
  // kNN monitoring on rank 0 (the other rank waits), every 4 epochs, on the training images.
  const Run two = run_lumen(2, tiny(data, dir + "/two") + "loader.batch_size=16" + common +
                                   " trainer.knn_every=4 val_dir=" + data);
  INFO(two.out);
  REQUIRE(two.code == 0);  // the ranks' parameters were checked equal after every epoch
  std::string where;
  // Each rank normalises with its own batch's statistics and scores its own negatives.
  const double apart = worst_error(last_checkpoint(dir + "/one"), last_checkpoint(dir + "/two"),
                                   "backbone.", &where);
  MESSAGE("without sync: largest scaled difference " << apart << " (" << where << ")");
  CHECK(apart > 1e-3);
  const std::vector<double> losses = epoch_losses(dir + "/two");
  REQUIRE(losses.size() == 8);
  std::ifstream metrics(dir + "/two/metrics.jsonl");
  int knn_lines = 0;
  for (std::string line; std::getline(metrics, line);) {
    knn_lines += line.find("\"knn_top1\"") != std::string::npos;
  }
  CHECK(knn_lines == 2);  // epochs 4 and 8, by rank 0 alone
  CHECK(two.out.find("epoch 4: kNN top-1") == two.out.rfind("epoch 4: kNN top-1"));
  CHECK(losses.back() < losses.front() - 0.3);
  // One checkpoint set, written by rank 0 alone, which embed reads.
  std::vector<std::string> files;
  for (const auto& f : fs::directory_iterator(dir + "/two/checkpoints")) {
    files.push_back(f.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  CHECK(files == std::vector<std::string>{"epoch_0004.safetensors", "epoch_0008.safetensors",
                                          "last.safetensors"});
  const Run embed =
      run_lumen(1, "embed input_dir=" + data + " checkpoint=" + dir +
                       "/two/checkpoints/last.safetensors device=cpu output=" + dir + "/e.csv");
  INFO(embed.out);
  CHECK(embed.code == 0);
  CHECK(embed.out.find("wrote 64 embeddings") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("an interrupted 2-rank run resumed on 2 ranks ends as an uninterrupted one") {
  const std::string dir = testing::temp_dir("dist_resume");
  const std::string data = write_noise_cifar(dir + "/data_batch_1.bin", 32, 2);
  const std::string args = " loader.batch_size=8 trainer.max_epochs=2 trainer.sync_batchnorm=true";
  REQUIRE(run_lumen(2, tiny(data, dir + "/whole") + args).code == 0);
  // Stopped inside the second epoch (2 steps per epoch), then resumed.
  REQUIRE(run_lumen(2, tiny(data, dir + "/parts") + args + " trainer.max_steps=3").code == 0);
  const Run other = run_lumen(1, tiny(data, dir + "/parts") + args + " resume=true");
  CHECK(other.code == 1);
  CHECK(other.out.find("was written by a run of 2 ranks, this one has 1; resume it on 2") !=
        std::string::npos);
  const Run resumed = run_lumen(2, tiny(data, dir + "/parts") + args + " resume=true");
  INFO(resumed.out);
  REQUIRE(resumed.code == 0);
  CHECK(resumed.out.find("resuming from " + dir + "/parts/checkpoints/last.safetensors after " +
                         "epoch 2/2 step 1/2") != std::string::npos);
  std::string where;
  CHECK(worst_error(last_checkpoint(dir + "/whole"), last_checkpoint(dir + "/parts"), "", &where) ==
        0);
  fs::remove_all(dir);
}

TEST_CASE("MoCo v2, NNCLR and DCL train on 2 ranks with their cross-rank collectives") {
  const std::string dir = testing::temp_dir("dist_methods");
  const std::string data = write_noise_cifar(dir + "/data_batch_1.bin", 32, 3);
  for (const char* method : {"mocov2", "nnclr", "dcl"}) {
    CAPTURE(method);
    const std::string extra = std::string(method) == "dcl" ? "" : " criterion.memory_bank_size=64";
    const Run r = run_lumen(2, tiny(data, dir + "/" + method) + "method=" + method +
                                   " loader.batch_size=8 trainer.max_epochs=1 "
                                   "criterion.gather_distributed=true trainer.sync_batchnorm=true" +
                                   extra);
    INFO(r.out);
    CHECK(r.code == 0);
  }
  fs::remove_all(dir);
}

int main(int argc, char** argv) {
  const std::string missing = testing::mpirun_missing();
  if (!missing.empty()) return testing::skip_suite(missing);
  doctest::Context context(argc, argv);
  return context.run();
}
