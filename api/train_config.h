// The keys of `lumen train`, `lumen embed`, `lumen knn` and `lumen check`, with lightly's names
// where lightly has them. `lumen train`'s keys depend on the method: the common keys, the method's
// own keys (with its defaults, from api/methods.h) and the collate keys of its view preset.
#pragma once

#include "api/config.h"
#include "api/view_presets.h"  // the collate keys of the view presets

namespace lumen {

// The schema of `lumen train method=<method>` (throws for an unknown method, listing them).
std::vector<ConfigKey> train_config_schema(const std::string& method = "simclr");
// The method= of `lumen train` arguments (the last one wins, as for every key); "simclr" without.
std::string method_of(const std::vector<std::string>& args);
std::vector<ConfigKey> embed_config_schema();
std::vector<ConfigKey> knn_config_schema();
std::vector<ConfigKey> check_config_schema();

}  // namespace lumen
