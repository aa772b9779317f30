#include "api/ssl_task.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "api/embedding.h"
#include "api/model_io.h"
#include "engine/dist/nccl_communicator.h"
#include "engine/eval/knn.h"
#include "engine/train/adamw.h"
#include "engine/train/lars.h"
#include "engine/train/schedule.h"
#include "engine/train/sgd.h"
#include "layers/layers.h"
#include "layers/weights.h"

namespace lumen {

namespace {
constexpr const char* kOptimizerPrefix = "optimizer.";

std::unique_ptr<Optimizer> make_plain_optimizer(ParameterBuffer& params,
                                                const OptimizerSettings& s) {
  if (s.name == "sgd") {
    return std::make_unique<SGD>(params, SGDOptions{s.lr, s.momentum, 0, s.weight_decay, false},
                                 no_decay_for_bias_and_norm);
  }
  if (s.name == "lars") {
    LARSOptions o;
    o.lr = s.lr;
    o.momentum = s.momentum;
    o.weight_decay = s.weight_decay;
    return std::make_unique<LARS>(params, o, no_decay_for_bias_and_norm);
  }
  if (s.name == "adam") {
    AdamOptions o;
    o.lr = s.lr;
    o.weight_decay = s.weight_decay;
    return std::make_unique<Adam>(params, o, no_decay_for_bias_and_norm);
  }
  LUMEN_CHECK(s.name == "adamw", "unknown optimizer '", s.name, "': use sgd, lars, adam or adamw");
  AdamWOptions o;
  o.lr = s.lr;
  o.weight_decay = s.weight_decay;
  return std::make_unique<AdamW>(params, o, no_decay_for_bias_and_norm);
}
}  // namespace

std::unique_ptr<Optimizer> make_optimizer(ParameterBuffer& params, const OptimizerSettings& s) {
  std::unique_ptr<Optimizer> optimizer = make_plain_optimizer(params, s);
  if (s.no_decay_lr_scale != 1) {
    // lightly's two parameter groups: batch norm and biases (no decay) at their own rate.
    optimizer->set_lr_scales([&](const std::string& name, const Tensor& p) {
      return no_decay_for_bias_and_norm(name, p) ? 1.0 : s.no_decay_lr_scale;
    });
  }
  return optimizer;
}

SelfSupervisedTask::SelfSupervisedTask(const TrainOptions& options)
    : options_(options),
      host_comm_(options.dist.comm ? options.dist.comm : single_process_communicator()),
      device_comm_(host_comm_) {
  LUMEN_CHECK(options_.trainer.max_epochs >= 1, "trainer.max_epochs must be at least 1");
  const int world = host_comm_->world_size();
  const bool lead = host_comm_->rank() == 0;
  data::ImageDataset dataset = open_training_set();
  LUMEN_CHECK(dataset.size() / world >= options_.batch_size, "input_dir holds ", dataset.size(),
              " images, fewer than one batch of ", options_.batch_size,
              world > 1 ? " on each of " + std::to_string(world) + " ranks" : std::string(),
              "; lower loader.batch_size");
  if (options_.monitor.knn_every > 0 && lead) {
    // As lightly's benchmarks: the training images vote with their labels (subfolders), the
    // validation classes matched to them by name. Rank 0 alone monitors.
    DatasetRequest queries = options_.data;
    queries.path = options_.monitor.val_dir;
    queries.image_size = embedding_size(options_.views);
    queries.cache_path.clear();
    queries.filenames.clear();
    knn_queries_ = std::make_unique<data::ImageDataset>(open_dataset(queries));
    knn_labels_ = knn_labels(dataset, *knn_queries_, "input_dir=" + options_.data.path,
                             "val_dir=" + queries.path);
    knn_bank_ = std::make_unique<data::ImageDataset>(dataset);
  }
  data::LoaderOptions lo;
  lo.batch_size = options_.batch_size;
  lo.seed = options_.seed;
  lo.shuffle = true;
  lo.drop_last = true;
  lo.device = options_.device;
  lo.rank = host_comm_->rank();
  lo.world_size = world;
  loader_ = std::make_unique<data::DataLoader>(std::move(dataset), lo);

  if (world > 1 && options_.device.is_cuda()) {
    device_comm_ = make_nccl_communicator(*host_comm_, options_.device.index);
    device_comm_->set_timeout(options_.dist.timeout_s);
  }
  method_ = options_.make_method(options_.backbone, device_comm_);
  finalize(*method_, params_, options_.device, options_.seed);
  if (!options_.init_checkpoint.empty()) {
    load_backbone_weights(method_->backbone(), options_.init_checkpoint);
  }
  method_->setup(params_, options_.device, options_.seed);
  method_->train();
  if (world > 1) {
    broadcast_initial_state();
    if (options_.dist.sync_batchnorm) {
      sync_batch_norms(*method_, device_comm_);
      for (Module* net : method_->frozen_networks()) sync_batch_norms(*net, device_comm_);
    }
    reducer_ = std::make_unique<GradientReducer>(params_, device_comm_, options_.dist.bucket_bytes);
  }
  optimizer_ = make_optimizer(params_, options_.optimizer);

  step_graph_ = std::make_unique<StepGraph>(options_.graph, method_->host_counters());
  const std::string blocker = method_->graph_blocker();
  if (!blocker.empty()) step_graph_->disable(blocker);
}

data::ImageDataset SelfSupervisedTask::open_training_set() {
  // Rank 0 first: it builds the image cache, which the other ranks then read (without a file
  // system shared with rank 0 they build their own). A rank that cannot open the data stops all.
  data::ImageDataset dataset;
  const bool lead = host_comm_->rank() == 0;
  UntimedWaits untimed(*host_comm_);  // decoding a large folder takes as long as it takes
  run_agreed(
      *host_comm_, "to open input_dir", [&] { dataset = open_dataset(options_.data); },
      /*rank_zero_only=*/true);
  run_agreed(*host_comm_, "to open input_dir", [&] {
    if (lead) return;
    DatasetRequest request = options_.data;
    request.progress = false;
    dataset = open_dataset(request);
  });
  return dataset;
}

void SelfSupervisedTask::broadcast_initial_state() {
  // As DDP at construction: every rank starts from rank 0's parameters and buffers (and here the
  // banks too), whatever its own initialisation gave. Host tensors (counters, bank positions) go
  // through the CPU communicator.
  for (auto& [name, t] : method_->state())
    (t.is_cuda() ? device_comm_ : host_comm_)->broadcast(t, 0);
}

std::vector<Tensor> SelfSupervisedTask::next_views(int64_t epoch, int64_t step) {
  if (epoch != loader_epoch_ || step != loader_step_) {
    // A new epoch, or a resume in the middle of one: the order is a function of (seed, epoch).
    loader_->start_epoch(epoch);
    data::Batch skipped;
    for (int64_t s = 0; s < step; ++s) loader_->next(&skipped);
    loader_epoch_ = epoch;
  }
  data::Batch batch;
  LUMEN_CHECK(loader_->next(&batch), "the loader ran out of batches at epoch ", epoch + 1, " step ",
              step + 1);
  loader_step_ = step + 1;
  return make_views(batch.images, batch.indices, options_.seed, uint64_t(epoch), options_.views,
                    options_.dtype);
}

MethodStep SelfSupervisedTask::method_step(int64_t global_step) const {
  return {global_step, options_.trainer.max_epochs * steps_per_epoch(),
          global_step / steps_per_epoch(), options_.trainer.max_epochs};
}

void SelfSupervisedTask::begin_step(int64_t global_step) {
  const MethodStep at = method_step(global_step);
  std::vector<std::string> frozen = method_->frozen_parameters(at);
  if (frozen != frozen_) {
    optimizer_->set_frozen([&](const std::string& name) {
      return std::find(frozen.begin(), frozen.end(), name) != frozen.end();
    });
    frozen_ = std::move(frozen);
  }
  method_->prepare_step(at);
}

void SelfSupervisedTask::reduce_gradients() {
  if (reducer_) reducer_->finish();
}

Tensor SelfSupervisedTask::forward_loss(int64_t epoch, int64_t step) {
  begin_step(epoch * steps_per_epoch() + step);
  return method_->training_loss(next_views(epoch, step));
}

void SelfSupervisedTask::optimizer_step(int64_t global_step) {
  reduce_gradients();
  optimizer_->set_lr(learning_rate(global_step));
  optimizer_->step();
  method_->after_update();
  params_.zero_grad();
}

Tensor SelfSupervisedTask::train_step(int64_t epoch, int64_t step, int64_t global_step) {
  // Loading and augmentation stay eager (host-chosen crops), and so does writing this step's
  // scalars (learning rate, step count, the method's momentum) to the device; the graph runs the
  // rest: forward, loss, backward, the fused update (reading those scalars), the method's
  // after_update and the zeroing of the gradients.
  std::vector<Tensor> views = next_views(epoch, step);
  begin_step(global_step);
  optimizer_->set_lr(learning_rate(global_step));
  optimizer_->prepare_step();
  return step_graph_->run(views, [&](const std::vector<Tensor>& in) {
    Tensor loss = method_->training_loss(in);
    {
      ObserveGradients watch(reducer_.get());  // buckets start as backward completes them
      loss.backward();
    }
    reduce_gradients();
    optimizer_->launch_update();
    method_->after_update();
    params_.zero_grad();
    return loss;
  });
}

double SelfSupervisedTask::learning_rate(int64_t global_step) const {
  const double base_lr = options_.optimizer.lr;
  if (!options_.schedule.cosine) return base_lr;
  const int64_t total = options_.trainer.max_epochs * steps_per_epoch();
  const int64_t warmup = int64_t(options_.schedule.warmup_epochs * double(steps_per_epoch()));
  // lightly's CosineWarmupScheduler factor (start 1, end 0.001 or the wiring's), per step.
  return base_lr *
         cosine_warmup_schedule(global_step, total, 1.0, options_.schedule.end_value, warmup, 0.0);
}

std::map<std::string, Tensor> SelfSupervisedTask::state() {
  std::map<std::string, Tensor> s;
  for (auto& [name, t] : method_->state()) s[name] = to_checkpoint_layout(t);
  for (auto& [name, t] : optimizer_->state_tensors()) s[kOptimizerPrefix + name] = t;
  return s;
}

void SelfSupervisedTask::load_state(const std::map<std::string, Tensor>& saved) {
  // Everything is checked before anything is copied, so a refused checkpoint changes nothing.
  NamedTensors live = method_->state();
  for (auto& [name, t] : optimizer_->state_tensors()) live.emplace_back(kOptimizerPrefix + name, t);
  for (auto& [name, t] : live) {
    auto it = saved.find(name);
    LUMEN_CHECK(it != saved.end(), "checkpoint lacks '", name, "'; it was written by another ",
                "method or model (this run trains ", options_.method, " on ",
                options_.backbone.name, ")");
    check_checkpoint_shape(t, it->second, name);
  }
  for (auto& [name, t] : live) copy_from_checkpoint(t, saved.at(name), name);
}

void SelfSupervisedTask::on_epoch_end(int64_t epoch, MetricsLog& metrics) {
  check_same_on_every_rank(*host_comm_, params_.values(),
                           "after epoch " + std::to_string(epoch + 1) + " the parameters");
  const int64_t every = options_.monitor.knn_every;
  if (every <= 0 || (epoch + 1) % every != 0) return;
  if (host_comm_->rank() == 0) {
    // The backbone's weights as they are now, on the inference path (the training module is not
    // touched: no switch to eval mode and back), at the size embed uses for this run's views.
    EmbedderSettings settings;
    settings.max_batch = options_.batch_size;
    const Embedder embedder(method_->backbone(), options_.backbone, embedding_size(options_.views),
                            options_.device, options_.dtype, settings);
    const Embeddings bank = embed_dataset(embedder, *knn_bank_);
    const Embeddings queries = embed_dataset(embedder, *knn_queries_);
    KnnResult r = knn_classify(bank.values, bank.labels, queries.values, knn_labels_.test,
                               knn_labels_.classes);
    std::fprintf(stderr, "\nepoch %lld: kNN top-1 %.4f top-5 %.4f\n",
                 static_cast<long long>(epoch + 1), r.top1, r.top5);
    metrics.write({{"epoch", double(epoch + 1)}, {"knn_top1", r.top1}, {"knn_top5", r.top5}});
  }
  if (host_comm_->world_size() > 1) {
    UntimedWaits untimed(*host_comm_);  // rank 0 monitors while the others wait
    host_comm_->barrier();
  }
}

}  // namespace lumen
