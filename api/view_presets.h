// The view presets of the method table: lightly's transform for each family of methods, the
// `collate.*` keys that configure it (lightly's argument names, the preset's defaults) and the
// reading of those keys into views. `lumen train method=M` takes its collate keys from M's preset
// (MethodEntry::views), so `--help` lists them.
//
//   two-view presets (SimCLRTransform, MoCoV2Transform, SimSiamTransform, BYOLTransform,
//   VICRegTransform):
//     collate.input_size          size of both views
//     collate.KEY                 KEY (cj_prob, min_scale, gaussian_blur, ...) on every view
//   DINOTransform:
//     collate.global_crop_size, global_crop_scale, local_crop_size, local_crop_scale,
//     n_local_views               the views: 2 global, n_local_views local
//     collate.gaussian_blur       (global view 1, global view 2, local views) blur probabilities
//     collate.solarization_prob   of global view 2
//     collate.KEY                 every other field on every view (hf_prob, cj_strength, ...)
//   SwaVTransform:
//     collate.crop_sizes, crop_counts, crop_min_scales, crop_max_scales
//                                 one entry per crop category: crop_counts[i] views of
//                                 crop_sizes[i] with scale (crop_min_scales[i], crop_max_scales[i])
//     collate.KEY                 every other field on every view (gaussian_blur, hf_prob, ...)
//   every preset:
//     collate.view_N.KEY          KEY on view N only (N from 1 to the number of views the preset
//                                 makes with its defaults), over the keys above
#pragma once

#include <string>
#include <vector>

#include "api/config.h"
#include "augment/transform.h"

namespace lumen {

enum class ViewPreset { simclr, moco_v2, simsiam, byol, vicreg, dino, swav };

// lightly's class of the preset ("SimCLRTransform", "DINOTransform", ...).
const char* preset_class_name(ViewPreset preset);
// The preset's views with its defaults (the two-view presets at 224).
TransformConfig preset_views(ViewPreset preset);

// The collate keys of a preset, with its defaults.
std::vector<ConfigKey> collate_keys(ViewPreset preset);
// The views the collate keys of `config` (a config of collate_keys(preset)) describe; throws
// naming a bad value.
TransformConfig views_from_config(const Config& config, ViewPreset preset);
// The image size a backbone trained on these views embeds at (embed, knn, kNN monitoring): the
// largest view (the two-view presets' input_size, DINO's global crops, SwaV's high-resolution
// crops).
int embedding_size(const TransformConfig& views);
// What `lumen train --help` says about the per-view keys of the preset.
std::string per_view_keys_help(ViewPreset preset);

// The keys of the two-view presets, on given views: `collate.input_size` (every view's size),
// `collate.KEY` on every view, `collate.view_N.KEY` (N from 1) on view N only; defaults are the
// views' (per view where they differ).
std::vector<ConfigKey> collate_keys(const TransformConfig& views);
TransformConfig views_from_config(const Config& config, const TransformConfig& views);

}  // namespace lumen
