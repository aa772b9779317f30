// train_config and train_embedding_model: the config becomes typed options, the options a
// self-supervised task, and the generic trainer runs it.
#include <algorithm>
#include <filesystem>
#include <optional>

#include "api/lumen.h"
#include "api/methods.h"
#include "api/ssl_task.h"
#include "api/train_config.h"
#include "engine/train/run_directory.h"

namespace lumen {

namespace {

// overwrite=true deletes output_dir's checkpoints: refuse it when the starting weights are one.
void check_not_overwritten(const TrainOptions& o) {
  if (!o.trainer.overwrite || o.init_checkpoint.empty()) return;
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path weights = fs::weakly_canonical(fs::absolute(o.init_checkpoint), ec);
  const fs::path folder =
      fs::weakly_canonical(fs::absolute(o.trainer.output_dir + "/checkpoints"), ec);
  const bool inside =
      std::mismatch(folder.begin(), folder.end(), weights.begin(), weights.end()).first ==
      folder.end();
  LUMEN_CHECK(!inside, "checkpoint=", o.init_checkpoint, " lies in ", folder.string(),
              ", which overwrite=true deletes before training; copy the weights elsewhere first, "
              "or train in another output_dir");
}

std::string train_with(const Config& config, const Backbone* backbone, const ViewsEdit* edit) {
  const Job& job = current_job();
  const TrainOptions options = read_train_options(config, backbone, job, edit);
  check_not_overwritten(options);
  set_fault_timeout(options.dist.timeout_s);
  // Everything that refuses a run does so before anything is built: the folder's lock and the
  // fresh-run check, then a resume's checkpoint (the image cache of an interrupted run stays as
  // it is). Rank 0 alone holds the folder; the other ranks stop with it when it cannot.
  std::optional<RunDirectory> run;
  run_agreed(
      *job.comm, "to start the run in output_dir " + options.trainer.output_dir,
      [&] {
        run.emplace(options.trainer.output_dir, options.trainer.resume, options.trainer.overwrite);
        if (options.trainer.resume) load_resume_checkpoint(options.trainer);
      },
      /*rank_zero_only=*/true);
  SelfSupervisedTask task(options);
  return train(task, options.trainer, run ? &*run : nullptr).checkpoint;
}

}  // namespace

Config train_config(const std::vector<std::string>& args) {
  const std::string method = method_of(args);
  Config c(train_config_schema(method));
  for (const std::string& arg : args) {
    const std::string key = arg.substr(0, arg.find('='));
    if (c.has(key)) continue;
    const std::vector<std::string> owners = methods_with_key(key, method);
    if (owners.empty()) continue;  // parse_args names it and suggests the nearest key
    std::string list;
    for (const std::string& m : owners) list += (list.empty() ? "" : ", ") + m;
    LUMEN_FAIL(key, " is not a key of method=", method, " (it belongs to ", list,
               "); choose that method, or drop the key (`lumen train method=", method,
               " --help` lists its keys)");
  }
  c.parse_args(args);
  return c;
}

std::string train_embedding_model(const Config& config, const Backbone& backbone) {
  return train_with(config, &backbone, nullptr);
}

std::string train_embedding_model(const Config& config) {
  return train_with(config, nullptr, nullptr);
}

std::string train_embedding_model(const Config& config, const ViewsEdit& edit_views) {
  return train_with(config, nullptr, &edit_views);
}

std::string train_embedding_model(const Config& config, const Backbone& backbone,
                                  const ViewsEdit& edit_views) {
  return train_with(config, &backbone, &edit_views);
}

}  // namespace lumen
