#include "engine/io/csv.h"

#include <cstring>

namespace lumen {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

bool read_csv_record(std::istream& in, std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false, any = false;
  char c;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c == '"') {
        if (in.peek() == '"') {
          in.get(c);
          field += '"';
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      field += c;
    }
  }
  if (!any) return false;
  fields.push_back(field);
  return true;
}

std::vector<size_t> csv_record_offsets(const std::string& text, size_t begin) {
  std::vector<size_t> offsets;
  const char* data = text.data();
  const size_t size = text.size();
  const bool any_quote = std::memchr(data + begin, '"', size - begin) != nullptr;
  size_t at = begin;
  while (at < size) {
    offsets.push_back(at);
    if (!any_quote) {
      const void* nl = std::memchr(data + at, '\n', size - at);
      at = nl ? size_t(static_cast<const char*>(nl) - data) + 1 : size;
      continue;
    }
    bool quoted = false;
    while (at < size && (quoted || data[at] != '\n')) {
      if (data[at] == '"') quoted = !quoted;  // a doubled quote toggles twice
      ++at;
    }
    if (at < size) ++at;
  }
  offsets.push_back(size);
  return offsets;
}

void split_csv_record(const std::string& text, size_t begin, size_t end,
                      std::vector<std::string>& fields) {
  fields.clear();
  std::string field;
  bool quoted = false;
  for (size_t i = begin; i < end; ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < end && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.push_back(field);
      field.clear();
    } else if (c != '\n' && c != '\r') {
      field += c;
    }
  }
  fields.push_back(field);
}

}  // namespace lumen
