#include "engine/train/trainer.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <sstream>
#include <vector>

#include "engine/autograd/tape.h"
#include "engine/core/device.h"
#include "engine/io/json.h"
#include "engine/io/safetensors.h"
#include "engine/ops/finite.h"
#include "engine/train/progress.h"

namespace lumen {

namespace {

std::atomic<int> g_stop_signal{0};
extern "C" void on_stop_signal(int sig) { g_stop_signal.store(sig); }

// Installs SIGINT/SIGTERM handlers for its lifetime and restores the previous ones.
class StopSignals {
 public:
  StopSignals() {
    g_stop_signal.store(0);
    previous_int_ = std::signal(SIGINT, on_stop_signal);
    previous_term_ = std::signal(SIGTERM, on_stop_signal);
  }
  ~StopSignals() {
    std::signal(SIGINT, previous_int_);
    std::signal(SIGTERM, previous_term_);
  }
  int raised() const { return g_stop_signal.load(); }

 private:
  void (*previous_int_)(int);
  void (*previous_term_)(int);
};

// Rank 0 of a data-parallel run, or the one process: writes the run's files and prints.
bool leads(const TrainerOptions& options) { return !options.comm || options.comm->rank() == 0; }
int ranks(const TrainerOptions& options) { return options.comm ? options.comm->world_size() : 1; }

// What every rank agrees on after a step: the loss as the mean over the ranks, and the signal
// (SIGTERM before SIGINT) any rank got, 0 for none; one all_reduce of three numbers.
struct StepAgreement {
  double loss;
  int signal;
};
StepAgreement agree_on_step(const TrainerOptions& options, double loss, int signal) {
  if (ranks(options) == 1) return {loss, signal};
  Tensor t = Tensor::from_vector(
      std::vector<double>{loss, signal == SIGTERM ? 1.0 : 0.0, signal == SIGINT ? 1.0 : 0.0}, {3},
      DType::f64);
  options.comm->all_reduce(t, ReduceOp::sum);
  const std::vector<double> v = t.to_doubles();
  return {v[0] / ranks(options), v[1] > 0 ? SIGTERM : v[2] > 0 ? SIGINT : 0};
}

// "epoch E/N step S/M" of a global step (counted from 0), numbered from 1: the one way the progress
// line and every message (interruption, resume, divergence) name a step.
std::string position(int64_t global_step, int64_t steps, const TrainerOptions& options) {
  return "epoch " + std::to_string(global_step / steps + 1) + "/" +
         std::to_string(options.max_epochs) + " step " + std::to_string(global_step % steps + 1) +
         "/" + std::to_string(steps);
}

// The error that stops a diverged run: `what` happened at `where`; nothing more is saved.
[[noreturn]] void stop_diverged(const std::string& what, const std::string& where,
                                const std::string& last) {
  Tape::current().clear();
  LUMEN_FAIL(what, " at ", where, "; stopping without saving. ",
             std::filesystem::exists(last) ? "The last good checkpoint is " + last
                                           : std::string("No checkpoint was written before"),
             ". Try a lower optimizer.lr or trainer.precision=32");
}

// Writes the task's state after the step `global_step` - 1 to each of `paths` (rank 0 of a
// data-parallel run; the others learn whether it could). The state is checked first: a diverged
// run (inf weights, an inf batch-norm variance) stops here on every rank, with the error of a NaN
// loss, instead of replacing the last good checkpoint.
void write_checkpoints(TrainingTask& task, const TrainerOptions& options,
                       const std::vector<std::string>& paths, int64_t steps, int64_t global_step) {
  std::map<std::string, Tensor> state;
  std::string bad;
  if (leads(options)) {
    state = task.state();
    bad = first_non_finite(state);
  }
  const bool diverged = ranks(options) > 1 ? any_rank(*options.comm, !bad.empty()) : !bad.empty();
  if (diverged) {
    stop_diverged(bad.empty() ? std::string("rank 0's state holds inf or NaN values")
                              : "'" + bad + "' holds inf or NaN values",
                  position(global_step - 1, steps, options),
                  last_checkpoint_path(options.output_dir));
  }
  if (!leads(options)) return;
  std::map<std::string, std::string> metadata = options.metadata;
  metadata["format"] = kCheckpointFormat;
  metadata["epoch"] = std::to_string(global_step / steps);
  metadata["step_in_epoch"] = std::to_string(global_step % steps);
  metadata["global_step"] = std::to_string(global_step);
  metadata["config"] = options.config_text;
  metadata["lumen_version"] = LUMEN_VERSION;
  metadata["world_size"] = std::to_string(ranks(options));
  for (const std::string& path : paths) save_safetensors(path, state, metadata);
}

// "key=value" lines, by key.
std::map<std::string, std::string> key_value_lines(const std::string& text) {
  std::map<std::string, std::string> entries;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) entries[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return entries;
}

// Thrown once the checkpoint after the step `global_step` (counted from 0) is safe.
TrainingInterrupted interrupted(int signal, int64_t global_step, int64_t steps,
                                const std::string& last, const TrainerOptions& options) {
  return TrainingInterrupted(
      "interrupted by signal " + std::to_string(signal) + " after " +
      position(global_step, steps, options) + "; checkpoint saved to " + last + ". Resume with: " +
      (options.resume_hint.empty() ? std::string("resume=true") : options.resume_hint));
}

// Equal texts, or texts of the same number ("5e-4" written by an older run, "0.0005" now).
bool same_setting(const std::string& a, const std::string& b) {
  if (a == b) return true;
  char *end_a = nullptr, *end_b = nullptr;
  const double x = std::strtod(a.c_str(), &end_a), y = std::strtod(b.c_str(), &end_b);
  return !a.empty() && !b.empty() && *end_a == '\0' && *end_b == '\0' && x == y;
}

// A resumed run ends where the interrupted one would have only with the same settings: any key
// outside options.resume_may_change that differs from the checkpoint's config is an error.
void check_resumable_config(const SafetensorsFile& saved, const std::string& path,
                            const TrainerOptions& options) {
  const auto before = checkpoint_config(saved);
  if (options.config_text.empty() || before.empty()) return;
  std::string changed, free_keys;
  int count = 0;
  for (const auto& [key, value] : key_value_lines(options.config_text)) {
    if (options.resume_may_change.count(key) != 0) continue;
    auto it = before.find(key);
    if (it == before.end() || same_setting(it->second, value)) continue;
    if (++count <= 6) {
      changed += std::string(changed.empty() ? "" : ", ") + key + "=" + it->second + " (now " +
                 (value.empty() ? "unset" : value) + ")";
    }
  }
  if (count == 0) return;
  for (const std::string& key : options.resume_may_change) {
    free_keys += std::string(free_keys.empty() ? "" : ", ") + key;
  }
  LUMEN_FAIL("resume=true: ", path, " was written by a run with ", changed,
             count > 6 ? " and more" : "",
             "; a resumed run keeps the interrupted run's settings so that it ends where that run "
             "would have (only ",
             free_keys, " may change). Resume with those values, or start a new run in another ",
             "output_dir");
}

int64_t metadata_int(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  auto it = f.metadata.find(key);
  LUMEN_CHECK(it != f.metadata.end(), path, " is not a Lumen training checkpoint (no '", key,
              "' in its metadata)");
  return std::stoll(it->second);
}

}  // namespace

void TrainingTask::load_state(const std::map<std::string, Tensor>& saved) {
  std::map<std::string, Tensor> live = state();
  for (auto& [name, tensor] : live) {
    auto it = saved.find(name);
    LUMEN_CHECK(it != saved.end(), "checkpoint lacks '", name,
                "'; it was written by a different model or method");
    LUMEN_CHECK(it->second.shape() == tensor.shape(), "checkpoint tensor '", name, "' has shape ",
                shape_str(it->second.shape()), " but the model expects ",
                shape_str(tensor.shape()));
    tensor.copy_from(it->second);
  }
}

Tensor TrainingTask::train_step(int64_t epoch, int64_t step, int64_t global_step) {
  Tensor loss = forward_loss(epoch, step);
  loss.backward();
  optimizer_step(global_step);
  return loss;
}

std::map<std::string, std::string> checkpoint_config(const SafetensorsFile& file) {
  auto format = file.metadata.find("format");
  auto config = file.metadata.find("config");
  if (format == file.metadata.end() || format->second.rfind("lumen-checkpoint", 0) != 0 ||
      config == file.metadata.end()) {
    return {};
  }
  return key_value_lines(config->second);
}

SafetensorsFile load_resume_checkpoint(const TrainerOptions& options) {
  const std::string last = last_checkpoint_path(options.output_dir);
  LUMEN_CHECK(std::filesystem::exists(last), "resume=true but there is no checkpoint at ", last,
              "; start without resume, or point output_dir at the interrupted run");
  SafetensorsFile saved = load_weights(last);
  auto format = saved.metadata.find("format");
  LUMEN_CHECK(format != saved.metadata.end() && format->second == kCheckpointFormat, last,
              " is not a training checkpoint of this Lumen version (format '",
              format == saved.metadata.end() ? std::string("none") : format->second,
              "', this version writes '", kCheckpointFormat,
              "'); start a new run in another output_dir");
  auto world = saved.metadata.find("world_size");
  const int before = world == saved.metadata.end() ? 1 : std::stoi(world->second);
  LUMEN_CHECK(before == ranks(options), "resume=true: ", last, " was written by a run of ", before,
              before == 1 ? " rank" : " ranks", ", this one has ", ranks(options),
              "; resume it on ", before,
              " (the data order, the batch and the learning rate depend on the number of ranks)");
  check_resumable_config(saved, last, options);
  return saved;
}

std::string last_checkpoint_path(const std::string& output_dir) {
  return output_dir + "/checkpoints/last.safetensors";
}

void MetricsLog::write(const std::map<std::string, double>& numbers) {
  std::ostringstream line;
  line << "{";
  bool first = true;
  for (const auto& [key, value] : numbers) {
    line << (first ? "" : ", ") << json_quote(key) << ": ";
    if (std::isfinite(value)) {
      line << value;
    } else {
      line << "null";
    }
    first = false;
  }
  line << "}\n";
  FILE* f = std::fopen(path_.c_str(), "a");
  LUMEN_CHECK(f, "cannot append to metrics file '", path_, "'");
  std::fputs(line.str().c_str(), f);
  std::fclose(f);
}

TrainResult train(TrainingTask& task, const TrainerOptions& options, RunDirectory* claimed) {
  namespace fs = std::filesystem;
  std::optional<RunDirectory> own;
  LUMEN_CHECK(ranks(options) == 1 || (claimed != nullptr) == leads(options),
              "train: in a data-parallel run rank 0 claims output_dir before (RunDirectory), and "
              "the other ranks do not");
  if (claimed == nullptr && ranks(options) == 1) {
    own.emplace(options.output_dir, options.resume, options.overwrite);
  } else if (claimed != nullptr) {
    LUMEN_CHECK(claimed->path() == options.output_dir, "train: the claimed folder ",
                claimed->path(), " is not output_dir ", options.output_dir);
  }
  const int64_t steps = task.steps_per_epoch();
  LUMEN_CHECK(steps > 0, "the dataset yields no full batch: use a smaller loader.batch_size or ",
              "more images");
  const std::string last = last_checkpoint_path(options.output_dir);

  TrainResult result;
  result.checkpoint = last;
  int64_t start_epoch = 0, start_step = 0;
  if (options.resume) {
    SafetensorsFile saved;
    run_agreed(options.comm ? *options.comm : *single_process_communicator(),
               "to read the checkpoint to resume from",
               [&] { saved = load_resume_checkpoint(options); });
    start_epoch = metadata_int(saved, "epoch", last);
    start_step = metadata_int(saved, "step_in_epoch", last);
    LUMEN_CHECK(start_step >= 0 && start_step < steps && start_epoch >= 0, last,
                " stopped at epoch ", start_epoch, " step ", start_step, " but an epoch now has ",
                steps, " steps: the data or batch size changed since; start a new run");
    if (start_epoch >= options.max_epochs) {
      if (leads(options)) {
        std::fprintf(stderr,
                     "the run in %s already trained its %lld epochs; nothing to do (raise "
                     "trainer.max_epochs to train longer)\n",
                     options.output_dir.c_str(), static_cast<long long>(start_epoch));
      }
      return result;
    }
    if (options.max_steps > 0 && start_epoch * steps + start_step >= options.max_steps) {
      if (leads(options)) {
        std::fprintf(stderr,
                     "the run in %s already trained trainer.max_steps=%lld steps; nothing to do "
                     "(raise trainer.max_steps, or -1 for no limit)\n",
                     options.output_dir.c_str(), static_cast<long long>(options.max_steps));
      }
      return result;
    }
    task.load_state(saved.tensors);
    if (leads(options)) {
      std::fprintf(stderr, "resuming from %s after %s\n", last.c_str(),
                   position(start_epoch * steps + start_step - 1, steps, options).c_str());
    }
  }

  MetricsLog metrics(options.output_dir + "/metrics.jsonl");
  const bool quiet = options.quiet || !leads(options);
  int stop_signal = 0;  // agreed by every rank after each step
  StopSignals signals;
  Progress progress("train", options.max_epochs * steps);

  // LUMEN_PROFILE_STEP=N: an external profiler (`ncu --profile-from-start off`) records step N.
  const char* profile_env = std::getenv("LUMEN_PROFILE_STEP");
  const int64_t profile_step = profile_env != nullptr ? std::atoll(profile_env) : -1;

  bool step_limit = false;  // trainer.max_steps reached
  bool mid_epoch = false;   // ... before the end of an epoch
  for (int64_t epoch = start_epoch; epoch < options.max_epochs; ++epoch) {
    double loss_sum = 0;
    int64_t loss_count = 0;
    // img/s is this epoch's rate: the first epoch's one-off costs (cuDNN's algorithm search,
    // the memory pool filling up) do not linger in later epochs' figures.
    const auto epoch_start = std::chrono::steady_clock::now();
    int64_t epoch_images = 0;
    for (int64_t step = (epoch == start_epoch ? start_step : 0); step < steps; ++step) {
      const int64_t global_step = epoch * steps + step;
      if (global_step == profile_step) cuda_profiler_start();
      Tensor loss = task.train_step(epoch, step, global_step);
      const StepAgreement agreed = agree_on_step(options, loss.item(), signals.raised());
      const double value = agreed.loss;
      stop_signal = agreed.signal;
      if (global_step == profile_step) cuda_profiler_stop();
      if (!std::isfinite(value)) {
        std::ostringstream loss;
        loss << "the loss became " << value;
        stop_diverged(loss.str(), position(global_step, steps, options), last);
      }
      loss_sum += value;
      ++loss_count;
      epoch_images += task.batch_size() * ranks(options);
      ++result.steps;
      result.last_loss = value;
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
      result.images_per_second = seconds > 0 ? double(epoch_images) / seconds : 0;
      if (!quiet) {
        char text[96];
        std::snprintf(text, sizeof(text), " loss %.4f lr %.4g %.0f img/s", value,
                      task.learning_rate(global_step), result.images_per_second);
        progress.update(global_step + 1, position(global_step, steps, options) + text,
                        step + 1 == steps);
      }
      // A signal in the middle of an epoch stops here; on its last step, after the epoch's own
      // work below (metrics, monitoring, checkpoint), so that none of it is lost.
      if (stop_signal != 0 && step + 1 < steps) {
        write_checkpoints(task, options, {last}, steps, global_step + 1);
        if (options.comm) options.comm->barrier();  // no rank leaves before the checkpoint exists
        throw interrupted(stop_signal, global_step, steps, last, options);
      }
      if (options.max_steps > 0 && global_step + 1 >= options.max_steps) {
        step_limit = true;
        mid_epoch = step + 1 < steps;
        if (mid_epoch) write_checkpoints(task, options, {last}, steps, global_step + 1);
        break;
      }
    }
    if (mid_epoch) break;  // stopped inside the epoch: it has no end yet
    if (leads(options)) {
      metrics.write({{"epoch", double(epoch + 1)},
                     {"step", double((epoch + 1) * steps)},
                     {"loss", loss_count ? loss_sum / double(loss_count) : NAN},
                     {"lr", task.learning_rate((epoch + 1) * steps - 1)},
                     {"img_per_s", result.images_per_second}});
    }
    task.on_epoch_end(epoch, metrics);
    // A signal during the epoch's end (monitoring) counts too, agreed by every rank.
    stop_signal = agree_on_step(options, 0, std::max(stop_signal, signals.raised())).signal;
    const bool final_epoch = epoch + 1 == options.max_epochs;
    const bool keep_epoch = final_epoch || (options.checkpoint_every > 0 &&
                                            (epoch + 1) % options.checkpoint_every == 0);
    std::vector<std::string> paths;
    if (keep_epoch || stop_signal != 0 || step_limit) paths.push_back(last);
    if (keep_epoch) {
      char name[64];
      std::snprintf(name, sizeof(name), "/checkpoints/epoch_%04lld.safetensors",
                    static_cast<long long>(epoch + 1));
      paths.push_back(options.output_dir + name);
    }
    if (!paths.empty()) write_checkpoints(task, options, paths, steps, (epoch + 1) * steps);
    // The last epoch is complete with its checkpoint: a signal now stops nothing that remains.
    if (stop_signal != 0 && !final_epoch) {
      if (options.comm) options.comm->barrier();  // no rank leaves before the checkpoint exists
      throw interrupted(stop_signal, (epoch + 1) * steps - 1, steps, last, options);
    }
    if (step_limit) break;
  }
  if (step_limit && leads(options)) {
    std::fprintf(stderr,
                 "stopped at trainer.max_steps=%lld; checkpoint %s. Continue with resume=true "
                 "and a larger trainer.max_steps (-1: no limit)\n",
                 static_cast<long long>(options.max_steps), last.c_str());
  }
  if (!quiet && result.steps > 0) {
    char text[128];
    std::snprintf(text, sizeof(text), "done: %lld steps, last loss %.4f, %.0f img/s (last epoch)",
                  static_cast<long long>(result.steps), result.last_loss, result.images_per_second);
    progress.finish(text);
  }
  return result;
}

}  // namespace lumen
