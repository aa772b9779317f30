// Lumen's view settings against the rows of lightly's transform objects that the augmentation
// fixture scripts write (tools/fixtures/augment_multicrop.py's view_row: one row per view, the
// fields named in the file's "fields" metadata; -1 where lightly's view has no such op).
// test_augment_multicrop and test_augment_vicreg share it.
#pragma once

#include <string>

#include "augment/transform.h"
#include "engine/io/safetensors.h"

namespace lumen::testing {

// Every view of `t` has the settings of the fixture's row `key` for it:
//   f.tensors[key]: (views, fields) f64
void check_settings(const TransformConfig& t, const SafetensorsFile& f, const std::string& key);

}  // namespace lumen::testing
