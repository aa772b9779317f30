// embed_images, knn_evaluate and the dataset embedding they share.
#include <cstdio>

#include "api/datasets.h"
#include "api/embedding.h"
#include "api/lumen.h"
#include "api/model_io.h"
#include "api/train_config.h"
#include "augment/normalize.h"
#include "engine/autograd/tape.h"
#include "engine/data/loader.h"

namespace lumen {

Config embed_config(const std::vector<std::string>& args) {
  Config c(embed_config_schema());
  c.parse_args(args);
  return c;
}

Config knn_config(const std::vector<std::string>& args) {
  Config c(knn_config_schema());
  c.parse_args(args);
  return c;
}

Embeddings embed_dataset(Module& backbone, const data::ImageDataset& dataset, int input_size,
                         Device device, DType dtype, int64_t batch_size) {
  const data::ImageDataset images = resized_dataset(dataset, input_size);
  data::LoaderOptions options;
  options.batch_size = batch_size;
  options.shuffle = false;
  options.drop_last = false;
  options.device = device;
  data::DataLoader loader(images, options);
  loader.start_epoch(0);

  const bool was_training = backbone.training();
  backbone.eval();
  NoGrad no_grad;
  std::vector<Tensor> chunks;
  data::Batch batch;
  while (loader.next(&batch)) {
    Tensor x = normalize_images(batch.images, NormalizeConfig{}, dtype);
    chunks.push_back(backbone(x).to(DType::f32).to(Device::cpu()));
  }
  backbone.train(was_training);

  Embeddings e;
  const int64_t dim = chunks.empty() ? 0 : chunks.front().size(1);
  e.values = Tensor::empty({images.size(), dim});
  int64_t row = 0;
  for (const Tensor& c : chunks) {
    e.values.rows(row, c.size(0)).copy_from(c);
    row += c.size(0);
  }
  e.labels = images.labels;
  e.filenames = images.filenames;
  return e;
}

namespace {
data::ImageDataset open_for_embedding(const Config& c, const std::string& path, int input_size,
                                      const std::string& filenames = "") {
  DatasetRequest r;
  r.path = path;
  r.filenames = filenames;
  r.image_size = input_size;
  r.on_error = data::parse_on_bad_file(c.get_string("data.on_error"));
  r.num_threads = int(std::max<int64_t>(0, c.get_int("loader.num_workers")));
  r.limit = c.get_int("data.limit");
  return open_dataset(r);
}
}  // namespace

Embeddings embed_images(const Config& c) {
  const Device device = device_from_config(c);
  ParameterBuffer params;
  EmbeddingModel model = load_embedding_model(c, params, device);
  const data::ImageDataset dataset = open_for_embedding(c, c.require("input_dir"), model.input_size,
                                                        c.get_string("data.filenames"));
  return embed_dataset(*model.backbone, dataset, model.input_size, device,
                       activation_dtype(c, device), c.get_int("loader.batch_size"));
}

KnnResult knn_evaluate(const Config& c) {
  const Device device = device_from_config(c);
  ParameterBuffer params;
  EmbeddingModel model = load_embedding_model(c, params, device);
  const int size = model.input_size;
  const data::ImageDataset train_set = open_for_embedding(c, c.require("train_dir"), size);
  const data::ImageDataset test_set = open_for_embedding(c, c.require("test_dir"), size);
  const DType dtype = activation_dtype(c, device);
  const int64_t batch = c.get_int("loader.batch_size");
  Embeddings bank = embed_dataset(*model.backbone, train_set, size, device, dtype, batch);
  Embeddings queries = embed_dataset(*model.backbone, test_set, size, device, dtype, batch);
  int64_t classes = 0;
  for (int64_t l : bank.labels) classes = std::max(classes, l + 1);
  for (int64_t l : queries.labels) classes = std::max(classes, l + 1);
  return knn_classify(bank.values, bank.labels, queries.values, queries.labels, classes,
                      c.get_int("knn.k"), c.get_float("knn.t"));
}

}  // namespace lumen
