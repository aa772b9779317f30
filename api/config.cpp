#include "api/config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "kernels/common.h"

namespace lumen {

namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_integer(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno || end != s.c_str() + s.size()) return false;
  out = v;
  return true;
}

bool parse_number(const std::string& s, double& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool parse_boolean(const std::string& s, bool& out) {
  const std::string v = lower(s);
  if (v == "true" || v == "1" || v == "yes" || v == "on") return out = true, true;
  if (v == "false" || v == "0" || v == "no" || v == "off") return out = false, true;
  return false;
}

bool parse_pair(const std::string& s, std::pair<double, double>& out) {
  std::string t;
  for (char c : s) {
    if (c != '(' && c != ')' && c != '[' && c != ']' && c != ' ') t += c;
  }
  const size_t comma = t.find(',');
  if (comma == std::string::npos) return false;
  return parse_number(t.substr(0, comma), out.first) &&
         parse_number(t.substr(comma + 1), out.second);
}

bool parse_list(const std::string& s, std::vector<double>& out) {
  std::string t;
  for (char c : s) {
    if (c != '(' && c != ')' && c != '[' && c != ']' && c != ' ') t += c;
  }
  out.clear();
  size_t start = 0;
  while (true) {
    const size_t comma = t.find(',', start);
    double v = 0;
    if (!parse_number(t.substr(start, comma - start), v)) return false;
    out.push_back(v);
    if (comma == std::string::npos) return true;
    start = comma + 1;
  }
}

const char* kind_name(ConfigKind k) {
  switch (k) {
    case ConfigKind::integer:
      return "an integer";
    case ConfigKind::number:
      return "a number";
    case ConfigKind::boolean:
      return "true or false";
    case ConfigKind::text:
      return "text";
    case ConfigKind::choice:
      return "one of the listed choices";
    case ConfigKind::number_pair:
      return "a pair of numbers like (0.1,2)";
    case ConfigKind::number_list:
      return "a list of numbers like (224,96)";
    case ConfigKind::path:
      return "a path";
  }
  return "?";
}

}  // namespace

std::string nearest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = SIZE_MAX;
  for (const std::string& c : candidates) {
    // Compare the whole name, and the part after the last dot (a misplaced prefix).
    size_t d = edit_distance(name, c);
    const size_t dot = c.rfind('.');
    if (dot != std::string::npos && name.find('.') == std::string::npos) {
      d = std::min(d, edit_distance(name, c.substr(dot + 1)) + 1);
    }
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best_distance <= std::max<size_t>(2, name.size() / 3) ? best : "";
}

Config::Config(std::vector<ConfigKey> schema) : schema_(std::move(schema)) {
  for (size_t i = 0; i < schema_.size(); ++i) index_[schema_[i].name] = i;
}

const ConfigKey& Config::key_of(const std::string& name) const {
  auto it = index_.find(name);
  if (it != index_.end()) return schema_[it->second];
  std::vector<std::string> names;
  for (const ConfigKey& k : schema_) names.push_back(k.name);
  const std::string guess = nearest_name(name, names);
  LUMEN_FAIL("unknown key '", name, "'",
             guess.empty() ? std::string("") : "; did you mean '" + guess + "'?",
             " (--help lists every key)");
}

bool Config::has(const std::string& key) const { return index_.count(key) != 0; }
bool Config::is_set(const std::string& key) const { return values_.count(key) != 0; }

void Config::set(const std::string& key, const std::string& value) {
  const ConfigKey& k = key_of(key);
  bool ok = true;
  int64_t i = 0;
  double d = 0;
  bool b = false;
  std::pair<double, double> p;
  std::vector<double> list;
  switch (k.kind) {
    case ConfigKind::integer:
      ok = parse_integer(value, i);
      break;
    case ConfigKind::number:
      ok = parse_number(value, d);
      break;
    case ConfigKind::boolean:
      ok = parse_boolean(value, b);
      break;
    case ConfigKind::number_pair:
      ok = parse_pair(value, p);
      break;
    case ConfigKind::number_list:
      ok = parse_list(value, list);
      break;
    case ConfigKind::text:
      break;
    case ConfigKind::path:
      LUMEN_CHECK(!value.empty(), key, "= is empty: give a path (", k.help,
                  "), or leave the key out");
      break;
    case ConfigKind::choice:
      ok = std::find(k.choices.begin(), k.choices.end(), value) != k.choices.end();
      if (!ok) {
        std::string list;
        for (const std::string& c : k.choices) list += (list.empty() ? "" : ", ") + c;
        const std::string guess = nearest_name(value, k.choices);
        LUMEN_FAIL("bad value '", value, "' for ", key, ": use one of ", list,
                   guess.empty() ? std::string("") : " (did you mean '" + guess + "'?)");
      }
      break;
  }
  LUMEN_CHECK(ok, "bad value '", value, "' for ", key, ": expected ", kind_name(k.kind));
  if (k.kind == ConfigKind::integer || k.kind == ConfigKind::number) {
    const double v = k.kind == ConfigKind::integer ? double(i) : d;
    LUMEN_CHECK(v >= k.minimum, "bad value '", value, "' for ", key, ": it must be at least ",
                k.minimum);
  }
  values_[key] = value;
}

void Config::parse_args(const std::vector<std::string>& args) {
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    LUMEN_CHECK(eq != std::string::npos && eq > 0, "argument '", arg,
                "' is not of the form key=value (for example loader.batch_size=256)");
    set(arg.substr(0, eq), arg.substr(eq + 1));
  }
}

const std::string& Config::raw(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() ? it->second : key_of(key).default_value;
}

std::string Config::get_string(const std::string& key) const { return raw(key); }

int64_t Config::get_int(const std::string& key) const {
  int64_t v = 0;
  LUMEN_CHECK(parse_integer(raw(key), v), key, " has no integer value ('", raw(key), "')");
  return v;
}
double Config::get_float(const std::string& key) const {
  double v = 0;
  LUMEN_CHECK(parse_number(raw(key), v), key, " has no numeric value ('", raw(key), "')");
  return v;
}
bool Config::get_bool(const std::string& key) const {
  bool v = false;
  LUMEN_CHECK(parse_boolean(raw(key), v), key, " has no boolean value ('", raw(key), "')");
  return v;
}
std::pair<double, double> Config::get_pair(const std::string& key) const {
  std::pair<double, double> v;
  LUMEN_CHECK(parse_pair(raw(key), v), key, " has no pair value ('", raw(key), "')");
  return v;
}
std::vector<double> Config::get_numbers(const std::string& key) const {
  std::vector<double> v;
  LUMEN_CHECK(parse_list(raw(key), v), key, " has no list value ('", raw(key), "')");
  return v;
}
std::string Config::require(const std::string& key) const {
  const std::string& v = raw(key);
  LUMEN_CHECK(!v.empty(), "missing ", key, "=...: ", key_of(key).help);
  return v;
}

std::string Config::serialize() const {
  std::ostringstream out;
  for (const ConfigKey& k : schema_) {
    std::string value = raw(k.name);
    if (k.kind == ConfigKind::path && !value.empty()) {
      std::error_code ec;
      const std::filesystem::path p =
          std::filesystem::weakly_canonical(std::filesystem::absolute(value, ec), ec);
      if (!ec) value = p.string();
    }
    out << k.name << "=" << value << "\n";
  }
  return out.str();
}

std::set<std::string> Config::resume_may_change() const {
  std::set<std::string> keys;
  for (const ConfigKey& k : schema_) {
    if (k.resume_may_change) keys.insert(k.name);
  }
  return keys;
}

ConfigKey resumable(ConfigKey key) {
  key.resume_may_change = true;
  return key;
}

std::string Config::help() const {
  size_t width = 0;
  for (const ConfigKey& k : schema_) width = std::max(width, k.name.size());
  std::ostringstream out;
  for (const ConfigKey& k : schema_) {
    if (!k.in_help) continue;
    std::string def = k.default_value.empty() ? "(none)" : k.default_value;
    out << "  " << k.name << std::string(width + 2 - k.name.size(), ' ') << k.help << " [default "
        << def;
    if (k.kind == ConfigKind::choice) {
      out << "; one of";
      for (const std::string& c : k.choices) out << " " << c;
    }
    out << "]\n";
  }
  return out.str();
}

std::string shortest_text(double v) {
  char text[32];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(text, sizeof(text), "%.0f", v);  // "10", not "1e+01"
    return text;
  }
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, v);
    if (std::strtod(text, nullptr) == v) break;
  }
  return text;
}

}  // namespace lumen
