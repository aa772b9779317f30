#include "api/simclr_task.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "api/datasets.h"
#include "api/embedding.h"
#include "api/model_io.h"
#include "api/train_config.h"
#include "engine/eval/knn.h"
#include "engine/train/adamw.h"
#include "engine/train/lars.h"
#include "engine/train/schedule.h"
#include "engine/train/sgd.h"
#include "layers/weights.h"

namespace lumen {

namespace {

// Folder images are cached a little larger than the views (as ImageNet's Resize(256) for 224
// crops), so random resized crops keep detail.
int storage_size(int input_size) { return (input_size * 8 + 6) / 7; }

TransformConfig transform_from(const Config& c) {
  TransformConfig t = simclr_transform(int(c.get_int("collate.input_size")));
  for (ViewConfig& v : t.views) {
    v.cj_prob = float(c.get_float("collate.cj_prob"));
    v.cj_strength = float(c.get_float("collate.cj_strength"));
    v.cj_bright = float(c.get_float("collate.cj_bright"));
    v.cj_contrast = float(c.get_float("collate.cj_contrast"));
    v.cj_sat = float(c.get_float("collate.cj_sat"));
    v.cj_hue = float(c.get_float("collate.cj_hue"));
    v.min_scale = float(c.get_float("collate.min_scale"));
    v.random_gray_scale = float(c.get_float("collate.random_gray_scale"));
    v.gaussian_blur = float(c.get_float("collate.gaussian_blur"));
    const auto sigmas = c.get_pair("collate.sigmas");
    v.sigmas = {float(sigmas.first), float(sigmas.second)};
    v.vf_prob = float(c.get_float("collate.vf_prob"));
    v.hf_prob = float(c.get_float("collate.hf_prob"));
    v.rr_prob = float(c.get_float("collate.rr_prob"));
    if (!c.raw("collate.rr_degrees").empty()) {  // rejected by view_spec below, with the reason
      const auto degrees = c.get_pair("collate.rr_degrees");
      v.rr_degrees = std::array<float, 2>{float(degrees.first), float(degrees.second)};
    }
    if (!c.get_bool("collate.normalize")) v.normalize.reset();
    view_spec(v);  // validates the values, naming a bad one
  }
  return t;
}

DatasetRequest dataset_request(const Config& c, const std::string& path, int size) {
  DatasetRequest r;
  r.path = path;
  r.image_size = size;
  r.on_error = data::parse_on_bad_file(c.get_string("data.on_error"));
  r.num_threads = int(std::max<int64_t>(0, c.get_int("loader.num_workers")));
  r.limit = c.get_int("data.limit");
  return r;
}

}  // namespace

SimCLRTask::SimCLRTask(const Config& c) : config_(c) {
  device_ = device_from_config(c);
  dtype_ = activation_dtype(c, device_);
  seed_ = uint64_t(c.get_int("seed"));
  batch_size_ = c.get_int("loader.batch_size");
  max_epochs_ = c.get_int("trainer.max_epochs");
  LUMEN_CHECK(batch_size_ >= 2, "loader.batch_size must be at least 2 for SimCLR, got ",
              batch_size_);
  LUMEN_CHECK(max_epochs_ >= 1, "trainer.max_epochs must be at least 1");
  transform_ = transform_from(c);
  const int input_size = int(c.get_int("collate.input_size"));

  DatasetRequest request = dataset_request(c, c.require("input_dir"), storage_size(input_size));
  request.filenames = c.get_string("data.filenames");  // input_dir's files; val_dir is listed
  request.cache_path = c.get_string("output_dir") + "/cache/images_" +
                       std::to_string(request.image_size) + ".lumencache";
  data::ImageDataset dataset = open_dataset(request);
  LUMEN_CHECK(dataset.size() >= batch_size_, "input_dir holds ", dataset.size(),
              " images, fewer than one batch of ", batch_size_, "; lower loader.batch_size");
  if (c.get_int("trainer.knn_every") > 0) {
    // As lightly's benchmarks: the training images vote with their labels (subfolders).
    const auto& labels = dataset.labels;
    LUMEN_CHECK(
        std::adjacent_find(labels.begin(), labels.end(), std::not_equal_to<>()) != labels.end(),
        "trainer.knn_every: kNN monitoring votes with the labels of input_dir, but all ",
        "its images have one label (a folder without class subfolders?); train on a "
        "labelled folder, or set trainer.knn_every=0 and evaluate with `lumen knn`");
    knn_bank_ = std::make_unique<data::ImageDataset>(dataset);
    knn_queries_ = std::make_unique<data::ImageDataset>(
        open_dataset(dataset_request(c, c.require("val_dir"), input_size)));
  }
  data::LoaderOptions lo;
  lo.batch_size = batch_size_;
  lo.seed = seed_;
  lo.shuffle = true;
  lo.drop_last = true;
  lo.device = device_;
  loader_ = std::make_unique<data::DataLoader>(std::move(dataset), lo);

  model_ = std::make_unique<SimCLR>(c.get_string("model.name"), c.get_float("model.width"),
                                    c.get_int("model.out_dim"));
  finalize(*model_, params_, device_, seed_);
  if (!c.get_string("checkpoint").empty())
    load_backbone(model_->backbone(), c.get_string("checkpoint"));
  model_->train();

  NTXentOptions loss_options;
  loss_options.temperature = c.get_float("criterion.temperature");
  loss_options.memory_bank_size = c.get_int("criterion.memory_bank_size");
  loss_options.memory_bank_seed = seed_;
  criterion_ = std::make_unique<NTXentLoss>(loss_options);

  base_lr_ =
      c.is_set("optimizer.lr") ? c.get_float("optimizer.lr") : default_learning_rate(batch_size_);
  const double wd = c.get_float("optimizer.weight_decay");
  const double momentum = c.get_float("optimizer.momentum");
  const std::string name = c.get_string("optimizer.name");
  if (name == "sgd") {
    optimizer_ = std::make_unique<SGD>(params_, SGDOptions{base_lr_, momentum, 0, wd, false},
                                       no_decay_for_bias_and_norm);
  } else if (name == "lars") {
    LARSOptions o;
    o.lr = base_lr_;
    o.momentum = momentum;
    o.weight_decay = wd;
    optimizer_ = std::make_unique<LARS>(params_, o, no_decay_for_bias_and_norm);
  } else {
    AdamWOptions o;
    o.lr = base_lr_;
    o.weight_decay = wd;
    optimizer_ = std::make_unique<AdamW>(params_, o, no_decay_for_bias_and_norm);
  }

  StepGraph::Options graph_options;
  graph_options.enabled = c.get_bool("trainer.cuda_graph");
  graph_options.warmup_steps = int(c.get_int("trainer.graph_warmup"));
  LUMEN_CHECK(graph_options.warmup_steps >= 1, "trainer.graph_warmup must be at least 1, got ",
              graph_options.warmup_steps);
  std::vector<Tensor> counters;  // BatchNorm's num_batches_tracked, counted on the host
  for (auto& [name, t] : model_->named_buffers()) {
    if (t.dtype() == DType::i64) counters.push_back(t);
  }
  step_graph_ = std::make_unique<StepGraph>(graph_options, counters);
  if (loss_options.memory_bank_size > 0) {
    step_graph_->disable("the memory bank's FIFO position is kept on the host");
  }
}

std::vector<Tensor> SimCLRTask::next_views(int64_t epoch, int64_t step) {
  if (epoch != loader_epoch_ || step != loader_step_) {
    // A new epoch, or a resume in the middle of one: the order is a function of (seed, epoch).
    loader_->start_epoch(epoch);
    data::Batch skipped;
    for (int64_t s = 0; s < step; ++s) loader_->next(&skipped);
    loader_epoch_ = epoch;
  }
  data::Batch batch;
  LUMEN_CHECK(loader_->next(&batch), "the loader ran out of batches at epoch ", epoch, " step ",
              step);
  loader_step_ = step + 1;
  return make_views(batch.images, batch.indices, seed_, uint64_t(epoch), transform_, dtype_);
}

Tensor SimCLRTask::views_loss(const std::vector<Tensor>& views) {
  Tensor z0 = (*model_)(views[0]);
  Tensor z1 = (*model_)(views[1]);
  return (*criterion_)(z0, z1);
}

Tensor SimCLRTask::forward_loss(int64_t epoch, int64_t step) {
  return views_loss(next_views(epoch, step));
}

Tensor SimCLRTask::train_step(int64_t epoch, int64_t step, int64_t global_step) {
  // Loading and augmentation stay eager (host-chosen crops), and so does writing this step's
  // optimizer scalars (learning rate, step count) to the device; the graph runs the rest: forward,
  // loss, backward, the fused update (reading those scalars) and the zeroing of the gradients.
  std::vector<Tensor> views = next_views(epoch, step);
  optimizer_->set_lr(learning_rate(global_step));
  optimizer_->prepare_step();
  return step_graph_->run(views, [&](const std::vector<Tensor>& in) {
    Tensor loss = views_loss(in);
    loss.backward();
    optimizer_->launch_update();
    params_.zero_grad();
    return loss;
  });
}

double SimCLRTask::learning_rate(int64_t global_step) const {
  if (config_.get_string("scheduler.name") == "none") return base_lr_;
  const int64_t total = max_epochs_ * steps_per_epoch();
  const int64_t warmup =
      int64_t(config_.get_float("scheduler.warmup_epochs") * double(steps_per_epoch()));
  // lightly's CosineWarmupScheduler factor (start 1, end 0.001), applied per step.
  return base_lr_ * cosine_warmup_schedule(global_step, total, 1.0, 0.001, warmup, 0.0);
}

void SimCLRTask::optimizer_step(int64_t global_step) {
  optimizer_->set_lr(learning_rate(global_step));
  optimizer_->step();
  params_.zero_grad();
}

std::map<std::string, Tensor> SimCLRTask::state() {
  std::map<std::string, Tensor> s = backbone_state_dict(model_->backbone());
  for (auto& [name, t] : model_->projection_head().named_parameters(kHeadPrefix)) s[name] = t;
  for (auto& [name, t] : model_->projection_head().named_buffers(kHeadPrefix)) s[name] = t;
  for (auto& [name, t] : optimizer_->state_tensors()) s[kOptimizerPrefix + name] = t;
  if (criterion_->memory_bank().defined()) {
    s[std::string(kCriterionPrefix) + "memory_bank"] = criterion_->memory_bank();
    s[std::string(kCriterionPrefix) + "memory_bank_pointer"] =
        Tensor::full({1}, double(criterion_->memory_bank_pointer()), DType::i64);
  }
  return s;
}

void SimCLRTask::load_state(const std::map<std::string, Tensor>& saved) {
  load_backbone_state_dict(model_->backbone(), backbone_entries(saved), "checkpoint");
  auto take = [&](const std::string& name, Tensor& into) {
    auto it = saved.find(name);
    LUMEN_CHECK(it != saved.end(), "checkpoint lacks '", name,
                "'; it was written by a different model or method");
    LUMEN_CHECK(it->second.shape() == into.shape(), "checkpoint tensor '", name, "' has shape ",
                shape_str(it->second.shape()), ", expected ", shape_str(into.shape()));
    into.copy_from(it->second);
  };
  for (auto& [name, t] : model_->projection_head().named_parameters(kHeadPrefix)) take(name, t);
  for (auto& [name, t] : model_->projection_head().named_buffers(kHeadPrefix)) take(name, t);
  std::map<std::string, Tensor> optimizer_state;
  for (const auto& [name, t] : saved) {
    if (name.rfind(kOptimizerPrefix, 0) == 0) {
      optimizer_state[name.substr(std::string(kOptimizerPrefix).size())] = t;
    }
  }
  optimizer_->load_state_tensors(optimizer_state);
  auto bank = saved.find(std::string(kCriterionPrefix) + "memory_bank");
  if (bank != saved.end()) {
    auto pointer_entry = saved.find(std::string(kCriterionPrefix) + "memory_bank_pointer");
    LUMEN_CHECK(pointer_entry != saved.end() && pointer_entry->second.numel() == 1,
                "checkpoint has a memory bank but no criterion.memory_bank_pointer; it is "
                "damaged or from another program");
    const int64_t pointer = int64_t(pointer_entry->second.item());
    criterion_->set_memory_bank(bank->second.to(device_), pointer);
  }
}

void SimCLRTask::on_epoch_end(int64_t epoch, MetricsLog& metrics) {
  const int64_t every = config_.get_int("trainer.knn_every");
  if (every <= 0 || (epoch + 1) % every != 0) return;
  const int size = int(config_.get_int("collate.input_size"));
  Embeddings bank =
      embed_dataset(model_->backbone(), *knn_bank_, size, device_, dtype_, batch_size_);
  Embeddings queries =
      embed_dataset(model_->backbone(), *knn_queries_, size, device_, dtype_, batch_size_);
  int64_t classes = 0;
  for (int64_t l : bank.labels) classes = std::max(classes, l + 1);
  for (int64_t l : queries.labels) classes = std::max(classes, l + 1);
  KnnResult r = knn_classify(bank.values, bank.labels, queries.values, queries.labels, classes);
  std::fprintf(stderr, "\nepoch %lld: kNN top-1 %.4f top-5 %.4f\n",
               static_cast<long long>(epoch + 1), r.top1, r.top5);
  metrics.write({{"epoch", double(epoch + 1)}, {"knn_top1", r.top1}, {"knn_top5", r.top5}});
}

}  // namespace lumen
