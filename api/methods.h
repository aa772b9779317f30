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

struct MethodEntry {
  std::string name;
  std::string help;
  std::vector<ConfigKey> keys;       // the method's own keys, with its defaults
  ViewPreset views;                  // lightly's transform preset of the method
  bool lr_scales_with_batch = true;  // default lr: 0.06 * batch / 128, else 0.06
  // Reads the method's keys from a config of its schema into typed options.
  MethodFactory (*configure)(const Config& config);
};

const std::vector<MethodEntry>& method_table();
// The entry by name; throws listing the known methods (and the nearest one).
const MethodEntry& find_method(const std::string& name);
// The methods (other than `except`) that have a key of this name.
std::vector<std::string> methods_with_key(const std::string& key, const std::string& except);

// optimizer.lr when not given: 0.06 scaled by batch_size / 128 where the method scales it;
// batch_size is the global batch (loader.batch_size times the ranks), as lightly's benchmarks
// scale the learning rate with the batch of all devices.
double default_learning_rate(const MethodEntry& method, int64_t batch_size);

}  // namespace lumen
