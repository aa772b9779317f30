// The keys of `lumen train`, `lumen embed`, `lumen knn` and `lumen check`, with lightly's names
// where lightly has them. `lumen train`'s keys depend on the method: the common keys, the method's
// own keys (with its defaults, from api/methods.h) and the collate keys of its view preset.
#pragma once

#include "api/config.h"
#include "augment/transform.h"

namespace lumen {

// The schema of `lumen train method=<method>` (throws for an unknown method, listing them).
std::vector<ConfigKey> train_config_schema(const std::string& method = "simclr");
// The method= of `lumen train` arguments (the last one wins, as for every key); "simclr" without.
std::string method_of(const std::vector<std::string>& args);
std::vector<ConfigKey> embed_config_schema();
std::vector<ConfigKey> knn_config_schema();
std::vector<ConfigKey> check_config_schema();

// The collate keys of a view preset: `collate.KEY` sets KEY on every view, `collate.view_N.KEY`
// (N from 1) on view N only; defaults are the preset's (per view where the views differ).
std::vector<ConfigKey> collate_keys(const TransformConfig& preset);
// The views the collate keys of `config` describe, starting from `preset`; throws naming a bad
// value.
TransformConfig views_from_config(const Config& config, const TransformConfig& preset);

}  // namespace lumen
