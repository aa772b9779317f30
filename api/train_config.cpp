#include "api/train_config.h"

#include <algorithm>

#include "api/methods.h"

namespace lumen {

namespace {
using K = ConfigKind;

std::vector<ConfigKey> data_keys() {
  return {
      {"input_dir", K::path, "", "image folder (subfolders = classes) or a dataset file"},
      {"seed", K::integer, "1", "random seed (data order, augmentations, initialisation)", {}, 0},
      resumable({"device", K::choice, "auto", "where to run", {"auto", "cpu", "cuda"}}),
      {"model.name",
       K::choice,
       "resnet-18",
       "backbone",
       {"resnet-9", "resnet-18", "resnet-34", "resnet-50", "torchvision/resnet18",
        "torchvision/resnet34", "torchvision/resnet50", "torchvision/resnet101"}},
      {"model.width", K::number, "1", "width multiplier of the small-image ResNets", {}, 0},
      {"loader.batch_size", K::integer, "256", "images per step", {}, 1},
      resumable(
          {"loader.num_workers", K::integer, "-1", "decode threads (-1: one per core)", {}, -1}),
      {"data.on_error", K::choice, "error", "what to do with unreadable images", {"error", "skip"}},
      {"data.limit", K::integer, "0", "use only the first N images (0: all)", {}, 0},
      {"data.filenames", K::text, "",
       "text file naming the images of input_dir to use, one path relative to it a line (default: "
       "all; the folder is then not listed)"},
  };
}

}  // namespace

std::vector<ConfigKey> train_config_schema(const std::string& method_name) {
  const MethodEntry& method = find_method(method_name);
  std::vector<std::string> names;
  for (const MethodEntry& m : method_table()) names.push_back(m.name);
  std::vector<ConfigKey> keys = {{"method", K::choice, "simclr", "self-supervised method", names}};
  for (const ConfigKey& k : data_keys()) keys.push_back(k);
  std::vector<ConfigKey> more = {
      resumable({"output_dir", K::path, "lumen_out", "where checkpoints, metrics and caches go"}),
      resumable({"checkpoint", K::path, "",
                 "start from these weights (Lumen checkpoint or torchvision)"}),
      resumable({"resume", K::boolean, "false",
                 "continue the run in output_dir from its last checkpoint"}),
      resumable({"overwrite", K::boolean, "false",
                 "a new run deletes an earlier run's checkpoints and metrics in output_dir"}),
      {"optimizer.name",
       K::choice,
       method.wirings.at(0).optimizer,
       "optimizer; the method's wirings (lightly's benchmarks) when optimizer.lr and the like are "
       "not given: " +
           describe_wirings(method),
       {"sgd", "lars", "adam", "adamw"}},
      {"optimizer.lr",
       K::number,
       "",
       "learning rate used as given (default: the wiring's, scaled with the global batch)",
       {},
       0},
      {"optimizer.momentum", K::number, "0.9", "SGD / LARS momentum", {}, 0},
      {"optimizer.weight_decay",
       K::number,
       "",
       "weight decay, not on batch norm and biases (default: the wiring's)",
       {},
       0},
      {"scheduler.name", K::choice, "cosine", "learning-rate schedule", {"cosine", "none"}},
      {"scheduler.warmup_epochs",
       K::number,
       "",
       "linear warm-up epochs (default: the wiring's, at most a tenth of trainer.max_epochs)",
       {},
       0},
      {"scheduler.end_value",
       K::number,
       "",
       "the cosine's last factor of the learning rate (default: the wiring's)",
       {},
       0},
      resumable({"trainer.max_epochs", K::integer, "100", "epochs to train", {}, 1}),
      resumable({"trainer.max_steps",
                 K::integer,
                 "-1",
                 "stop after this many steps in all, resumable (-1: no limit; the schedule spans "
                 "max_epochs)",
                 {},
                 -1}),
      {"trainer.precision",
       K::choice,
       "auto",
       "arithmetic: bf16 on GPU, 32 on CPU by default (no fp16: it needs loss scaling)",
       {"auto", "32", "32-true", "bf16", "bf16-mixed"}},
      resumable({"trainer.checkpoint_every",
                 K::integer,
                 "10",
                 "write a checkpoint every N epochs",
                 {},
                 0}),
      resumable({"trainer.knn_every",
                 K::integer,
                 "0",
                 "kNN accuracy on val_dir every N epochs (0: off)",
                 {},
                 0}),
      resumable({"trainer.cuda_graph", K::boolean, "true",
                 "on a GPU, replay forward and backward as a CUDA graph after the warm-up "
                 "steps"}),
      resumable({"trainer.graph_warmup",
                 K::integer,
                 "3",
                 "eager steps before the CUDA graph is captured",
                 {},
                 1}),
      resumable({"val_dir", K::path, "", "labelled folder for kNN monitoring"}),
      resumable({"trainer.bucket_mb",
                 K::number,
                 "25",
                 "data-parallel runs: megabytes of gradients per all-reduce bucket, each started "
                 "once backward has finished it (PyTorch DDP's bucket_cap_mb)",
                 {},
                 0}),
      {"trainer.sync_batchnorm", K::boolean, "false",
       "data-parallel runs: batch-norm statistics over every rank's batch (torch's SyncBatchNorm, "
       "Lightning's sync_batchnorm)"},
      resumable({"trainer.dist_timeout",
                 K::number,
                 "600",
                 "data-parallel runs: seconds a collective may wait for the other ranks, and (up "
                 "to 60) a rank may stay silent, before the job ends with an error naming it",
                 {},
                 0}),
  };
  keys.insert(keys.end(), more.begin(), more.end());
  for (const ConfigKey& k : method.keys) keys.push_back(k);
  for (const ConfigKey& k : collate_keys(method.views)) keys.push_back(k);
  return keys;
}

std::string method_of(const std::vector<std::string>& args) {
  std::string method = "simclr";
  for (const std::string& a : args) {
    if (a.rfind("method=", 0) == 0) method = a.substr(7);
  }
  return method;
}

std::vector<ConfigKey> embed_config_schema() {
  std::vector<ConfigKey> keys = data_keys();
  std::vector<ConfigKey> more = {
      {"checkpoint", K::path, "", "Lumen checkpoint, or torchvision ResNet weights (safetensors)"},
      {"trainer.precision",
       K::choice,
       "auto",
       "arithmetic of the forward pass: bf16 on GPU, 32 on CPU by default",
       {"auto", "32", "32-true", "bf16", "bf16-mixed"}},
      {"output", K::path, "embeddings.csv", "CSV file to write (lightly's format)"},
      {"collate.input_size",
       K::integer,
       "224",
       "images are resized and centre-cropped to this",
       {},
       1},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::vector<ConfigKey> knn_config_schema() {
  std::vector<ConfigKey> keys = embed_config_schema();
  keys.erase(std::remove_if(keys.begin(), keys.end(),
                            [](const ConfigKey& k) {
                              return k.name == "input_dir" || k.name == "output" ||
                                     k.name == "data.filenames";  // names files of input_dir only
                            }),
             keys.end());
  std::vector<ConfigKey> more = {
      {"train_dir", K::path, "", "labelled images whose embeddings vote"},
      {"test_dir", K::path, "", "labelled images to classify"},
      {"knn.k", K::integer, "200", "neighbours that vote", {}, 1},
      {"knn.t", K::number, "0.1", "temperature of the vote weights"},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::vector<ConfigKey> check_config_schema() {
  return {{"input_dir", K::path, "", "image folder to check"},
          {"loader.num_workers", K::integer, "-1", "decode threads (-1: one per core)", {}, -1}};
}

}  // namespace lumen
