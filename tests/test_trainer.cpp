// The generic trainer on a toy regression task: loss falls, checkpoints are written, resume and
// interruption end with the weights of an uninterrupted run, a NaN loss stops the run.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "support/testing.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "engine/autograd/parameters.h"
#include "engine/io/safetensors.h"
#include "engine/ops/finite.h"
#include "engine/ops/ops.h"
#include "engine/train/trainer.h"

using namespace lumen;
namespace fs = std::filesystem;

namespace {

// Fits w in y = x w_true by plain gradient descent; batches are pure functions of (epoch, step).
class ToyTask : public TrainingTask {
 public:
  int64_t interrupt_at = -1;  // global step at which to raise SIGINT
  int64_t nan_at = -1;        // global step whose loss is NaN
  int64_t inf_at = -1;        // global step after which a buffer holds inf (the loss stays finite)

  ToyTask() {
    params_.add("w", {4, 1});
    params_.finalize(Device::cpu(), DType::f64);
    params_.get("w").copy_from(Tensor::normal({4, 1}, 5, 0, 1, DType::f64));
  }
  int64_t steps_per_epoch() const override { return 3; }
  int64_t batch_size() const override { return 8; }
  Tensor forward_loss(int64_t epoch, int64_t step) override {
    const int64_t global = epoch * steps_per_epoch() + step;
    if (global == interrupt_at) std::raise(SIGINT);
    Tensor x = Tensor::normal({8, 4}, 1000 + uint64_t(global), 0, 1, DType::f64);
    Tensor w_true = Tensor::from_vector(std::vector<double>{1, -2, 3, 0.5}, {4, 1});
    Tensor y = matmul(x, w_true);
    Tensor diff = sub(matmul(x, params_.get("w")), y);
    Tensor loss = mean(mul(diff, diff));
    if (global == nan_at) loss = scale(loss, NAN);
    return loss;
  }
  void optimizer_step(int64_t global_step) override {
    Tensor& w = params_.get("w");
    add_inplace(w, w.grad(), -learning_rate(global_step));
    params_.zero_grad();
    if (global_step == inf_at) running_var_ = Tensor::full({2}, INFINITY, DType::f32);
  }
  double learning_rate(int64_t) const override { return 0.05; }
  std::map<std::string, Tensor> state() override {
    return {{"w", params_.get("w")}, {"bn.running_var", running_var_}};
  }
  std::vector<double> weights() { return params_.get("w").to_doubles(); }

 private:
  ParameterBuffer params_;
  Tensor running_var_ = Tensor::full({2}, 1.0, DType::f32);  // a buffer, as batch norm's
};

std::string fresh_dir(const std::string& name) {
  const std::string dir = "/tmp/lumen_test_trainer_" + std::to_string(::getpid()) + "_" + name;
  fs::remove_all(dir);
  return dir;
}

// doctest's Contains from a std::string (it copies the text).
doctest::Contains contains(const std::string& text) { return doctest::Contains(text.c_str()); }

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

int line_count(const std::string& path) {
  std::ifstream in(path);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  return lines;
}

// What fn writes to stderr (the trainer's messages outside errors: resume, stops).
std::string stderr_of(const std::function<void()>& fn) {
  const std::string path = "/tmp/lumen_test_trainer_" + std::to_string(::getpid()) + "_stderr";
  std::fflush(stderr);
  const int saved = ::dup(2);
  FILE* capture = std::fopen(path.c_str(), "w");
  ::dup2(::fileno(capture), 2);
  fn();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::fclose(capture);
  const std::string text = file_text(path);
  fs::remove(path);
  return text;
}

TrainerOptions options_for(const std::string& dir, int64_t epochs) {
  TrainerOptions o;
  o.max_epochs = epochs;
  o.output_dir = dir;
  o.checkpoint_every = 2;
  o.quiet = true;
  return o;
}

}  // namespace

TEST_CASE("training lowers the loss and writes checkpoints and metrics") {
  const std::string dir = fresh_dir("basic");
  ToyTask task;
  const double first = task.forward_loss(0, 0).item();
  Tape::current().clear();
  TrainResult r = train(task, options_for(dir, 5));
  CHECK(r.steps == 15);
  CHECK(r.last_loss < first * 0.2);
  CHECK(fs::exists(dir + "/checkpoints/last.safetensors"));
  CHECK(fs::exists(dir + "/checkpoints/epoch_0002.safetensors"));
  CHECK(fs::exists(dir + "/checkpoints/epoch_0005.safetensors"));
  SafetensorsFile ckpt = load_safetensors(r.checkpoint);
  CHECK(ckpt.metadata.at("epoch") == "5");
  CHECK(ckpt.tensors.at("w").to_doubles() == task.weights());
  CHECK(fs::file_size(dir + "/metrics.jsonl") > 0);
  fs::remove_all(dir);
}

TEST_CASE("resume continues to the weights of an uninterrupted run") {
  ToyTask straight;
  const std::string a = fresh_dir("straight");
  train(straight, options_for(a, 4));

  const std::string b = fresh_dir("resumed");
  ToyTask first_half;
  train(first_half, options_for(b, 2));
  ToyTask second_half;  // a new process would start from fresh weights
  TrainerOptions o = options_for(b, 4);
  o.resume = true;
  train(second_half, o);
  CHECK(second_half.weights() == straight.weights());
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("SIGINT finishes the step, saves, and a resume ends where an uninterrupted run ends") {
  ToyTask straight;
  const std::string a = fresh_dir("straight2");
  train(straight, options_for(a, 3));

  const std::string b = fresh_dir("interrupted");
  ToyTask interrupted;
  interrupted.interrupt_at = 4;  // epoch 1, step 1
  // The interruption and the resume name the same step (the last one done) as the progress line
  // does: epoch 2 of 3, step 2 of 3, counted from 1.
  CHECK_THROWS_WITH_AS(train(interrupted, options_for(b, 3)),
                       doctest::Contains("interrupted by signal 2 after epoch 2/3 step 2/3; "
                                         "checkpoint saved to"),
                       TrainingInterrupted);
  SafetensorsFile ckpt = load_safetensors(b + "/checkpoints/last.safetensors");
  CHECK(ckpt.metadata.at("epoch") == "1");
  CHECK(ckpt.metadata.at("step_in_epoch") == "2");
  ToyTask resumed;
  TrainerOptions o = options_for(b, 3);
  o.resume = true;
  CHECK(stderr_of([&] { train(resumed, o); }) ==
        "resuming from " + b + "/checkpoints/last.safetensors after epoch 2/3 step 2/3\n");
  CHECK(resumed.weights() == straight.weights());
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("a NaN loss stops the run and keeps the last good checkpoint") {
  const std::string dir = fresh_dir("nan");
  ToyTask task;
  task.nan_at = 7;  // epoch 2: after the epoch-2 checkpoint
  CHECK_THROWS_WITH_AS(train(task, options_for(dir, 4)),
                       contains("nan at epoch 3/4 step 2/3; stopping without saving. The last "
                                "good checkpoint is " +
                                dir + "/checkpoints/last.safetensors"),
                       Error);
  SafetensorsFile ckpt = load_safetensors(dir + "/checkpoints/last.safetensors");
  CHECK(ckpt.metadata.at("epoch") == "2");
  for (double w : ckpt.tensors.at("w").to_doubles()) CHECK(std::isfinite(w));
  const std::string none = fresh_dir("none");
  CHECK_THROWS_WITH_AS(train(task,
                             [&] {
                               TrainerOptions o = options_for(none, 1);
                               o.resume = true;
                               return o;
                             }()),
                       doctest::Contains("no checkpoint"), Error);
  fs::remove_all(dir);
  fs::remove_all(none);
}

TEST_CASE("a state tensor holding inf stops the run before a checkpoint and keeps the last good") {
  const std::string dir = fresh_dir("inf_state");
  ToyTask task;
  task.inf_at = 5;  // the last step of epoch 2: its loss is finite, the state written after not
  TrainerOptions o = options_for(dir, 4);
  o.checkpoint_every = 1;
  CHECK_THROWS_WITH_AS(train(task, o),
                       contains("'bn.running_var' holds inf or NaN values at epoch 2/4 step 3/3; "
                                "stopping without saving. The last good checkpoint is " +
                                dir + "/checkpoints/last.safetensors"),
                       Error);
  SafetensorsFile ckpt = load_safetensors(dir + "/checkpoints/last.safetensors");
  CHECK(ckpt.metadata.at("epoch") == "1");
  CHECK_FALSE(fs::exists(dir + "/checkpoints/epoch_0002.safetensors"));
  // Without an earlier checkpoint the error says so.
  const std::string first = fresh_dir("inf_first");
  ToyTask early;
  early.inf_at = 2;
  CHECK_THROWS_WITH_AS(train(early, options_for(first, 4)),
                       doctest::Contains("No checkpoint was written before. Try a lower "
                                         "optimizer.lr or trainer.precision=32"),
                       Error);
  CHECK_FALSE(fs::exists(first + "/checkpoints/last.safetensors"));
  fs::remove_all(dir);
  fs::remove_all(first);
}

TEST_CASE("a checkpoint holding inf or NaN is refused on load, naming the file and tensor") {
  const std::string dir = fresh_dir("inf_load");
  fs::create_directories(dir);
  const std::string path = dir + "/bad.safetensors";
  Tensor var = Tensor::full({3}, 1.0, DType::f32);
  var.data<float>()[1] = INFINITY;
  save_safetensors(path, {{"layer1.0.bn1.running_var", var}, {"w", Tensor::full({2}, 1.0)}});
  CHECK(load_safetensors(path).tensors.size() == 2);  // the reader reads any data
  CHECK_THROWS_WITH_AS(load_weights(path),
                       contains(path + ": tensor 'layer1.0.bn1.running_var' holds inf or NaN "
                                       "values"),
                       Error);
  var.data<float>()[1] = NAN;
  save_safetensors(path, {{"layer1.0.bn1.running_var", var}});
  CHECK_THROWS_AS(load_weights(path), Error);
  var.data<float>()[1] = 3e38f;  // large is not infinite
  save_safetensors(path, {{"layer1.0.bn1.running_var", var}});
  CHECK(load_weights(path).tensors.size() == 1);
  // Resuming from it is refused the same way.
  ToyTask task;
  const std::string run = fresh_dir("inf_resume");
  train(task, options_for(run, 1));
  SafetensorsFile saved = load_safetensors(run + "/checkpoints/last.safetensors");
  saved.tensors["w"].data<double>()[0] = -INFINITY;
  save_safetensors(run + "/checkpoints/last.safetensors", saved.tensors, saved.metadata);
  TrainerOptions o = options_for(run, 2);
  o.resume = true;
  ToyTask resumed;
  CHECK_THROWS_WITH_AS(train(resumed, o), doctest::Contains("tensor 'w' holds inf or NaN values"),
                       Error);
  fs::remove_all(dir);
  fs::remove_all(run);
}

TEST_CASE("all_finite: every float dtype, large values, integers") {
  for (DType t : {DType::f32, DType::f64, DType::bf16, DType::f16}) {
    CAPTURE(dtype_name(t));
    Tensor x = Tensor::normal({1000}, 3, 0, 1, t);
    CHECK(all_finite(x));
    for (double bad : {double(INFINITY), double(-INFINITY), double(NAN)}) {
      Tensor y = Tensor::normal({1000}, 3, 0, 1, DType::f64);
      y.data<double>()[777] = bad;
      CHECK_FALSE(all_finite(y.to(t)));
    }
  }
  CHECK(all_finite(Tensor::full({4}, 3e38, DType::f32)));
  CHECK(all_finite(Tensor::full({4}, 7, DType::i64)));
  CHECK(first_non_finite({{"a", Tensor::full({2}, 1.0)},
                          {"b", Tensor::full({2}, NAN)},
                          {"c", Tensor::full({2}, INFINITY)}}) == "b");
  CHECK(first_non_finite({{"a", Tensor::full({2}, 1.0)}}).empty());
}

TEST_CASE("a signal on an epoch's last step keeps that epoch's metrics and checkpoints") {
  const std::string dir = fresh_dir("signal_epoch_end");
  ToyTask task;
  task.interrupt_at = 5;  // epoch 2's last step; checkpoint_every = 2 keeps epoch 2
  CHECK_THROWS_WITH_AS(train(task, options_for(dir, 4)),
                       doctest::Contains("interrupted by signal 2 after epoch 2/4 step 3/3"),
                       TrainingInterrupted);
  CHECK(fs::exists(dir + "/checkpoints/epoch_0002.safetensors"));
  SafetensorsFile ckpt = load_safetensors(dir + "/checkpoints/last.safetensors");
  CHECK(ckpt.metadata.at("epoch") == "2");
  CHECK(ckpt.metadata.at("step_in_epoch") == "0");
  std::ifstream metrics(dir + "/metrics.jsonl");
  int lines = 0;
  for (std::string line; std::getline(metrics, line);) ++lines;
  CHECK(lines == 2);
  // On the last step of the last epoch the run is complete: train() returns.
  const std::string done = fresh_dir("signal_last");
  ToyTask last;
  last.interrupt_at = 5;
  CHECK(train(last, options_for(done, 2)).steps == 6);
  fs::remove_all(dir);
  fs::remove_all(done);
}

TEST_CASE("resume refuses a config that differs from the checkpoint's, except the free keys") {
  const std::string dir = fresh_dir("resume_config");
  ToyTask first;
  TrainerOptions o = options_for(dir, 1);
  o.config_text = "seed=1\nloader.batch_size=8\ndevice=cpu\n";
  train(first, o);
  ToyTask second;
  o.resume = true;
  o.max_epochs = 2;
  o.resume_may_change = {"device"};
  o.config_text = "seed=2\nloader.batch_size=8\ndevice=cuda\n";
  CHECK_THROWS_WITH_AS(train(second, o), doctest::Contains("with seed=1 (now 2)"), Error);
  o.config_text = "seed=1\nloader.batch_size=8\ndevice=cuda\n";
  CHECK(train(second, o).steps == 3);
  // A finished run resumed with the same length has nothing to do.
  ToyTask third;
  CHECK(train(third, o).steps == 0);
  fs::remove_all(dir);
}

TEST_CASE(
    "max_steps stops inside an epoch with a checkpoint; resuming ends as an uninterrupted run") {
  ToyTask straight;
  const std::string a = fresh_dir("steps_straight");
  train(straight, options_for(a, 3));

  const std::string b = fresh_dir("steps_limited");
  ToyTask first;
  TrainerOptions o = options_for(b, 3);
  o.max_steps = 4;  // epoch 1, after its first step
  CHECK(train(first, o).steps == 4);
  SafetensorsFile ckpt = load_safetensors(b + "/checkpoints/last.safetensors");
  CHECK(ckpt.metadata.at("epoch") == "1");
  CHECK(ckpt.metadata.at("step_in_epoch") == "1");
  ToyTask nothing;  // the same limit again: nothing left to do
  o.resume = true;
  CHECK(train(nothing, o).steps == 0);
  ToyTask second;
  o.max_steps = 6;  // to the end of epoch 1 (its end-of-epoch work runs)
  CHECK(train(second, o).steps == 2);
  CHECK(fs::exists(b + "/checkpoints/epoch_0002.safetensors"));
  ToyTask third;
  o.max_steps = -1;
  CHECK(train(third, o).steps == 3);
  CHECK(third.weights() == straight.weights());
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST_CASE("a second run in an output_dir in use fails at once, naming the folder and the pid") {
  const std::string dir = fresh_dir("locked");
  {
    RunDirectory held(dir, false, false);
    ToyTask second;
    CHECK_THROWS_WITH_AS(train(second, options_for(dir, 1)),
                         contains("output_dir '" + dir + "' is in use by another Lumen run (pid " +
                                  std::to_string(::getpid()) + ")"),
                         Error);
    CHECK_FALSE(fs::exists(dir + "/checkpoints/last.safetensors"));
    ToyTask owner;  // the holder itself trains (claimed before building the task)
    CHECK(train(owner, options_for(dir, 1), &held).steps == 3);
  }
  // Released at the end of the claim, also when train() throws.
  ToyTask diverging;
  diverging.nan_at = 1;
  TrainerOptions o = options_for(dir, 2);
  o.overwrite = true;
  CHECK_THROWS_WITH_AS(train(diverging, o), doctest::Contains("the loss became"), Error);
  ToyTask after;
  CHECK(train(after, o).steps == 6);
  fs::remove_all(dir);
}

TEST_CASE("the lock holds against another process, and ends with it however it ends") {
  const std::string dir = fresh_dir("locked_fork");
  int ready[2], finish[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(finish) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // holds the folder until told to end, then ends without unwinding
    RunDirectory held(dir, false, false);
    char c = 1;
    (void)!::write(ready[1], &c, 1);
    (void)!::read(finish[0], &c, 1);
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  ToyTask second;
  CHECK_THROWS_WITH_AS(
      train(second, options_for(dir, 1)),
      contains("is in use by another Lumen run (pid " + std::to_string(child) + ")"), Error);
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ToyTask third;
  CHECK(train(third, options_for(dir, 1)).steps == 3);
  for (int fd : {ready[0], ready[1], finish[0], finish[1]}) ::close(fd);
  fs::remove_all(dir);
}

TEST_CASE("a fresh run refuses an earlier run's folder; overwrite=true starts it afresh") {
  const std::string dir = fresh_dir("earlier_run");
  ToyTask first;
  train(first, options_for(dir, 4));  // last, epoch_0002, epoch_0004, four metrics lines
  const std::string last = dir + "/checkpoints/last.safetensors";
  const std::string before = file_text(last);
  fs::create_directories(dir + "/cache");
  std::ofstream(dir + "/cache/images_32.lumencache") << "kept";

  ToyTask fresh;
  CHECK_THROWS_WITH_AS(train(fresh, options_for(dir, 1)),
                       contains("output_dir '" + dir + "' holds an earlier run ("), Error);
  try {
    train(fresh, options_for(dir, 1));
  } catch (const Error& e) {
    const std::string message = e.what();
    for (const char* offer : {"Continue it with resume=true", "another output_dir",
                              "overwrite=true to delete the earlier run's checkpoints and "
                              "metrics (the image cache is kept)"}) {
      CHECK_MESSAGE(message.find(offer) != std::string::npos, offer);
    }
  }
  CHECK(file_text(last) == before);
  CHECK(line_count(dir + "/metrics.jsonl") == 4);

  TrainerOptions o = options_for(dir, 1);
  o.overwrite = true;
  o.resume = true;
  CHECK_THROWS_WITH_AS(train(fresh, o), doctest::Contains("pass only one of them"), Error);
  o.resume = false;
  CHECK(train(fresh, o).steps == 3);
  CHECK(load_safetensors(last).metadata.at("epoch") == "1");
  CHECK(line_count(dir + "/metrics.jsonl") == 1);
  CHECK_FALSE(fs::exists(dir + "/checkpoints/epoch_0002.safetensors"));
  CHECK_FALSE(fs::exists(dir + "/checkpoints/epoch_0004.safetensors"));
  CHECK(file_text(dir + "/cache/images_32.lumencache") == "kept");

  // Metrics without a checkpoint (a run killed before its first one): no resume=true to offer.
  fs::remove_all(dir + "/checkpoints");
  try {
    train(fresh, options_for(dir, 1));
    FAIL("a fresh run over earlier metrics must be refused");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.find("holds an earlier run (metrics.jsonl)") != std::string::npos);
    CHECK(message.find("resume=true") == std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("the unfinished checkpoint files of a killed run are deleted at the next start") {
  const std::string dir = fresh_dir("temps");
  ToyTask first;
  train(first, options_for(dir, 2));
  const std::string checkpoints = dir + "/checkpoints/";
  // What save_safetensors leaves when killed between writing and renaming, and files it never
  // writes (a user's, other temporary names), which stay.
  for (const char* name : {"last.safetensors.tmp.4242", "epoch_0004.safetensors.tmp.17"}) {
    std::ofstream(checkpoints + name) << "half written";
  }
  const std::vector<std::string> kept = {"mine.safetensors", "notes.tmp.5",
                                         "last.safetensors.tmp.x1", ".safetensors.tmp.3"};
  for (const std::string& name : kept) std::ofstream(checkpoints + name) << "keep";
  ToyTask resumed;
  TrainerOptions o = options_for(dir, 3);
  o.resume = true;
  CHECK(train(resumed, o).steps == 3);
  CHECK_FALSE(fs::exists(checkpoints + "last.safetensors.tmp.4242"));
  CHECK_FALSE(fs::exists(checkpoints + "epoch_0004.safetensors.tmp.17"));
  for (const std::string& name : kept) CHECK_MESSAGE(fs::exists(checkpoints + name), name);
  fs::remove_all(dir);
}
