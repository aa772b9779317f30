// SimCLR as a TrainingTask: data -> two augmented views -> backbone + projection head -> NT-Xent,
// with the configured optimizer and schedule. Built from a `lumen train` config.
#pragma once

#include <memory>

#include "api/config.h"
#include "augment/transform.h"
#include "engine/data/loader.h"
#include "engine/train/optimizer.h"
#include "engine/train/step_graph.h"
#include "engine/train/trainer.h"
#include "layers/simclr.h"
#include "losses/ntxent.h"

namespace lumen {

class SimCLRTask : public TrainingTask {
 public:
  explicit SimCLRTask(const Config& config);

  int64_t steps_per_epoch() const override { return loader_->batches_per_epoch(); }
  int64_t batch_size() const override { return batch_size_; }
  Tensor forward_loss(int64_t epoch, int64_t step) override;
  void optimizer_step(int64_t global_step) override;
  // On the GPU, after trainer.graph_warmup eager steps, the step (forward, backward, optimizer
  // update) is replayed from a CUDA graph.
  Tensor train_step(int64_t epoch, int64_t step, int64_t global_step) override;
  double learning_rate(int64_t global_step) const override;
  std::map<std::string, Tensor> state() override;
  void load_state(const std::map<std::string, Tensor>& saved) override;
  void on_epoch_end(int64_t epoch, MetricsLog& metrics) override;

  SimCLR& model() { return *model_; }
  Device device() const { return device_; }
  const StepGraph& step_graph() const { return *step_graph_; }

 private:
  Config config_;
  Device device_;
  DType dtype_;
  uint64_t seed_;
  int64_t batch_size_;
  int64_t max_epochs_;
  double base_lr_;
  std::unique_ptr<data::DataLoader> loader_;
  TransformConfig transform_;
  std::unique_ptr<SimCLR> model_;
  ParameterBuffer params_;
  std::unique_ptr<NTXentLoss> criterion_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<StepGraph> step_graph_;
  int64_t loader_epoch_ = -1, loader_step_ = 0;  // position of the loader
  // kNN monitoring: the training images without augmentation, and the validation set.
  std::unique_ptr<data::ImageDataset> knn_bank_, knn_queries_;

  std::vector<Tensor> next_views(int64_t epoch, int64_t step);  // loads and augments a batch
  Tensor views_loss(const std::vector<Tensor>& views);          // forward to the NT-Xent loss
};

}  // namespace lumen
