#include "engine/data/image_cache.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "engine/data/parallel.h"
#include "engine/data/resize.h"
#include "engine/data/video_folder.h"

namespace lumen::data {

namespace {

constexpr char kMagic[8] = {'L', 'U', 'M', 'E', 'N', 'I', 'M', 'G'};
constexpr uint32_t kVersion = 1;
constexpr uint64_t kPage = 4096;

struct CacheHeader {
  char magic[8];
  uint32_t version;
  uint32_t image_size;
  uint64_t listing_count;
  uint64_t kept_count;
  uint64_t listing_hash;
  uint64_t bad_offset;
  uint64_t bad_bytes;
  uint64_t reserved;
};
static_assert(sizeof(CacheHeader) == 64, "cache header must stay 64 bytes");

uint64_t pixel_offset_for(uint64_t listing_count) {
  return (sizeof(CacheHeader) + listing_count * 4 + kPage - 1) / kPage * kPage;
}

void fnv1a(uint64_t* h, const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    *h ^= p[i];
    *h *= 1099511628211ull;
  }
}

// A folder of videos: one decoding pass per video, each frame resized into its slot as an image
// is; every slot of a video that fails is marked bad. Returns the bad videos, with reasons.
std::vector<BadFile> decode_frames_into(const FolderListing& listing,
                                        const FolderDatasetOptions& options, uint8_t* pixels,
                                        std::vector<char>* ok) {
  const int s = options.image_size;
  const size_t image_bytes = size_t(s) * size_t(s) * 3;
  ok->assign(listing.size(), 0);
  const std::vector<BadFile> bad =
      decode_videos(listing, options.limits, options.num_threads, options.progress,
                    [&](size_t entry, const RgbImage& frame) {
                      resize_shorter_and_center_crop(frame.pixels.data(), frame.width, frame.height,
                                                     pixels + entry * image_bytes, s);
                      (*ok)[entry] = 1;
                    });
  std::set<std::string> failed;
  for (const BadFile& b : bad) failed.insert(b.filename);
  for (const VideoEntry& video : listing.videos) {
    if (failed.count(video.name)) {
      std::fill(ok->begin() + ptrdiff_t(video.first),
                ok->begin() + ptrdiff_t(video.first + size_t(video.frames)), 0);
    }
  }
  return bad;
}

// Decodes images [0, n) of the listing into slots of `pixels` (n x S x S x 3); returns which
// failed, with reasons.
std::vector<BadFile> decode_into(const FolderListing& listing, const FolderDatasetOptions& options,
                                 uint8_t* pixels, std::vector<char>* ok) {
  if (!listing.videos.empty()) return decode_frames_into(listing, options, pixels, ok);
  const int s = options.image_size;
  const size_t image_bytes = size_t(s) * size_t(s) * 3;
  std::vector<std::string> reasons(listing.size());
  ok->assign(listing.size(), 0);
  ProgressBar progress("decoding " + std::to_string(listing.size()) + " images",
                       int64_t(listing.size()), options.progress);
  parallel_for(int64_t(listing.size()), options.num_threads, [&](int64_t i) {
    try {
      const RgbImage image = decode_image_file(listing.path(size_t(i)), options.limits);
      resize_shorter_and_center_crop(image.pixels.data(), image.width, image.height,
                                     pixels + size_t(i) * image_bytes, s);
      (*ok)[size_t(i)] = 1;
    } catch (const DecodeOutOfMemory& e) {  // not a bad file: stop, whatever data.on_error says
      throw DecodeOutOfMemory(::lumen::detail::concat(listing.path(size_t(i)), ": ", e.what()));
    } catch (const std::bad_alloc&) {
      throw DecodeOutOfMemory(::lumen::detail::concat(
          listing.path(size_t(i)), ": out of memory while resizing it to ", s, "x", s,
          "; free memory, or decode on fewer threads (loader.num_workers)"));
    } catch (const std::exception& e) {
      reasons[size_t(i)] = e.what();
    }
    progress.advance();
  });
  progress.finish();
  std::vector<BadFile> bad;
  for (size_t i = 0; i < listing.size(); ++i) {
    if (!(*ok)[i]) bad.push_back({listing.filenames[i], reasons[i]});
  }
  return bad;
}

// Applies the bad-file policy: throws (error) or warns (skip). Bad files are images, or videos
// in a folder of videos.
void report_bad_files(const FolderListing& listing, const std::vector<BadFile>& bad,
                      OnBadFile policy) {
  if (bad.empty()) return;
  const std::string& root = listing.root;
  const size_t total = listing.videos.empty() ? listing.size() : listing.videos.size();
  const char* what = listing.videos.empty() ? "images" : "videos";
  std::ostringstream list;
  for (const BadFile& b : bad) list << "\n  " << b.filename << ": " << b.reason;
  if (policy == OnBadFile::error) {
    throw Error(::lumen::detail::concat(
        bad.size(), " of ", total, " ", what, " in ", root, " cannot be decoded:", list.str(),
        "\nFix or remove them, or pass data.on_error=skip to leave them out "
        "(with a warning)."));
  }
  std::fprintf(stderr,
               "lumen: warning: leaving out %zu of %zu %s in %s that cannot be decoded "
               "(data.on_error=skip):%s\n",
               bad.size(), total, what, root.c_str(), list.str().c_str());
  LUMEN_CHECK(bad.size() < total, "none of the ", total, " ", what, " in ", root,
              " can be decoded; check input_dir");
}

// Assembles a dataset from decoded slots: keeps the slots listed in `kept` (listing indices).
ImageDataset make_dataset(const FolderListing& listing, int s,
                          std::shared_ptr<const uint8_t> pixels,
                          const std::vector<uint32_t>& kept) {
  ImageDataset d;
  d.height = d.width = s;
  d.pixels = std::move(pixels);
  d.class_names = listing.class_names;
  for (uint32_t i : kept) {
    d.filenames.push_back(listing.filenames[i]);
    d.labels.push_back(listing.labels[i]);
  }
  return d;
}

// Moves kept slots to the front (in order) and returns their listing indices.
std::vector<uint32_t> compact(uint8_t* pixels, size_t image_bytes, const std::vector<char>& ok) {
  std::vector<uint32_t> kept;
  for (size_t i = 0; i < ok.size(); ++i) {
    if (!ok[i]) continue;
    if (kept.size() != i) {
      std::memmove(pixels + kept.size() * image_bytes, pixels + i * image_bytes, image_bytes);
    }
    kept.push_back(uint32_t(i));
  }
  return kept;
}

void put_u32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

std::string encode_bad_files(const std::vector<BadFile>& bad) {
  std::string out;
  for (const BadFile& b : bad) {
    put_u32(&out, uint32_t(b.filename.size()));
    out += b.filename;
    put_u32(&out, uint32_t(b.reason.size()));
    out += b.reason;
  }
  return out;
}

bool decode_bad_files(const uint8_t* p, size_t n, std::vector<BadFile>* out) {
  size_t at = 0;
  auto take = [&](std::string* s) {
    uint32_t len = 0;
    if (n - at < 4) return false;
    std::memcpy(&len, p + at, 4);
    at += 4;
    if (n - at < len) return false;
    s->assign(reinterpret_cast<const char*>(p + at), len);
    at += len;
    return true;
  };
  while (at < n) {
    BadFile b;
    if (!take(&b.filename) || !take(&b.reason)) return false;
    out->push_back(std::move(b));
  }
  return true;
}

void write_all(int fd, const void* data, size_t n, uint64_t offset, const std::string& path) {
  const auto* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const ssize_t w = pwrite(fd, p, n, off_t(offset));
    if (w < 0 && errno == EINTR) continue;
    LUMEN_CHECK(w > 0, "cannot write the image cache ", path, ": ", std::strerror(errno),
                "; check free disk space, or run without a cache file");
    p += w;
    n -= size_t(w);
    offset += uint64_t(w);
  }
}

// Maps an existing cache file and checks it belongs to this listing. Returns false (with why)
// when it is missing, stale or malformed; the caller then rebuilds it.
bool try_map_cache(const std::string& path, const FolderListing& listing, int s, uint64_t hash,
                   FolderDataset* out, std::string* why) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *why = "absent";
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || uint64_t(st.st_size) < sizeof(CacheHeader)) {
    close(fd);
    *why = "too short to be a cache";
    return false;
  }
  const size_t file_bytes = size_t(st.st_size);
  void* base = mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED, fd, 0);
  close(fd);
  if (base == MAP_FAILED) {
    *why = std::string("cannot be mapped: ") + std::strerror(errno);
    return false;
  }
  std::shared_ptr<uint8_t> mapping(static_cast<uint8_t*>(base),
                                   [file_bytes](uint8_t* p) { munmap(p, file_bytes); });
  CacheHeader h;
  std::memcpy(&h, base, sizeof(h));
  const size_t image_bytes = size_t(s) * size_t(s) * 3;
  const uint64_t pixel_offset = pixel_offset_for(h.listing_count);
  if (std::memcmp(h.magic, kMagic, 8) != 0 || h.version != kVersion) {
    *why = "not a Lumen image cache of this version";
    return false;
  }
  if (h.image_size != uint32_t(s) || h.listing_count != listing.size() || h.listing_hash != hash) {
    *why = "stale (the folder or the storage size changed)";
    return false;
  }
  if (h.kept_count > h.listing_count || h.bad_offset != pixel_offset + h.kept_count * image_bytes ||
      h.bad_offset + h.bad_bytes != file_bytes) {
    *why = "malformed (sizes do not add up)";
    return false;
  }
  const uint8_t* bytes = mapping.get();
  std::vector<uint32_t> kept(h.kept_count);
  std::memcpy(kept.data(), bytes + sizeof(CacheHeader), kept.size() * 4);
  for (size_t k = 0; k < kept.size(); ++k) {
    if (kept[k] >= h.listing_count || (k > 0 && kept[k] <= kept[k - 1])) {
      *why = "malformed (bad index table)";
      return false;
    }
  }
  std::vector<BadFile> bad;
  if (!decode_bad_files(bytes + h.bad_offset, h.bad_bytes, &bad) ||
      entries_of(listing, bad) + kept.size() != h.listing_count) {
    *why = "malformed (bad-file records)";
    return false;
  }
  out->dataset =
      make_dataset(listing, s, std::shared_ptr<const uint8_t>(mapping, bytes + pixel_offset), kept);
  out->bad_files = std::move(bad);
  out->from_cache = true;
  return true;
}

// Decodes the folder into a new cache file at `path` (via a temporary file renamed into place).
void build_cache_file(const std::string& path, const FolderListing& listing,
                      const FolderDatasetOptions& options, uint64_t hash) {
  const int s = options.image_size;
  const size_t image_bytes = size_t(s) * size_t(s) * 3;
  const uint64_t pixel_offset = pixel_offset_for(listing.size());
  const std::string temp = path + ".tmp" + std::to_string(getpid());
  // The cache's folder (output_dir/cache/ on a fresh run) is made here if it does not exist yet.
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  std::error_code made;
  if (!folder.empty()) std::filesystem::create_directories(folder, made);
  LUMEN_CHECK(!made, "cannot create the folder of the image cache ", folder.string(), ": ",
              made.message(), "; choose a writable output folder");
  const int fd = open(temp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  LUMEN_CHECK(fd >= 0, "cannot create the image cache ", temp, ": ", std::strerror(errno),
              "; choose a writable output folder, or run without a cache file");
  struct Cleanup {
    int fd;
    const std::string& temp;
    bool keep = false;
    ~Cleanup() {
      close(fd);
      if (!keep) unlink(temp.c_str());
    }
  } cleanup{fd, temp};
  const uint64_t full_bytes = pixel_offset + listing.size() * image_bytes;
  LUMEN_CHECK(ftruncate(fd, off_t(full_bytes)) == 0, "cannot size the image cache ", temp, " to ",
              full_bytes >> 20, " MiB: ", std::strerror(errno), "; check free disk space");
  void* base = mmap(nullptr, full_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  LUMEN_CHECK(base != MAP_FAILED, "cannot map the image cache ", temp, ": ", std::strerror(errno));
  uint8_t* pixels = static_cast<uint8_t*>(base) + pixel_offset;
  std::vector<char> ok;
  std::vector<BadFile> bad;
  std::vector<uint32_t> kept;
  try {
    bad = decode_into(listing, options, pixels, &ok);
    report_bad_files(listing, bad, options.on_error);
    kept = compact(pixels, image_bytes, ok);
  } catch (...) {
    munmap(base, full_bytes);
    throw;
  }
  munmap(base, full_bytes);
  const std::string bad_records = encode_bad_files(bad);
  CacheHeader h{};
  std::memcpy(h.magic, kMagic, 8);
  h.version = kVersion;
  h.image_size = uint32_t(s);
  h.listing_count = listing.size();
  h.kept_count = kept.size();
  h.listing_hash = hash;
  h.bad_offset = pixel_offset + kept.size() * image_bytes;
  h.bad_bytes = bad_records.size();
  LUMEN_CHECK(ftruncate(fd, off_t(h.bad_offset + h.bad_bytes)) == 0,
              "cannot resize the image cache ", temp, ": ", std::strerror(errno));
  write_all(fd, &h, sizeof(h), 0, temp);
  write_all(fd, kept.data(), kept.size() * 4, sizeof(h), temp);
  write_all(fd, bad_records.data(), bad_records.size(), h.bad_offset, temp);
  LUMEN_CHECK(fsync(fd) == 0, "cannot flush the image cache ", temp, ": ", std::strerror(errno));
  LUMEN_CHECK(std::rename(temp.c_str(), path.c_str()) == 0, "cannot move the image cache into ",
              path, ": ", std::strerror(errno));
  cleanup.keep = true;
}

}  // namespace

uint64_t listing_hash(const FolderListing& listing, int image_size) {
  uint64_t h = 14695981039346656037ull;
  const uint64_t head[2] = {uint64_t(image_size), uint64_t(listing.size())};
  fnv1a(&h, head, sizeof(head));
  for (size_t i = 0; i < listing.size(); ++i) {
    fnv1a(&h, listing.filenames[i].c_str(), listing.filenames[i].size() + 1);
    struct stat st;
    // The change time too: a file rewritten with its size and modification time kept (cp -p,
    // rsync -t, tar) still has a new ctime, which no one can set.
    int64_t facts[6] = {listing.labels[i], -1, -1, -1, -1, -1};
    if (stat(listing.path(i).c_str(), &st) == 0) {
      facts[1] = int64_t(st.st_size);
      facts[2] = int64_t(st.st_mtim.tv_sec);
      facts[3] = int64_t(st.st_mtim.tv_nsec);
      facts[4] = int64_t(st.st_ctim.tv_sec);
      facts[5] = int64_t(st.st_ctim.tv_nsec);
    }
    fnv1a(&h, facts, sizeof(facts));
  }
  for (const VideoEntry& video : listing.videos) {  // unreadable videos have no entries above
    fnv1a(&h, video.name.c_str(), video.name.size() + 1);
    fnv1a(&h, &video.frames, sizeof(video.frames));
  }
  return h;
}

FolderDataset load_image_folder(const std::string& root, const FolderDatasetOptions& options) {
  LUMEN_CHECK(options.image_size >= 1 && options.image_size <= kMaxStorageSize, "storage size ",
              options.image_size, " is out of range: the image cache holds images of 1 to ",
              kMaxStorageSize, " pixels a side");
  const FolderListing listing = options.file_list.empty()
                                    ? list_image_folder(root)
                                    : list_image_files(root, options.file_list);
  LUMEN_CHECK(listing.size() < (size_t(1) << 32), "image folder ", root, " holds ", listing.size(),
              " images; at most 2^32 - 1 are supported");
  const int s = options.image_size;
  const size_t image_bytes = size_t(s) * size_t(s) * 3;
  FolderDataset result;
  if (options.cache_path.empty()) {
    std::shared_ptr<uint8_t> pixels = allocate_pixels(listing.size() * image_bytes);
    std::vector<char> ok;
    result.bad_files = decode_into(listing, options, pixels.get(), &ok);
    report_bad_files(listing, result.bad_files, options.on_error);
    const std::vector<uint32_t> kept = compact(pixels.get(), image_bytes, ok);
    result.dataset = make_dataset(listing, s, std::move(pixels), kept);
    return result;
  }
  const uint64_t hash = listing_hash(listing, s);
  std::string why;
  if (try_map_cache(options.cache_path, listing, s, hash, &result, &why)) {
    report_bad_files(listing, result.bad_files, options.on_error);
    return result;
  }
  if (why != "absent" && options.progress) {
    std::fprintf(stderr, "lumen: image cache %s is %s; rebuilding it\n", options.cache_path.c_str(),
                 why.c_str());
  }
  build_cache_file(options.cache_path, listing, options, hash);
  LUMEN_CHECK(try_map_cache(options.cache_path, listing, s, hash, &result, &why),
              "the image cache ", options.cache_path, " just written is ", why,
              "; was it changed by another process?");
  result.from_cache = false;
  return result;
}

}  // namespace lumen::data
