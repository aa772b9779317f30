#include "api/train_config.h"

#include <algorithm>

namespace lumen {

namespace {
using K = ConfigKind;

std::vector<ConfigKey> common_keys() {
  return {
      {"input_dir", K::text, "", "image folder (subfolders = classes) or a dataset file"},
      {"seed", K::integer, "1", "random seed (data order, augmentations, initialisation)", {}, 0},
      {"device", K::choice, "auto", "where to run", {"auto", "cpu", "cuda"}},
      {"model.name",
       K::choice,
       "resnet-18",
       "backbone",
       {"resnet-9", "resnet-18", "resnet-34", "resnet-50", "torchvision/resnet18",
        "torchvision/resnet34", "torchvision/resnet50", "torchvision/resnet101"}},
      {"model.width", K::number, "1", "width multiplier of the small-image ResNets", {}, 0},
      {"loader.batch_size", K::integer, "256", "images per step", {}, 1},
      {"loader.num_workers", K::integer, "-1", "decode threads (-1: one per core)", {}, -1},
      {"data.on_error", K::choice, "error", "what to do with unreadable images", {"error", "skip"}},
      {"data.limit", K::integer, "0", "use only the first N images (0: all)", {}, 0},
      {"data.filenames", K::text, "",
       "text file naming the images of input_dir to use, one path relative to it a line (default: "
       "all; the folder is then not listed)"},
  };
}
}  // namespace

double default_learning_rate(int64_t batch_size) { return 0.06 * double(batch_size) / 128.0; }

std::vector<ConfigKey> train_config_schema() {
  std::vector<ConfigKey> keys = common_keys();
  std::vector<ConfigKey> more = {
      {"method", K::choice, "simclr", "self-supervised method", {"simclr"}},
      {"output_dir", K::text, "lumen_out", "where checkpoints, metrics and caches go"},
      {"checkpoint", K::text, "", "start from these weights (Lumen checkpoint or torchvision)"},
      {"resume", K::boolean, "false", "continue the run in output_dir from its last checkpoint"},
      {"model.out_dim", K::integer, "128", "projection head output dimension", {}, 1},
      {"criterion.temperature", K::number, "0.5", "NT-Xent temperature"},
      {"criterion.memory_bank_size",
       K::integer,
       "0",
       "negatives kept in a memory bank (0: off)",
       {},
       0},
      {"optimizer.name", K::choice, "sgd", "optimizer", {"sgd", "lars", "adamw"}},
      {"optimizer.lr",
       K::number,
       "",
       "learning rate used as given (default 0.06 * batch/128)",
       {},
       0},
      {"optimizer.momentum", K::number, "0.9", "SGD / LARS momentum", {}, 0},
      {"optimizer.weight_decay", K::number, "5e-4", "weight decay (not on BN and biases)", {}, 0},
      {"scheduler.name", K::choice, "cosine", "learning-rate schedule", {"cosine", "none"}},
      {"scheduler.warmup_epochs", K::number, "0", "linear warm-up epochs", {}, 0},
      {"trainer.max_epochs", K::integer, "100", "epochs to train", {}, 1},
      {"trainer.max_steps",
       K::integer,
       "-1",
       "stop after this many steps in all, resumable (-1: no limit; the schedule spans max_epochs)",
       {},
       -1},
      {"trainer.precision",
       K::choice,
       "auto",
       "arithmetic: bf16 on GPU, 32 on CPU by default (no fp16: it needs loss scaling)",
       {"auto", "32", "32-true", "bf16", "bf16-mixed"}},
      {"trainer.checkpoint_every", K::integer, "10", "write a checkpoint every N epochs", {}, 0},
      {"trainer.knn_every",
       K::integer,
       "0",
       "kNN accuracy on val_dir every N epochs (0: off)",
       {},
       0},
      {"trainer.cuda_graph", K::boolean, "true",
       "on a GPU, replay forward and backward as a CUDA graph after the warm-up steps"},
      {"trainer.graph_warmup",
       K::integer,
       "3",
       "eager steps before the CUDA graph is captured",
       {},
       1},
      {"val_dir", K::text, "", "labelled folder for kNN monitoring"},
      {"collate.input_size", K::integer, "224", "size of the views", {}, 1},
      {"collate.cj_prob", K::number, "0.8", "probability of colour jitter"},
      {"collate.cj_strength", K::number, "1.0", "scales all colour jitter strengths"},
      {"collate.cj_bright", K::number, "0.8", "brightness jitter"},
      {"collate.cj_contrast", K::number, "0.8", "contrast jitter"},
      {"collate.cj_sat", K::number, "0.8", "saturation jitter"},
      {"collate.cj_hue", K::number, "0.2", "hue jitter"},
      {"collate.min_scale", K::number, "0.08", "smallest crop area fraction"},
      {"collate.random_gray_scale", K::number, "0.2", "probability of grayscale"},
      {"collate.gaussian_blur", K::number, "0.5", "probability of Gaussian blur"},
      {"collate.sigmas", K::number_pair, "(0.1,2)", "range of the blur sigma"},
      {"collate.vf_prob", K::number, "0", "probability of a vertical flip"},
      {"collate.hf_prob", K::number, "0.5", "probability of a horizontal flip"},
      {"collate.rr_prob", K::number, "0", "probability of a rotation"},
      {"collate.rr_degrees", K::number_pair, "",
       "rotation angle range; unset: 90-degree rotations (random angles are not supported yet)"},
      {"collate.kernel_size", K::number, "", "deprecated in lightly and ignored there too"},
      {"collate.normalize", K::boolean, "true", "normalise with ImageNet mean and std"},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::vector<ConfigKey> embed_config_schema() {
  std::vector<ConfigKey> keys = common_keys();
  std::vector<ConfigKey> more = {
      {"checkpoint", K::text, "", "Lumen checkpoint, or torchvision ResNet weights (safetensors)"},
      {"output", K::text, "embeddings.csv", "CSV file to write (lightly's format)"},
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
      {"train_dir", K::text, "", "labelled images whose embeddings vote"},
      {"test_dir", K::text, "", "labelled images to classify"},
      {"knn.k", K::integer, "200", "neighbours that vote", {}, 1},
      {"knn.t", K::number, "0.1", "temperature of the vote weights"},
  };
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

std::vector<ConfigKey> check_config_schema() {
  return {{"input_dir", K::text, "", "image folder to check"},
          {"loader.num_workers", K::integer, "-1", "decode threads (-1: one per core)", {}, -1}};
}

}  // namespace lumen
