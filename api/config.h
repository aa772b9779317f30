// lightly-style `key=value` configuration: a schema of known keys (kind, default, help), values
// set from the command line or code, and errors that name the key and suggest the nearest one.
//
//   Config cfg(train_config_schema());
//   cfg.parse_args({"input_dir=data", "loader.batch_size=256"});
//   cfg.get_int("loader.batch_size")  // 256
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace lumen {

// path: a file or folder; an explicitly empty value is an error, and checkpoints record the
// canonical absolute path, so that "data/", "./data" and "/abs/data" compare equal on resume.
// number_list: one or more numbers, "(224, 96)" or "224,96" (lightly's tuple arguments).
enum class ConfigKind { integer, number, boolean, text, choice, number_pair, number_list, path };

struct ConfigKey {
  std::string name;  // "optimizer.lr"
  ConfigKind kind;
  std::string default_value;  // "" means unset / required where the command needs it
  std::string help;
  std::vector<std::string> choices = {};  // for ConfigKind::choice
  double minimum = -HUGE_VAL;             // smallest value of an integer or number key
  // A resumed run may give this key another value (where and how fast it runs, how long, what it
  // records); every other key must keep the interrupted run's value. See resumable().
  bool resume_may_change = false;
  bool in_help = true;  // false: a family of keys that --help describes in one line
};

// The key, marked as one a resume may change.
ConfigKey resumable(ConfigKey key);

class Config {
 public:
  Config() = default;
  explicit Config(std::vector<ConfigKey> schema);

  // Sets one key after checking the key exists and the value parses; throws lumen::Error
  // ("unknown key 'optimzer.lr'; did you mean 'optimizer.lr'?").
  void set(const std::string& key, const std::string& value);
  // Parses "key=value" arguments in order (later ones win).
  void parse_args(const std::vector<std::string>& args);

  bool has(const std::string& key) const;     // known to the schema
  bool is_set(const std::string& key) const;  // given explicitly (not a default)
  const std::string& raw(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::pair<double, double> get_pair(const std::string& key) const;  // "(0.1, 2)" or "0.1,2"
  std::vector<double> get_numbers(const std::string& key) const;     // "(224, 96)" or "224,96"
  // The value, or throws saying the key is required and what it is for.
  std::string require(const std::string& key) const;

  // "key=value" lines of every key (explicit and default), for checkpoints and logs; path keys as
  // canonical absolute paths.
  std::string serialize() const;
  // A table of every key with its default and help, for `--help`.
  std::string help() const;
  const std::vector<ConfigKey>& schema() const { return schema_; }
  // The keys a resumed run may change (ConfigKey::resume_may_change).
  std::set<std::string> resume_may_change() const;

 private:
  const ConfigKey& key_of(const std::string& name) const;
  std::vector<ConfigKey> schema_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> values_;  // explicit values
};

// The closest name among `candidates` by edit distance, or "" when nothing is close.
std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates);

// The shortest decimal text that reads back as v ("0.0075", not "0.0074999999999999997"): how a
// derived number is written into a config.
std::string shortest_text(double v);

}  // namespace lumen
