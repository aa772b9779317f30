#include "engine/io/embeddings_csv.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lumen {

namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Splits one CSV record (which may span lines inside quotes) from `in`.
bool read_record(std::istream& in, std::vector<std::string>& fields) {
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

}  // namespace

void save_embeddings_csv(const std::string& path, const Embeddings& e) {
  const Tensor values = e.values.to(Device::cpu()).to(DType::f32);
  LUMEN_CHECK(values.ndim() == 2, "embeddings must be (N, D), got ", values.str());
  const int64_t n = values.size(0), d = values.size(1);
  LUMEN_CHECK(int64_t(e.labels.size()) == n && int64_t(e.filenames.size()) == n, "embeddings: ", n,
              " rows but ", e.labels.size(), " labels and ", e.filenames.size(), " filenames");
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  FILE* out = std::fopen(temp.c_str(), "w");
  LUMEN_CHECK(out, "cannot write '", temp, "': ", std::strerror(errno),
              "; check that the folder exists and is writable");
  std::fputs("filenames", out);
  for (int64_t j = 0; j < d; ++j) std::fprintf(out, ",embedding_%lld", static_cast<long long>(j));
  std::fputs(",labels\n", out);
  const float* v = values.data<float>();
  for (int64_t i = 0; i < n; ++i) {
    std::fputs(csv_field(e.filenames[size_t(i)]).c_str(), out);
    for (int64_t j = 0; j < d; ++j) std::fprintf(out, ",%.9g", double(v[i * d + j]));
    std::fprintf(out, ",%lld\n", static_cast<long long>(e.labels[size_t(i)]));
  }
  const bool ok = std::fflush(out) == 0 && !std::ferror(out);
  const std::string reason = std::strerror(errno);
  std::fclose(out);
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::remove(temp.c_str());
    LUMEN_FAIL("writing '", path, "' failed: ", reason, " (disk full or folder missing?)");
  }
}

Embeddings load_embeddings_csv(const std::string& path) {
  std::ifstream in(path);
  LUMEN_CHECK(in, "cannot open '", path, "': ", std::strerror(errno));
  std::vector<std::string> fields;
  LUMEN_CHECK(read_record(in, fields) && fields.size() >= 2 && fields.front() == "filenames" &&
                  fields.back() == "labels",
              path, " is not an embeddings CSV (header filenames,embedding_0,...,labels)");
  const size_t d = fields.size() - 2;
  Embeddings e;
  std::vector<float> values;
  int64_t line = 1;
  while (read_record(in, fields)) {
    ++line;
    if (fields.size() == 1 && fields[0].empty()) continue;
    LUMEN_CHECK(fields.size() == d + 2, path, ":", line, ": expected ", d + 2, " fields, got ",
                fields.size());
    e.filenames.push_back(fields[0]);
    for (size_t j = 0; j < d; ++j) {
      char* end = nullptr;
      values.push_back(std::strtof(fields[j + 1].c_str(), &end));
      LUMEN_CHECK(end && *end == '\0' && !fields[j + 1].empty(), path, ":", line, ": embedding_", j,
                  " is not a number");
    }
    e.labels.push_back(std::atoll(fields.back().c_str()));
  }
  e.values = Tensor::from_vector(values, {int64_t(e.filenames.size()), int64_t(d)});
  return e;
}

}  // namespace lumen
