// The generic training loop. It knows interfaces only: a TrainingTask (what is trained: forward,
// optimizer step, state) and TrainerOptions. The api/ floor wires a concrete method, data and
// augmentation into a task.
//
// Guarantees:
// - one run per output_dir at a time, and a fresh run never mixes with an earlier one's files
//   (RunDirectory: a lock held for the whole run; resume=true, overwrite=true or another folder);
// - checkpoints (safetensors, written atomically) every `checkpoint_every` epochs and at the end,
//   as output_dir/checkpoints/last.safetensors (+ epoch_NNNN.safetensors), holding the task's
//   state, the epoch/step reached and the config;
// - resume=true continues from last.safetensors; because data order and augmentations are pure
//   functions of (seed, epoch, index), the resumed run ends with the weights of an uninterrupted
//   one; a config that differs from the checkpoint's (outside resume_may_change) is an error;
// - SIGINT / SIGTERM: the current step finishes (and, on an epoch's last step, the epoch's
//   metrics, monitoring and checkpoints), a checkpoint is written, and train() throws
//   TrainingInterrupted with a message that says how to resume (after the last epoch, nothing
//   remains: train() returns);
// - a NaN or inf loss stops the run with an error naming the step; so does a state tensor holding
//   inf or NaN (checked before every checkpoint is written: a diverged run can keep a finite loss
//   for a while with inf batch-norm variances). No checkpoint is written from that point, so the
//   last good one stays; loading one holding inf or NaN is an error too (load_weights);
// - a progress line (epoch, step, loss, lr, img/s, ETA) and metrics as JSON lines in
//   output_dir/metrics.jsonl. The progress line and every message name a step the same way,
//   "epoch E/N step S/M" counted from 1 (an interruption and the resume after it name the same
//   step: the last one done);
// - data parallel (options.comm of more than one rank, every rank running train()): rank 0 alone
//   holds output_dir, writes checkpoints, metrics and the progress line; each step the ranks
//   agree, in one all_reduce of two numbers, on the loss (the mean over the ranks: the one
//   printed and checked) and on whether any rank got a signal, so they stop after the same step;
//   an interruption waits for rank 0's checkpoint on every rank before throwing; a resume loads
//   the same checkpoint on every rank and must have the interrupted run's number of ranks.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"
#include "engine/io/safetensors.h"
#include "engine/train/run_directory.h"

namespace lumen {

class MetricsLog;

class TrainingTask {
 public:
  virtual ~TrainingTask() = default;
  virtual int64_t steps_per_epoch() const = 0;
  virtual int64_t batch_size() const = 0;
  // Runs the forward pass of one step (recorded on the tape) and returns the scalar loss.
  virtual Tensor forward_loss(int64_t epoch, int64_t step) = 0;
  // Applies the accumulated gradients (after backward) and zeroes them; global_step counts from 0.
  virtual void optimizer_step(int64_t global_step) = 0;
  // One whole step: forward, backward, optimizer update; returns the loss (a one-element tensor
  // the trainer reads). The default runs forward_loss, backward() and optimizer_step; a task may
  // replay a captured CUDA graph instead (see engine/train/step_graph.h).
  virtual Tensor train_step(int64_t epoch, int64_t step, int64_t global_step);
  virtual double learning_rate(int64_t global_step) const = 0;
  // Every tensor a checkpoint must hold (model, buffers, optimizer state), by name. The tensors
  // are the live ones: load_state copies into them.
  virtual std::map<std::string, Tensor> state() = 0;
  virtual void load_state(const std::map<std::string, Tensor>& saved);
  // Called after each epoch (e.g. kNN monitoring); epoch counts from 0.
  virtual void on_epoch_end(int64_t epoch, MetricsLog& metrics) {}
};

struct TrainerOptions {
  int64_t max_epochs = 1;
  // Stop (with a checkpoint, resumable) once this many steps in all have run; <= 0: no limit. The
  // schedule still spans max_epochs, as Lightning's max_steps beside max_epochs.
  int64_t max_steps = -1;
  std::string output_dir = "lumen_out";
  int64_t checkpoint_every = 10;  // epochs; the last epoch is always saved
  bool resume = false;
  // A fresh run (resume=false) in an output_dir holding an earlier run's checkpoints or metrics
  // deletes them first; without it that is an error (see RunDirectory).
  bool overwrite = false;
  std::string config_text;  // stored in checkpoint metadata ("key=value" lines)
  // More checkpoint metadata (e.g. "backbone_prefix": where the backbone's entries live).
  std::map<std::string, std::string> metadata;
  // Config keys a resume may change; any other key that differs from the checkpoint's is an error.
  std::set<std::string> resume_may_change;
  std::string resume_hint;  // the command line to print on interruption
  bool quiet = false;       // no progress line
  // The ranks of a data-parallel run (CPU tensors); null or one rank: this process alone.
  std::shared_ptr<Communicator> comm;
};

struct TrainResult {
  std::string checkpoint;  // path of the last checkpoint
  double last_loss = 0;
  double images_per_second = 0;  // over the last epoch run
  int64_t steps = 0;             // steps run by this call
};

// Thrown after a SIGINT/SIGTERM once the checkpoint is safe; the message says how to resume.
class TrainingInterrupted : public Error {
 public:
  using Error::Error;
};

// Claims options.output_dir with a RunDirectory for the run (lock, fresh-run check), unless the
// caller already holds one for it: `claimed` lets a caller claim the folder before building the
// task, so that a refused run has touched nothing in it. In a data-parallel run rank 0 claims it
// before and passes it; the other ranks pass null.
TrainResult train(TrainingTask& task, const TrainerOptions& options,
                  RunDirectory* claimed = nullptr);

// Appends JSON objects, one per line, to a file.
class MetricsLog {
 public:
  explicit MetricsLog(std::string path) : path_(std::move(path)) {}
  void write(const std::map<std::string, double>& numbers);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The "format" metadata of the checkpoints train() writes. Format 2: the task's state under its own
// names (PyTorch layouts), the backbone's entries under the "backbone_prefix" metadata.
constexpr const char* kCheckpointFormat = "lumen-checkpoint-2";

// Where train() keeps its last checkpoint under output_dir.
std::string last_checkpoint_path(const std::string& output_dir);

// The checkpoint a resume=true run continues from (output_dir's last), checked before anything is
// built: it exists, has this version's format, was written by a run of as many ranks, and its
// config differs from options.config_text only in options.resume_may_change (else an error naming
// the keys and both values). train() calls it too; a caller may call it first to refuse a resume
// before any work.
SafetensorsFile load_resume_checkpoint(const TrainerOptions& options);

// The config a checkpoint written by train() holds (TrainerOptions::config_text, by key); empty
// for any other safetensors file (torchvision weights, say).
std::map<std::string, std::string> checkpoint_config(const SafetensorsFile& file);

}  // namespace lumen
