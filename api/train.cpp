// train_config and train_embedding_model: the config becomes typed options, the options a
// self-supervised task, and the generic trainer runs it.
#include "api/lumen.h"
#include "api/methods.h"
#include "api/ssl_task.h"
#include "api/train_config.h"

namespace lumen {

namespace {

std::string train_with(const Config& config, const Backbone* backbone) {
  const TrainOptions options = read_train_options(config, backbone);
  // A resume that would be refused is refused before anything is built (the image cache of the
  // interrupted run stays as it is).
  if (options.trainer.resume) load_resume_checkpoint(options.trainer);
  SelfSupervisedTask task(options);
  return train(task, options.trainer).checkpoint;
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
  return train_with(config, &backbone);
}

std::string train_embedding_model(const Config& config) { return train_with(config, nullptr); }

}  // namespace lumen
