#include "engine/io/safetensors.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "engine/io/strict_json.h"
#include "engine/ops/finite.h"

namespace lumen {

namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes little endian");

const char* safetensors_dtype(DType t) {
  switch (t) {
    case DType::f32:
      return "F32";
    case DType::f64:
      return "F64";
    case DType::bf16:
      return "BF16";
    case DType::f16:
      return "F16";
    case DType::u8:
      return "U8";
    case DType::i32:
      return "I32";
    case DType::i64:
      return "I64";
  }
  return "?";
}

DType parse_dtype(const std::string& name, const std::string& path, const std::string& key) {
  for (DType t :
       {DType::f32, DType::f64, DType::bf16, DType::f16, DType::u8, DType::i32, DType::i64}) {
    if (name == safetensors_dtype(t)) return t;
  }
  LUMEN_FAIL(path, ": tensor '", key, "' has dtype ", name,
             ", which Lumen does not read (F32, F64, BF16, F16, U8, I32, I64); convert it first");
}

std::string errno_text() { return std::strerror(errno); }

// What a path that is not a regular file is, for the error.
const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// Refuses anything but a regular file, naming what it is.
void check_regular(const struct stat& st, const std::string& path) {
  if (S_ISREG(st.st_mode)) return;
  std::string hint = "pass a safetensors file";
  if (S_ISDIR(st.st_mode)) {
    const std::string last = path + "/checkpoints/last.safetensors";
    struct stat inside;
    hint = ::stat(last.c_str(), &inside) == 0 ? "did you mean " + last + "?"
                                              : "pass the file itself (a run's latest checkpoint "
                                                "is <output_dir>/checkpoints/last.safetensors)";
  }
  LUMEN_FAIL("'", path, "' is ", file_kind(st.st_mode), ", not a safetensors file; ", hint);
}

// Reads n bytes at offset, or fails naming the file (it shrank while being read).
void read_at(int fd, char* into, uint64_t n, uint64_t offset, const std::string& path) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, into, size_t(std::min<uint64_t>(n, 1u << 30)), off_t(offset));
    if (got < 0 && errno == EINTR) continue;
    LUMEN_CHECK(got > 0, "cannot read '", path, "': ",
                got < 0 ? errno_text() : std::string("it ended early (changed while read?)"));
    into += got;
    n -= uint64_t(got);
    offset += uint64_t(got);
  }
}

// A file descriptor closed when it goes out of scope.
struct OwnedFd {
  int fd;
  ~OwnedFd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

SafetensorsFile load_safetensors(const std::string& path) {
  // stat first, so that a FIFO or a device is refused without being opened; O_NONBLOCK so that a
  // path swapped for a FIFO after the stat does not wait for a writer either, and fstat checks
  // what was opened.
  struct stat st;
  LUMEN_CHECK(::stat(path.c_str(), &st) == 0, "cannot open '", path, "': ", errno_text());
  check_regular(st, path);
  const OwnedFd file_fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK)};
  LUMEN_CHECK(file_fd.fd >= 0, "cannot open '", path, "': ", errno_text());
  LUMEN_CHECK(::fstat(file_fd.fd, &st) == 0, "cannot stat '", path, "': ", errno_text());
  check_regular(st, path);
  const int fd = file_fd.fd;
  const uint64_t file_size = uint64_t(st.st_size);
  LUMEN_CHECK(file_size >= 8, path, " is not a safetensors file: only ", file_size, " bytes");
  uint64_t header_size = 0;
  read_at(fd, reinterpret_cast<char*>(&header_size), 8, 0, path);
  LUMEN_CHECK(header_size <= kSafetensorsMaxHeader, path, ": safetensors header of ", header_size,
              " bytes is larger than the ", kSafetensorsMaxHeader,
              " allowed; the file is corrupt or not safetensors");
  LUMEN_CHECK(8 + header_size <= file_size, path, ": header of ", header_size,
              " bytes runs past the end of the ", file_size, "-byte file (truncated?)");
  std::string header(header_size, '\0');
  read_at(fd, header.data(), header_size, 8, path);

  nlohmann::json json;
  try {
    json = parse_strict_json(header);
  } catch (const Error& e) {
    LUMEN_FAIL(path, ": malformed safetensors header: ", e.what());
  }
  LUMEN_CHECK(json.is_object(), path, ": safetensors header is not a JSON object");

  const uint64_t data_size = file_size - 8 - header_size;
  std::vector<char> data(data_size);
  read_at(fd, data.data(), data_size, 8 + header_size, path);

  // An integer of the header (a dimension, an offset), else an error naming it.
  auto integer = [&](const nlohmann::json& v, const std::string& what) {
    LUMEN_CHECK(v.is_number_integer(), what, " is not an integer (", v.dump(), ")");
    return v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX) ? INT64_MAX
                                                                             : v.get<int64_t>();
  };
  SafetensorsFile file;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (const auto& [key, entry] : json.items()) {
    if (key == "__metadata__") {
      LUMEN_CHECK(entry.is_object(), path, ": __metadata__ is not an object");
      for (const auto& [mkey, mvalue] : entry.items()) {
        LUMEN_CHECK(mvalue.is_string(), path, ": metadata '", mkey, "' is not a string");
        file.metadata[mkey] = mvalue.get<std::string>();
      }
      continue;
    }
    const std::string what = path + ": tensor '" + key + "'";
    LUMEN_CHECK(entry.is_object(), what, " is not described by an object");
    const auto dtype = entry.find("dtype"), shape = entry.find("shape");
    const auto offsets = entry.find("data_offsets");
    LUMEN_CHECK(dtype != entry.end() && shape != entry.end() && offsets != entry.end(), what,
                " lacks dtype, shape or data_offsets");
    LUMEN_CHECK(dtype->is_string(), what, ": dtype is not a string");
    const DType t = parse_dtype(dtype->get<std::string>(), path, key);
    LUMEN_CHECK(shape->is_array(), what, ": shape is not an array");
    Shape dims;
    for (const nlohmann::json& d : *shape) {
      const int64_t n = integer(d, what + ": a shape entry");
      LUMEN_CHECK(n >= 0 && n < (int64_t(1) << 40), what, " has an invalid dimension ", n);
      dims.push_back(n);
    }
    LUMEN_CHECK(offsets->is_array() && offsets->size() == 2, what,
                ": data_offsets needs [begin, end]");
    const int64_t begin = integer((*offsets)[0], what + ": data_offsets");
    const int64_t end = integer((*offsets)[1], what + ": data_offsets");
    LUMEN_CHECK(begin >= 0 && begin <= end && uint64_t(end) <= data_size, what, ": data_offsets [",
                begin, ", ", end, "] lie outside the ", data_size,
                "-byte data section (truncated file?)");
    int64_t numel = 1;
    for (int64_t d : dims) {
      LUMEN_CHECK(d == 0 || numel <= (int64_t(1) << 50) / d, what, " is too large");
      numel *= d;
    }
    LUMEN_CHECK(uint64_t(end - begin) == uint64_t(numel) * dtype_size(t), what, " of shape ",
                shape_str(dims), " needs ", uint64_t(numel) * dtype_size(t), " bytes but has ",
                end - begin);
    ranges.emplace_back(uint64_t(begin), uint64_t(end));
    Tensor tensor = Tensor::empty(dims, t);
    if (end > begin) std::memcpy(tensor.raw_data(), data.data() + begin, size_t(end - begin));
    file.tensors.emplace(key, tensor);
  }
  // As the reference reader: the tensors tile the data section, no overlap, no gap, no tail.
  std::sort(ranges.begin(), ranges.end());
  uint64_t covered = 0;
  for (const auto& [begin, end] : ranges) {
    LUMEN_CHECK(begin >= covered, path,
                ": tensors overlap in the data section; the file is corrupt");
    LUMEN_CHECK(begin == covered, path, ": the data section has ", begin - covered,
                " unused bytes at offset ", covered, "; the file is corrupt");
    covered = end;
  }
  LUMEN_CHECK(covered == data_size, path, ": the data section holds ", data_size - covered,
              " bytes after the last tensor; the file is corrupt");
  return file;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // In insertion order (metadata first, then the tensors in name order, as their data follows).
  // Text that is not UTF-8 (a path in another encoding) is written with U+FFFD in its place.
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  if (!metadata.empty()) {
    nlohmann::ordered_json& m = json["__metadata__"];
    for (const auto& [key, value] : metadata) m[key] = value;
  }
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [key, tensor] : tensors) {
    LUMEN_CHECK(key != "__metadata__", "'__metadata__' cannot name a tensor");
    check_defined(tensor, "save_safetensors");
    host.push_back(tensor.to(Device::cpu()));
    json[key] = {{"dtype", safetensors_dtype(tensor.dtype())},
                 {"shape", tensor.shape()},
                 {"data_offsets", {offset, offset + tensor.nbytes()}}};
    offset += tensor.nbytes();
  }
  std::string header = json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  header.append((8 - header.size() % 8) % 8, ' ');  // align the data section to 8 bytes

  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  FILE* out = std::fopen(temp.c_str(), "wb");
  LUMEN_CHECK(out, "cannot write '", temp, "': ", errno_text(),
              "; check that the folder exists and is writable");
  const uint64_t header_size = header.size();
  bool ok = std::fwrite(&header_size, 8, 1, out) == 1 &&
            std::fwrite(header.data(), 1, header.size(), out) == header.size();
  for (const Tensor& t : host) {
    if (!ok) break;
    ok = t.nbytes() == 0 || std::fwrite(t.raw_data(), 1, t.nbytes(), out) == t.nbytes();
  }
  ok = ok && std::fflush(out) == 0 && ::fsync(::fileno(out)) == 0;
  const std::string failure = ok ? "" : errno_text();
  ok = (std::fclose(out) == 0) && ok;
  if (!ok) {
    std::remove(temp.c_str());
    LUMEN_FAIL("writing '", path, "' failed: ", failure.empty() ? errno_text() : failure,
               " (disk full?); the previous file, if any, is untouched");
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string reason = errno_text();
    std::remove(temp.c_str());
    LUMEN_FAIL("cannot rename '", temp, "' to '", path, "': ", reason);
  }
  // Make the rename itself durable.
  const size_t slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

SafetensorsFile load_weights(const std::string& path) {
  SafetensorsFile file = load_safetensors(path);
  for (const auto& [key, tensor] : file.tensors) {
    LUMEN_CHECK(
        all_finite(tensor), path, ": tensor '", key,
        "' holds inf or NaN values: the run that wrote it diverged, or the file is damaged. "
        "Use an earlier checkpoint of that run, or train again with a lower learning rate");
  }
  return file;
}

}  // namespace lumen
