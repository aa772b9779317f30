// The one self-supervised task: every method of the method table trains through it, the same way
// (see layers/methods/method.h for the step). It owns what is generic to a run — the data and
// its cache, the loader's position, the views, the optimizer and its schedule, the CUDA-graph
// step, the checkpoint state and kNN monitoring — and the Method, which owns its networks, losses
// and live state.
//
// Data parallel (options.dist of more than one rank, PyTorch DDP's semantics): rank 0 opens the
// data first (building the image cache the others then read); each rank loads its shard of every
// epoch (engine/data/loader.h); rank 0's initial state (parameters, buffers, banks) is broadcast;
// the gradients are averaged by bucketed all-reduces started during backward
// (engine/dist/gradient_reducer.h) at the place the method interface gives them, between backward
// and the optimizer; trainer.sync_batchnorm makes every BatchNorm (momentum copies included) a
// SyncBatchNorm; the method gets the job's communicator on the training device (NCCL on GPUs, MPI
// on the CPU) for gather_distributed and MoCo's shuffle. kNN monitoring runs on rank 0 while the
// others wait.
#pragma once

#include <memory>

#include "api/train_options.h"
#include "engine/data/loader.h"
#include "engine/dist/communicator.h"
#include "engine/dist/gradient_reducer.h"
#include "engine/eval/knn.h"
#include "engine/train/optimizer.h"
#include "engine/train/step_graph.h"
#include "engine/train/trainer.h"
#include "layers/methods/method.h"

namespace lumen {

class SelfSupervisedTask : public TrainingTask {
 public:
  explicit SelfSupervisedTask(const TrainOptions& options);

  int64_t steps_per_epoch() const override { return loader_->batches_per_epoch(); }
  int64_t batch_size() const override { return options_.batch_size; }
  Tensor forward_loss(int64_t epoch, int64_t step) override;
  void optimizer_step(int64_t global_step) override;
  // On the GPU, after trainer.graph_warmup eager steps, the step (forward, backward, optimizer
  // update, the method's after_update) is replayed from a CUDA graph.
  Tensor train_step(int64_t epoch, int64_t step, int64_t global_step) override;
  double learning_rate(int64_t global_step) const override;
  // The method's state and the optimizer's ("optimizer.*"), in PyTorch layouts (4-D convolution
  // weights OIHW): copies where the layout differs, live tensors otherwise.
  std::map<std::string, Tensor> state() override;
  void load_state(const std::map<std::string, Tensor>& saved) override;
  void on_epoch_end(int64_t epoch, MetricsLog& metrics) override;

  Method& method() { return *method_; }
  Device device() const { return options_.device; }
  const StepGraph& step_graph() const { return *step_graph_; }
  const TransformConfig& views() const { return options_.views; }

 private:
  TrainOptions options_;
  std::unique_ptr<data::DataLoader> loader_;
  std::unique_ptr<Method> method_;
  ParameterBuffer params_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<StepGraph> step_graph_;
  std::shared_ptr<Communicator> host_comm_;      // CPU tensors of every rank (MPI), or one process
  std::shared_ptr<Communicator> device_comm_;    // the same ranks on the training device
  std::unique_ptr<GradientReducer> reducer_;     // more than one rank only
  int64_t loader_epoch_ = -1, loader_step_ = 0;  // position of the loader
  // kNN monitoring: the training images without augmentation, and the validation set.
  std::unique_ptr<data::ImageDataset> knn_bank_, knn_queries_;
  KnnLabels knn_labels_;  // the validation labels in the training set's label space

  std::vector<Tensor> next_views(int64_t epoch, int64_t step);  // loads and augments a batch
  MethodStep method_step(int64_t global_step) const;
  // Before a step, outside any graph: the parameters the method freezes now, then its scalars.
  void begin_step(int64_t global_step);
  std::vector<std::string> frozen_;  // what the optimizer was last told to leave out
  void reduce_gradients();  // the gradient all-reduce across ranks (one rank: nothing to do)
  data::ImageDataset open_training_set();
  void broadcast_initial_state();
};

// The optimizer a run's settings name, over every parameter of `params`.
std::unique_ptr<Optimizer> make_optimizer(ParameterBuffer& params, const OptimizerSettings& s);

}  // namespace lumen
