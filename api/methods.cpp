#include "api/methods.h"

#include "layers/methods/simclr.h"

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

// SimCLR: lightly's benchmark SimCLRProjectionHead(D, D, 128), NT-Xent at 0.5.
MethodFactory configure_simclr(const Config& c) {
  SimCLROptions o;
  o.hidden_dim = c.get_int("model.hidden_dim");
  o.out_dim = c.get_int("model.out_dim");
  o.loss.temperature = c.get_float("criterion.temperature");
  o.loss.memory_bank_size = c.get_int("criterion.memory_bank_size");
  o.loss.memory_bank_seed = uint64_t(c.get_int("seed"));
  return [o](const Backbone& b) { return std::make_unique<SimCLR>(b, o); };
}

std::vector<MethodEntry> make_table() {
  return {
      {"simclr",
       "SimCLR: NT-Xent between two views (lightly's SimCLR)",
       {hidden_dim_key(0, " (0: the backbone's feature size)"), out_dim_key(128),
        temperature_key("0.5"), bank_key(0, "negatives kept in a memory bank (0: off)")},
       simclr_transform,
       true,
       configure_simclr},
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

double default_learning_rate(const MethodEntry& method, int64_t batch_size) {
  return method.lr_scales_with_batch ? 0.06 * double(batch_size) / 128.0 : 0.06;
}

}  // namespace lumen
