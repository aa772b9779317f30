// Embedding a dataset (api/ internals shared by embed, knn and kNN monitoring).
#pragma once

#include "api/embedder.h"
#include "engine/data/dataset.h"
#include "engine/io/embeddings_csv.h"

namespace lumen {

// Features of every image, in dataset order, in the embedder's batches: (N, D) f32 on the CPU,
// with the dataset's labels and filenames.
Embeddings embed_dataset(const Embedder& embedder, const data::ImageDataset& dataset);

}  // namespace lumen
