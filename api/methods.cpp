#include "api/methods.h"

#include "layers/methods/barlow_twins.h"
#include "layers/methods/byol.h"
#include "layers/methods/dcl.h"
#include "layers/methods/dino.h"
#include "layers/methods/moco.h"
#include "layers/methods/nnclr.h"
#include "layers/methods/simclr.h"
#include "layers/methods/simsiam.h"
#include "layers/methods/swav.h"
#include "layers/methods/vicreg.h"

namespace lumen {

namespace {
using K = ConfigKind;

ConfigKey out_dim_key(int64_t value) {
  return {"model.out_dim",
          K::integer,
          std::to_string(value),
          "projection head output dimension",
          {},
          1};
}
ConfigKey hidden_dim_key(int64_t value, const char* what) {
  return {"model.hidden_dim",
          K::integer,
          std::to_string(value),
          std::string("projection head hidden dimension") + what,
          {},
          0};
}
ConfigKey temperature_key(const char* value) {
  return {"criterion.temperature", K::number, value, "temperature of the contrastive loss"};
}
ConfigKey bank_key(int64_t value, const char* help) {
  return {"criterion.memory_bank_size", K::integer, std::to_string(value), help, {}, 0};
}

ConfigKey gather_key() {
  return {"criterion.gather_distributed", K::boolean, "false",
          "data-parallel runs: the loss takes every rank's rows as negatives (lightly's "
          "gather_distributed)"};
}

ConfigKey prediction_dim_key(int64_t value) {
  return {"model.prediction_hidden_dim",      K::integer, std::to_string(value),
          "prediction head hidden dimension", {},         1};
}
std::vector<ConfigKey> momentum_keys(const char* momentum = "0.99",
                                     const char* schedule = "constant") {
  return {{"method.momentum",
           K::number,
           momentum,
           "momentum of the target network (lightly's update_momentum)",
           {},
           0},
          {"method.momentum_schedule",
           K::choice,
           schedule,
           "constant, or lightly's cosine_schedule from method.momentum to 1 over the run",
           {"constant", "cosine"}}};
}
MomentumSchedule momentum_of(const Config& c) {
  MomentumSchedule m;
  m.start = c.get_float("method.momentum");
  LUMEN_CHECK(m.start <= 1, "bad value '", m.start, "' for method.momentum: it must lie in [0, 1]");
  m.cosine = c.get_string("method.momentum_schedule") == "cosine";
  return m;
}
std::vector<ConfigKey> with(std::vector<ConfigKey> keys, const std::vector<ConfigKey>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

// SimCLR: lightly's benchmark SimCLRProjectionHead(D, D, 128), NT-Xent at 0.5.
MethodFactory configure_simclr(const Config& c) {
  SimCLROptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.loss.temperature = c.get_float("criterion.temperature");
  o.loss.memory_bank_size = c.get_int("criterion.memory_bank_size");
  o.loss.memory_bank_seed = uint64_t(c.get_int("seed"));
  o.loss.gather_distributed = c.get_bool("criterion.gather_distributed");
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<SimCLR>(b, o, std::move(comm));
  };
}

MethodFactory configure_mocov2(const Config& c) {
  MoCoOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.loss.temperature = c.get_float("criterion.temperature");
  o.loss.memory_bank_size = c.get_int("criterion.memory_bank_size");
  o.loss.memory_bank_seed = uint64_t(c.get_int("seed"));
  o.loss.gather_distributed = c.get_bool("criterion.gather_distributed");
  o.momentum = momentum_of(c);
  o.seed = uint64_t(c.get_int("seed"));
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<MoCo>(b, o, std::move(comm));
  };
}

MethodFactory configure_byol(const Config& c) {
  BYOLOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.prediction_hidden_dim = c.get_int("model.prediction_hidden_dim");
  o.momentum = momentum_of(c);
  return [o](const Backbone& b, std::shared_ptr<Communicator>) {
    return std::make_unique<BYOL>(b, o);
  };
}

MethodFactory configure_simsiam(const Config& c) {
  SimSiamOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.prediction_hidden_dim = c.get_int("model.prediction_hidden_dim");
  return [o](const Backbone& b, std::shared_ptr<Communicator>) {
    return std::make_unique<SimSiam>(b, o);
  };
}

MethodFactory configure_nnclr(const Config& c) {
  NNCLROptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.prediction_hidden_dim = c.get_int("model.prediction_hidden_dim");
  o.temperature = c.get_float("criterion.temperature");
  o.memory_bank_size = c.get_int("criterion.memory_bank_size");
  o.seed = uint64_t(c.get_int("seed"));
  o.gather_distributed = c.get_bool("criterion.gather_distributed");
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<NNCLR>(b, o, std::move(comm));
  };
}

MethodFactory configure_dcl(const Config& c) {
  DCLMethodOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.temperature = c.get_float("criterion.temperature");
  if (c.has("criterion.sigma")) o.sigma = c.get_float("criterion.sigma");
  o.gather_distributed = c.get_bool("criterion.gather_distributed");
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<DCL>(b, o, std::move(comm));
  };
}

ConfigKey redundancy_gather_key() {
  return {"criterion.gather_distributed", K::boolean, "false",
          "data-parallel runs: the loss's batch statistics over every rank's rows (lightly's "
          "gather_distributed)"};
}

// Barlow Twins: the CIFAR-10 benchmark's 2-layer head (D -> 2048 -> 2048), lambda 5e-3.
MethodFactory configure_barlowtwins(const Config& c) {
  BarlowTwinsMethodOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.loss.lambda_param = c.get_float("criterion.lambda_param");
  o.loss.gather_distributed = c.get_bool("criterion.gather_distributed");
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<BarlowTwins>(b, o, std::move(comm));
  };
}

// VICReg: lightly's example head VICRegProjectionHead(D, 2048, 2048, 2 layers), 25 / 25 / 1.
MethodFactory configure_vicreg(const Config& c) {
  VICRegMethodOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.num_layers = int(c.get_int("model.num_layers"));
  o.loss.lambda_param = c.get_float("criterion.lambda_param");
  o.loss.mu_param = c.get_float("criterion.mu_param");
  o.loss.nu_param = c.get_float("criterion.nu_param");
  o.loss.eps = c.get_float("criterion.eps");
  o.loss.gather_distributed = c.get_bool("criterion.gather_distributed");
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<VICReg>(b, o, std::move(comm));
  };
}

// SwaV: lightly's CIFAR-10 benchmark SwaVModel (head 512 -> 128, 512 prototypes), Adam; the
// optional queues of its SwaVQueue example.
std::vector<ConfigKey> swav_keys() {
  return {hidden_dim_key(512, ""),
          out_dim_key(128),
          {"model.n_prototypes", K::integer, "512", "SwaV prototypes", {}, 1},
          {"criterion.temperature", K::number, "0.1", "temperature of the prototype scores"},
          {"criterion.sinkhorn_iterations", K::integer, "3", "Sinkhorn-Knopp iterations", {}, 1},
          {"criterion.sinkhorn_epsilon", K::number, "0.05", "Sinkhorn-Knopp epsilon", {}, 0},
          {"criterion.sinkhorn_gather_distributed", K::boolean, "false",
           "data-parallel runs: the codes are computed over every rank's rows (lightly's "
           "sinkhorn_gather_distributed)"},
          {"method.queue_length",
           K::integer,
           "0",
           "rows of earlier high-resolution projections queued per high-resolution crop and added "
           "to the codes' Sinkhorn (lightly's SwaVQueue example: 3840, its benchmark 384; 0: off)",
           {},
           0},
          {"method.start_queue_at_epoch",
           K::integer,
           "0",
           "the queues take part from this epoch on (lightly's example: 2, its benchmark 15)",
           {},
           0},
          {"method.frozen_prototype_epochs",
           K::integer,
           "0",
           "the prototypes are not trained in the first epochs (lightly's SwaVQueue example: 1)",
           {},
           0}};
}

MethodFactory configure_swav(const Config& c) {
  SwaVMethodOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.n_prototypes = c.get_int("model.n_prototypes");
  // SwaVTransform's first crop category is the high-resolution one.
  o.high_resolution_crops = int64_t(c.get_numbers("collate.crop_counts").at(0));
  o.loss.temperature = c.get_float("criterion.temperature");
  o.loss.sinkhorn_iterations = int(c.get_int("criterion.sinkhorn_iterations"));
  o.loss.sinkhorn_epsilon = c.get_float("criterion.sinkhorn_epsilon");
  o.loss.sinkhorn_gather_distributed = c.get_bool("criterion.sinkhorn_gather_distributed");
  o.queue_length = c.get_int("method.queue_length");
  o.start_queue_at_epoch = c.get_int("method.start_queue_at_epoch");
  o.frozen_prototype_epochs = c.get_int("method.frozen_prototype_epochs");
  o.seed = uint64_t(c.get_int("seed"));
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<SwaV>(b, o, std::move(comm));
  };
}

OptimizerWiring swav_adam() {  // lightly's benchmark: Adam(lr=1e-3 * batch / 128, wd 1e-6)
  OptimizerWiring w;
  w.optimizer = "adam";
  w.lr = 1e-3;
  w.weight_decay = 1e-6;
  return w;
}

// DINO: lightly's CIFAR-10 benchmark DINOModel (two-layer head with batch norm, 2048 -> 256 ->
// 2048), the teacher's momentum as lightly's DINO example, SGD.
std::vector<ConfigKey> dino_keys() {
  return with({hidden_dim_key(2048, ""),
               {"model.bottleneck_dim", K::integer, "256", "DINO head bottleneck dimension", {}, 1},
               {"model.out_dim", K::integer, "2048", "DINO head output dimension", {}, 1},
               {"model.freeze_last_layer",
                K::integer,
                "-1",
                "the head's last layer is not trained in the epochs below this (-1: never)",
                {},
                -1},
               {"criterion.warmup_teacher_temp",
                K::number,
                "0.04",
                "teacher temperature at epoch 0",
                {},
                0},
               {"criterion.teacher_temp",
                K::number,
                "0.04",
                "teacher temperature after the warm-up",
                {},
                0},
               {"criterion.warmup_teacher_temp_epochs",
                K::integer,
                "30",
                "epochs of the teacher temperature's linear warm-up",
                {},
                0},
               {"criterion.student_temp", K::number, "0.1", "student temperature", {}, 0},
               {"criterion.center_momentum",
                K::number,
                "0.9",
                "momentum of the teacher outputs' centre",
                {},
                0}},
              momentum_keys("0.996", "cosine"));
}

MethodFactory configure_dino(const Config& c) {
  DINOMethodOptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.bottleneck_dim = c.get_int("model.bottleneck_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.freeze_last_layer = c.get_int("model.freeze_last_layer");
  o.loss.warmup_teacher_temp = c.get_float("criterion.warmup_teacher_temp");
  o.loss.teacher_temp = c.get_float("criterion.teacher_temp");
  o.loss.warmup_teacher_temp_epochs = c.get_int("criterion.warmup_teacher_temp_epochs");
  o.loss.student_temp = c.get_float("criterion.student_temp");
  o.loss.center_momentum = c.get_float("criterion.center_momentum");
  o.momentum = momentum_of(c);
  return [o](const Backbone& b, std::shared_ptr<Communicator> comm) {
    return std::make_unique<DINO>(b, o, std::move(comm));
  };
}

std::vector<MethodEntry> make_table() {
  OptimizerWiring unscaled_sgd;  // lightly's SimSiam benchmark: 0.06 whatever the batch
  unscaled_sgd.lr_batch = 0;
  const ConfigKey feature_hidden = hidden_dim_key(0, " (0: the backbone's feature size)");
  return {
      {"simclr",
       "SimCLR: NT-Xent between two views (lightly's SimCLR)",
       {feature_hidden, out_dim_key(128), temperature_key("0.5"),
        bank_key(0, "negatives kept in a memory bank (0: off)"), gather_key()},
       ViewPreset::simclr,
       configure_simclr},
      {"mocov2", "MoCo v2: queries against momentum-encoder keys and a memory bank of keys",
       with({feature_hidden,
             out_dim_key(128),
             temperature_key("0.1"),
             bank_key(4096, "keys kept in the memory bank of negatives"),
             {"criterion.gather_distributed", K::boolean, "false",
              "data-parallel runs: the memory bank takes every rank's keys (lightly's "
              "gather_distributed)"}},
            momentum_keys()),
       ViewPreset::moco_v2, configure_mocov2},
      {"byol", "BYOL: online predictions of a momentum target's projections",
       with({hidden_dim_key(1024, ""), out_dim_key(256), prediction_dim_key(1024)},
            momentum_keys()),
       ViewPreset::byol, configure_byol},
      {"simsiam",
       "SimSiam: predictions of the other view's projection, with stop-gradient",
       {hidden_dim_key(2048, ""), out_dim_key(2048), prediction_dim_key(512)},
       ViewPreset::simsiam,
       configure_simsiam,
       {unscaled_sgd}},
      {"nnclr",
       "NNCLR: NT-Xent between nearest neighbours from a support set and predictions",
       {hidden_dim_key(2048, ""), out_dim_key(256), prediction_dim_key(4096),
        temperature_key("0.5"), bank_key(4096, "projections kept in the support set"),
        gather_key()},
       ViewPreset::simclr,
       configure_nnclr},
      {"dcl",
       "DCL: the decoupled contrastive loss on SimCLR's network",
       {feature_hidden, out_dim_key(128), temperature_key("0.1"), gather_key()},
       ViewPreset::simclr,
       configure_dcl},
      {"dclw",
       "DCLW: the weighted decoupled contrastive loss on SimCLR's network",
       {feature_hidden,
        out_dim_key(128),
        temperature_key("0.1"),
        {"criterion.sigma", K::number, "0.5", "width of DCLW's von Mises-Fisher weights"},
        gather_key()},
       ViewPreset::simclr,
       configure_dcl},
      {"barlowtwins",
       "Barlow Twins: the cross-correlation of the two views' normalised projections driven to "
       "the identity. The default optimizer is lightly's CIFAR-10 wiring (SGD 0.06), which "
       "learns slowly on short recipes; for short or small runs take its ImageNet wiring with "
       "optimizer.name=lars (LARS 0.2, 0.0048 for batch norm and biases, warm-up)",
       {hidden_dim_key(2048, ""),
        out_dim_key(2048),
        {"criterion.lambda_param", K::number, "5e-3",
         "weight of the off-diagonal (redundancy) terms"},
        redundancy_gather_key()},
       ViewPreset::byol,
       configure_barlowtwins,
       // lightly's CIFAR-10 benchmark (SGD), then its ImageNet benchmark (LARS, batch norm and
       // biases at 0.0048 x batch/256 without weight decay, 10 warm-up epochs)
       {OptimizerWiring{}, OptimizerWiring{"lars", 0.2, 256, 1.5e-6, 0.024, 10, 0.001}}},
      {"vicreg",
       "VICReg: invariance, variance and covariance terms of the two views' projections, trained "
       "as lightly's ImageNet benchmark (LARS 0.2, warm-up, cosine to 0.01; SGD at 0.06 diverges "
       "within a few epochs on small recipes)",
       {hidden_dim_key(2048, ""),
        out_dim_key(2048),
        {"model.num_layers", K::integer, "2", "linear layers of the projection head", {}, 2},
        {"criterion.lambda_param", K::number, "25", "weight of the invariance term"},
        {"criterion.mu_param", K::number, "25", "weight of the variance term"},
        {"criterion.nu_param", K::number, "1", "weight of the covariance term"},
        {"criterion.eps", K::number, "1e-4", "inside the square root of the variance", {}, 0},
        redundancy_gather_key()},
       ViewPreset::vicreg,
       configure_vicreg,
       // lightly's ImageNet benchmark: LARS 0.2 x batch/256, weight decay 1e-6 (none, and no LARS
       // adaptation, on batch norm and biases), 10 warm-up epochs, cosine down to 0.01
       {OptimizerWiring{"lars", 0.2, 256, 1e-6, 1, 10, 0.01}}},
      {"swav",
       "SwaV: swapped predictions of Sinkhorn codes over prototypes, multi-crop",
       swav_keys(),
       ViewPreset::swav,
       configure_swav,
       {swav_adam()}},
      {"dino", "DINO: a student matching a momentum teacher's centred outputs, multi-crop",
       dino_keys(), ViewPreset::dino, configure_dino},
  };
}

}  // namespace

const std::vector<MethodEntry>& method_table() {
  static const std::vector<MethodEntry> table = make_table();
  return table;
}

const MethodEntry& find_method(const std::string& name) {
  std::vector<std::string> names;
  for (const MethodEntry& m : method_table()) {
    if (m.name == name) return m;
    names.push_back(m.name);
  }
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  const std::string guess = nearest_name(name, names);
  LUMEN_FAIL("unknown method '", name, "': use one of ", list,
             guess.empty() ? std::string("") : " (did you mean '" + guess + "'?)");
}

std::vector<std::string> methods_with_key(const std::string& key, const std::string& except) {
  std::vector<std::string> out;
  for (const MethodEntry& m : method_table()) {
    if (m.name == except) continue;
    for (const ConfigKey& k : m.keys) {
      if (k.name == key) {
        out.push_back(m.name);
        break;
      }
    }
  }
  return out;
}

OptimizerWiring optimizer_wiring(const MethodEntry& method, const std::string& optimizer,
                                 int64_t batch_size) {
  OptimizerWiring w = method.wirings.at(0);
  for (const OptimizerWiring& candidate : method.wirings) {
    if (candidate.optimizer == optimizer) w = candidate;
  }
  if (!optimizer.empty()) w.optimizer = optimizer;
  if (w.lr_batch > 0) w.lr *= double(batch_size) / double(w.lr_batch);
  return w;
}

std::string describe_wirings(const MethodEntry& method) {
  std::string out;
  for (const OptimizerWiring& w : method.wirings) {
    out += (out.empty() ? "" : "; ") + w.optimizer + ": lr " + shortest_text(w.lr) +
           (w.lr_batch > 0 ? " x batch/" + std::to_string(w.lr_batch) : "") + ", weight decay " +
           shortest_text(w.weight_decay);
    if (w.no_decay_lr_scale != 1) {
      out += ", lr x " + shortest_text(w.no_decay_lr_scale) + " on batch norm and biases";
    }
    if (w.warmup_epochs > 0) out += ", " + shortest_text(w.warmup_epochs) + " warm-up epochs";
    if (w.end_value != 0.001) out += ", cosine to " + shortest_text(w.end_value);
  }
  return out;
}

}  // namespace lumen
