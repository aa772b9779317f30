#include "api/train_options.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "api/model_io.h"
#include "api/train_config.h"

namespace lumen {

int storage_size(int input_size) { return (input_size * 8 + 6) / 7; }

namespace {
// Each rank takes the GPU of its local rank, unless device names one (cuda:N) or the launcher left
// it one GPU (CUDA_VISIBLE_DEVICES per rank).
Device rank_device(const Config& c, const Job& job) {
  const Device d = device_from_config(c);
  if (job.world_size == 1 || d.is_cpu() || c.get_string("device").find(':') != std::string::npos) {
    return d;
  }
  const int gpus = cuda_device_count();
  if (gpus == 1) return Device::cuda(0);
  LUMEN_CHECK(job.local_rank < gpus, "rank ", job.rank, " is local rank ", job.local_rank,
              " of its node, which has ", gpus, " GPUs: start one rank per GPU");
  return Device::cuda(job.local_rank);
}
}  // namespace

TrainOptions read_train_options(const Config& c, const Backbone* backbone, const Job& job,
                                const std::function<void(TransformConfig&)>* edit_views) {
  TrainOptions o;
  o.method = c.get_string("method");
  const MethodEntry& method = find_method(o.method);
  o.make_method = method.configure(c);
  o.backbone = backbone != nullptr
                   ? *backbone
                   : resnet_backbone(c.get_string("model.name"), c.get_float("model.width"));
  o.init_checkpoint = c.get_string("checkpoint");
  o.device = rank_device(c, job);
  o.dtype = activation_dtype(c, o.device);
  o.seed = uint64_t(c.get_int("seed"));
  o.batch_size = c.get_int("loader.batch_size");
  LUMEN_CHECK(o.batch_size >= 2, "loader.batch_size must be at least 2 for contrastive and ",
              "batch-norm methods, got ", o.batch_size);

  o.views = views_from_config(c, method.views);
  if (edit_views != nullptr && *edit_views) {
    (*edit_views)(o.views);
    LUMEN_CHECK(!o.views.views.empty(), "the views edit left no view; keep at least one");
    for (const ViewConfig& v : o.views.views) view_spec(v);  // names a bad value
  }
  check_custom_stages(o.views, o.device);
  int largest_view = 1;
  for (const ViewConfig& v : o.views.views) largest_view = std::max(largest_view, v.input_size);
  o.data = dataset_request(c, c.require("input_dir"), storage_size(largest_view));
  o.data.filenames = c.get_string("data.filenames");  // input_dir's files; val_dir is listed
  o.data.cache_path = c.get_string("output_dir") + "/cache/images_" +
                      std::to_string(o.data.image_size) + ".lumencache";

  const OptimizerWiring wiring =
      optimizer_wiring(method, c.get_string("optimizer.name"), o.batch_size * job.world_size);
  auto number_or = [&](const char* key, double fallback) {
    return c.is_set(key) ? c.get_float(key) : fallback;
  };
  o.optimizer.name = wiring.optimizer;
  o.optimizer.lr = number_or("optimizer.lr", wiring.lr);
  o.optimizer.momentum = c.get_float("optimizer.momentum");
  o.optimizer.weight_decay = number_or("optimizer.weight_decay", wiring.weight_decay);
  o.optimizer.no_decay_lr_scale = wiring.no_decay_lr_scale;
  o.schedule.cosine = c.get_string("scheduler.name") == "cosine";
  // lightly's ImageNet benchmarks warm up for 10 of 100 epochs: a short run keeps that tenth.
  const double epochs = double(c.get_int("trainer.max_epochs"));
  o.schedule.warmup_epochs =
      number_or("scheduler.warmup_epochs", std::min(wiring.warmup_epochs, epochs / 10));
  o.schedule.end_value = number_or("scheduler.end_value", wiring.end_value);
  o.monitor.knn_every = c.get_int("trainer.knn_every");
  if (o.monitor.knn_every > 0) o.monitor.val_dir = c.require("val_dir");
  o.graph.enabled = c.get_bool("trainer.cuda_graph");
  o.graph.warmup_steps = int(c.get_int("trainer.graph_warmup"));
  o.dist.rank = job.rank;
  o.dist.world_size = job.world_size;
  o.dist.local_rank = job.local_rank;
  o.dist.comm = job.comm;
  o.dist.bucket_bytes = int64_t(c.get_float("trainer.bucket_mb") * double(1 << 20));
  o.dist.sync_batchnorm = c.get_bool("trainer.sync_batchnorm");
  o.dist.timeout_s = c.get_float("trainer.dist_timeout");

  TrainerOptions& t = o.trainer;
  t.max_epochs = c.get_int("trainer.max_epochs");
  t.max_steps = c.get_int("trainer.max_steps");
  t.output_dir = c.get_string("output_dir");
  t.checkpoint_every = c.get_int("trainer.checkpoint_every");
  t.resume = c.get_bool("resume");
  t.overwrite = c.get_bool("overwrite");
  // The checkpoint records the values used: the numbers the run derived, not "unset".
  Config used = c;
  used.set("optimizer.lr", shortest_text(o.optimizer.lr));
  used.set("optimizer.weight_decay", shortest_text(o.optimizer.weight_decay));
  used.set("scheduler.warmup_epochs", shortest_text(o.schedule.warmup_epochs));
  used.set("scheduler.end_value", shortest_text(o.schedule.end_value));
  t.config_text = used.serialize();
  t.resume_may_change = c.resume_may_change();
  t.resume_hint = "lumen train resume=true output_dir=" + t.output_dir +
                  " (with the same other arguments" +
                  (job.world_size > 1 ? ", on " + std::to_string(job.world_size) + " ranks)" : ")");
  t.metadata = {{"backbone_prefix", Method::kBackbonePrefix}, {"method", o.method}};
  t.comm = job.comm;
  return o;
}

}  // namespace lumen
