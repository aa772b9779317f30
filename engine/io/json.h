// A small JSON reader and writer for the formats Lumen reads and writes (safetensors headers,
// metrics lines, checkpoint metadata). Objects keep their keys sorted; numbers are doubles, with
// integers up to 2^53 exact.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lumen {

class Json {
 public:
  enum class Kind { null, boolean, number, string, array, object };

  Json() = default;
  static Json parse(const std::string& text);  // throws lumen::Error naming the offset

  Kind kind() const { return kind_; }
  bool is_object() const { return kind_ == Kind::object; }
  bool is_array() const { return kind_ == Kind::array; }
  bool is_string() const { return kind_ == Kind::string; }
  bool is_number() const { return kind_ == Kind::number; }

  // Accessors throw lumen::Error when the kind differs; `what` names the value in the message.
  double number(const char* what = "value") const;
  int64_t integer(const char* what = "value") const;  // a number with no fraction
  const std::string& string(const char* what = "value") const;
  const std::vector<Json>& array(const char* what = "value") const;
  const std::map<std::string, Json>& object(const char* what = "value") const;
  const Json* find(const std::string& key) const;  // null when absent or not an object

 private:
  friend class JsonParser;
  Kind kind_ = Kind::null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Json> array_;
  std::map<std::string, Json> object_;
};

// `text` as a JSON string literal, quotes included.
std::string json_quote(const std::string& text);

}  // namespace lumen
