// train_embedding_model: the config becomes a SimCLR task and the generic trainer runs it.
#include <filesystem>

#include "api/lumen.h"
#include "api/simclr_task.h"
#include "api/train_config.h"

namespace lumen {

Config train_config(const std::vector<std::string>& args) {
  Config c(train_config_schema());
  c.parse_args(args);
  return c;
}

std::string train_embedding_model(const Config& config) {
  SimCLRTask task(config);
  TrainerOptions options;
  options.max_epochs = config.get_int("trainer.max_epochs");
  options.max_steps = config.get_int("trainer.max_steps");
  options.output_dir = config.get_string("output_dir");
  options.checkpoint_every = config.get_int("trainer.checkpoint_every");
  options.resume = config.get_bool("resume");
  options.overwrite = config.get_bool("overwrite");
  options.config_text = config.serialize();
  // What a resumed run may change without leaving the interrupted run's path: where and how fast
  // it runs, how long, what it records. Everything else (data, model, optimizer, schedule,
  // augmentations, seed) must match the checkpoint's config.
  options.resume_may_change = {"resume",
                               "overwrite",
                               "output_dir",
                               "checkpoint",
                               "device",
                               "loader.num_workers",
                               "trainer.max_epochs",
                               "trainer.max_steps",
                               "trainer.checkpoint_every",
                               "trainer.knn_every",
                               "trainer.cuda_graph",
                               "trainer.graph_warmup",
                               "val_dir"};
  options.resume_hint = "lumen train resume=true output_dir=" + options.output_dir +
                        " (with the same other arguments)";
  return train(task, options).checkpoint;
}

}  // namespace lumen
