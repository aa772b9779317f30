#include "engine/io/embeddings_csv.h"

#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "engine/io/csv.h"

namespace lumen {

namespace {

std::string read_whole_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  LUMEN_CHECK(in, "cannot open '", path, "': ", std::strerror(errno));
  std::string text;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size > 0) {
    text.resize(size_t(size));
    in.read(text.data(), size);
  }
  LUMEN_CHECK(!in.bad(), "reading '", path, "' failed: ", std::strerror(errno));
  text.resize(size_t(in.gcount() > 0 ? in.gcount() : 0));
  return text;
}

// One data record: the filename, d values and the label. The common case (unquoted name, plain
// numbers) is read in place; anything else goes through the general field splitter. Returns an
// error message, or "" when the record is good.
std::string parse_record(const std::string& text, size_t begin, size_t end, size_t d, float* values,
                         std::string& filename, int64_t& label) {
  const char* s = text.data();
  while (end > begin && (s[end - 1] == '\n' || s[end - 1] == '\r')) --end;
  if (s[begin] != '"') {
    size_t at = begin;
    const char* comma = static_cast<const char*>(std::memchr(s + at, ',', end - at));
    bool plain = comma != nullptr;
    if (plain) {
      filename.assign(s + begin, comma);
      at = size_t(comma - s) + 1;
    }
    for (size_t j = 0; plain && j < d; ++j) {
      comma = static_cast<const char*>(std::memchr(s + at, ',', end - at));
      if (comma == nullptr || comma == s + at) {
        plain = false;
        break;
      }
      const auto [ptr, ec] = std::from_chars(s + at, comma, values[j]);
      plain = ec == std::errc() && ptr == comma;
      at = size_t(comma - s) + 1;
    }
    if (plain && at < end && std::memchr(s + at, ',', end - at) == nullptr) {
      const auto [ptr, ec] = std::from_chars(s + at, s + end, label);
      if (ec == std::errc() && ptr == s + end) return "";
    }
  }
  std::vector<std::string> fields;
  split_csv_record(text, begin, end, fields);
  if (fields.size() != d + 2) {
    return detail::concat("expected ", d + 2, " fields, got ", fields.size());
  }
  filename = fields[0];
  for (size_t j = 0; j < d; ++j) {
    char* stop = nullptr;
    values[j] = std::strtof(fields[j + 1].c_str(), &stop);
    if (fields[j + 1].empty() || !stop || *stop != '\0') {
      return detail::concat("embedding_", j, " is not a number");
    }
  }
  label = std::atoll(fields.back().c_str());
  return "";
}

bool blank_record(const std::string& text, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    if (text[i] != '\n' && text[i] != '\r') return false;
  }
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
  const std::string text = read_whole_file(path);
  const std::vector<size_t> records = csv_record_offsets(text);
  std::vector<std::string> fields;
  if (records.size() >= 2) split_csv_record(text, records[0], records[1], fields);
  LUMEN_CHECK(fields.size() >= 2 && fields.front() == "filenames" && fields.back() == "labels",
              path, " is not an embeddings CSV (header filenames,embedding_0,...,labels)");
  const size_t d = fields.size() - 2;
  // Data records, blank lines left out; record r is line r + 1 (the header is line 1).
  std::vector<int64_t> record_of_row;
  for (size_t r = 1; r + 1 < records.size(); ++r) {
    if (!blank_record(text, records[r], records[r + 1])) record_of_row.push_back(int64_t(r));
  }
  const int64_t n = int64_t(record_of_row.size());
  Embeddings e;
  e.values = Tensor::empty({n, int64_t(d)});
  e.filenames.resize(size_t(n));
  e.labels.resize(size_t(n));
  float* values = e.values.data<float>();
  int64_t bad_row = n;
  std::string bad_reason;
#pragma omp parallel for schedule(dynamic, 1024)
  for (int64_t i = 0; i < n; ++i) {
    const size_t r = size_t(record_of_row[size_t(i)]);
    const std::string reason = parse_record(text, records[r], records[r + 1], d, values + i * d,
                                            e.filenames[size_t(i)], e.labels[size_t(i)]);
    if (!reason.empty()) {
#pragma omp critical(embeddings_csv_error)
      if (i < bad_row) {
        bad_row = i;
        bad_reason = reason;
      }
    }
  }
  LUMEN_CHECK(bad_row == n, path, ":", record_of_row[size_t(std::min(bad_row, n - 1))] + 1, ": ",
              bad_reason);
  return e;
}

}  // namespace lumen
