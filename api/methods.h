// The table of methods `lumen train method=NAME` knows: one explicit entry per method (no static
// self-registration), each with its config keys and defaults (those of lightly's CIFAR-10
// benchmark for the method, head sizes taken from the backbone's feature size), its view preset
// (lightly's transform for the method) and the function that reads its keys, once, into the
// method's typed options.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/config.h"
#include "api/view_presets.h"
#include "engine/dist/communicator.h"
#include "layers/methods/method.h"

namespace lumen {

// Builds the configured method on a backbone; comm: the job's communicator on the training device
// (gather_distributed, MoCo's batch shuffle across ranks), the single-process one for one rank.
using MethodFactory =
    std::function<std::unique_ptr<Method>(const Backbone&, std::shared_ptr<Communicator> comm)>;

// How a method trains with one optimizer when the optimizer.* and scheduler.* keys are not given:
// lightly's benchmark wiring of the method (CIFAR-10's, else ImageNet's).
struct OptimizerWiring {
  std::string optimizer = "sgd";  // sgd | lars | adam | adamw
  double lr = 0.06;               // at lr_batch images a step
  int64_t lr_batch = 128;         // lr scales with the global batch / lr_batch; 0: not scaled
  double weight_decay = 5e-4;     // not on batch norm and biases
  double no_decay_lr_scale = 1;   // lr factor of batch norm and biases (lightly's LARS groups)
  double warmup_epochs = 0;       // linear warm-up, at most a tenth of the run
  double end_value = 0.001;       // the cosine's last factor (lightly's CosineWarmupScheduler)
};

struct MethodEntry {
  std::string name;
  std::string help;
  std::vector<ConfigKey> keys;  // the method's own keys, with its defaults
  ViewPreset views;             // lightly's transform preset of the method
  // Reads the method's keys from a config of its schema into typed options.
  MethodFactory (*configure)(const Config& config);
  // The first is the default; optimizer.name=X takes X's wiring, else the first's numbers.
  std::vector<OptimizerWiring> wirings = {OptimizerWiring{}};
};

const std::vector<MethodEntry>& method_table();
// The entry by name; throws listing the known methods (and the nearest one).
const MethodEntry& find_method(const std::string& name);
// The methods (other than `except`) that have a key of this name.
std::vector<std::string> methods_with_key(const std::string& key, const std::string& except);

// The wiring of `optimizer` ("": the method's default) with its learning rate scaled to
// batch_size, the global batch (loader.batch_size times the ranks), as lightly's benchmarks scale
// the learning rate with the batch of all devices.
OptimizerWiring optimizer_wiring(const MethodEntry& method, const std::string& optimizer,
                                 int64_t batch_size);
// The wirings in words for --help ("sgd: lr 0.06 x batch/128, weight decay 5e-4").
std::string describe_wirings(const MethodEntry& method);

}  // namespace lumen
