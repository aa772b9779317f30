// The keys of `lumen train`, `lumen embed`, `lumen knn` and `lumen check`, with lightly's names
// where lightly has them and defaults from lightly's SimCLR benchmark recipe.
#pragma once

#include "api/config.h"

namespace lumen {

std::vector<ConfigKey> train_config_schema();
std::vector<ConfigKey> embed_config_schema();
std::vector<ConfigKey> knn_config_schema();
std::vector<ConfigKey> check_config_schema();

// optimizer.lr when not given: lightly's recipe scales 0.06 by batch_size / 128.
double default_learning_rate(int64_t batch_size);

}  // namespace lumen
