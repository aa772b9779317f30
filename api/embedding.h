// Embedding a dataset with a backbone (api/ internals shared by embed, knn and kNN monitoring).
#pragma once

#include "engine/data/dataset.h"
#include "engine/io/embeddings_csv.h"
#include "layers/module.h"

namespace lumen {

// Features of every image: images resized to input_size (shorter side, centre crop) if needed,
// normalised with ImageNet statistics, run through `backbone` in eval mode without recording,
// in batches of batch_size on `device` in `dtype`. Returns (N, D) f32 on the CPU.
Embeddings embed_dataset(Module& backbone, const data::ImageDataset& dataset, int input_size,
                         Device device, DType dtype, int64_t batch_size);

}  // namespace lumen
