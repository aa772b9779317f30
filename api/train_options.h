// A `lumen train` config read once into typed options; nothing below the api floor looks a key up
// by string.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "api/config.h"
#include "api/datasets.h"
#include "api/methods.h"
#include "augment/transform.h"
#include "engine/dist/session.h"
#include "engine/train/step_graph.h"
#include "engine/train/trainer.h"

namespace lumen {

// Each setting as given, or the method's wiring for the optimizer (api/methods.h).
struct OptimizerSettings {
  std::string name = "sgd";  // sgd | lars | adam | adamw
  double lr = 0.06;          // scaled with the global batch where the wiring scales it
  double momentum = 0.9;
  double weight_decay = 5e-4;    // not on batch norm and biases
  double no_decay_lr_scale = 1;  // lr factor of batch norm and biases
};

struct ScheduleSettings {
  bool cosine = true;  // lightly's CosineWarmupScheduler factor per step; else constant
  double warmup_epochs = 0;
  double end_value = 0.001;  // the cosine's last factor
};

// A data-parallel run (mpirun / srun: engine/dist/session.h); one rank otherwise.
struct DataParallelSettings {
  int rank = 0, world_size = 1, local_rank = 0;
  std::shared_ptr<Communicator> comm;  // CPU tensors of every rank (MPI); single process for one
  int64_t bucket_bytes = int64_t(25) << 20;  // gradient all-reduce buckets (trainer.bucket_mb)
  bool sync_batchnorm = false;
  double timeout_s = 600;  // trainer.dist_timeout
};

struct MonitorSettings {
  int64_t knn_every = 0;  // epochs; 0: off
  std::string val_dir;
};

struct TrainOptions {
  std::string method;  // the method table's name
  MethodFactory make_method;
  Backbone backbone;
  std::string init_checkpoint;  // weights the backbone starts from ("": random)
  Device device = Device::cpu();
  DType dtype = DType::f32;  // of the activations
  uint64_t seed = 1;
  int64_t batch_size = 256;  // per rank; the global batch is batch_size * dist.world_size
  DatasetRequest data;       // input_dir and how to read it (cache_path set from output_dir)
  TransformConfig views;
  OptimizerSettings optimizer;
  ScheduleSettings schedule;
  MonitorSettings monitor;
  StepGraph::Options graph;
  DataParallelSettings dist;
  TrainerOptions trainer;  // epochs, steps, output_dir, checkpoints, resume, the config text
};

// Reads a config of train_config_schema(method). `backbone`: a custom backbone, else the ResNet
// named by model.name / model.width. `job`: the ranks this process trains with (the default
// learning rate scales with the global batch; on GPUs each rank takes the GPU of its local rank).
// `edit_views`: changes the views read from the config (custom augmentation stages); the views
// are then checked for the training device (check_custom_stages).
TrainOptions read_train_options(const Config& config, const Backbone* backbone = nullptr,
                                const Job& job = current_job(),
                                const std::function<void(TransformConfig&)>* edit_views = nullptr);

// Folder images are cached a little larger than the views (as ImageNet's Resize(256) for 224
// crops), so random resized crops keep detail.
int storage_size(int input_size);

}  // namespace lumen
