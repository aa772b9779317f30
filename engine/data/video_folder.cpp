#include "engine/data/video_folder.h"

#include <dirent.h>
#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "engine/data/parallel.h"
#include "engine/data/video_decode.h"

namespace lumen::data {

namespace {

// Appends the video files below root/relative (paths relative to root), as os.walk without
// following links to folders would find them. With first_only, stops at the first one. Folders
// that cannot be read throw when `strict` (listing), and are passed over otherwise (detection).
bool collect_videos(const std::string& root, const std::string& relative, int depth,
                    bool first_only, bool strict, std::vector<std::string>* out) {
  const std::string dir = relative.empty() ? root : root + "/" + relative;
  LUMEN_CHECK(depth < 64, "video folder ", root, " nests deeper than 64 levels at ", relative);
  DIR* handle = opendir(dir.c_str());
  if (!handle) {
    if (!strict) return false;
    LUMEN_FAIL("cannot read the video folder ", dir, ": ", std::strerror(errno),
               "; check input_dir points at a readable folder");
  }
  std::vector<std::string> folders;
  bool found = false;
  while (const dirent* e = readdir(handle)) {
    if (e->d_name[0] == '.') continue;  // ".", "..", hidden entries
    const std::string name = e->d_name;
    const std::string path = relative.empty() ? name : relative + "/" + name;
    bool is_dir = e->d_type == DT_DIR, is_file = e->d_type == DT_REG;
    if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st;
      if (stat((dir + "/" + name).c_str(), &st) == 0) {
        is_dir = S_ISDIR(st.st_mode) && e->d_type == DT_UNKNOWN;  // links to folders: not followed
        is_file = S_ISREG(st.st_mode);
      }
    }
    if (is_dir) {
      folders.push_back(path);
    } else if (is_file && has_video_extension(name)) {
      out->push_back(path);
      found = true;
      if (first_only) break;
    }
  }
  closedir(handle);
  if (found && first_only) return true;
  for (const std::string& folder : folders) {
    if (collect_videos(root, folder, depth + 1, first_only, strict, out) && first_only) return true;
  }
  return found;
}

int cores(int num_threads) { return num_threads > 0 ? num_threads : omp_get_max_threads(); }

// Decoder threads per video when `videos` videos are decoded at once on `threads` threads.
int decoder_threads(int threads, size_t videos) {
  const int parallel = int(std::min<size_t>(size_t(threads), std::max<size_t>(videos, 1)));
  return std::max(1, threads / parallel);
}

}  // namespace

bool folder_holds_videos(const std::string& root) {
  std::vector<std::string> found;
  return collect_videos(root, "", 0, /*first_only=*/true, /*strict=*/false, &found);
}

std::string video_frame_name(const std::string& video, int64_t frame, int64_t frames) {
  const size_t dot = video.rfind('.');
  const std::string stem = dot == std::string::npos ? video : video.substr(0, dot);
  const std::string ext = dot == std::string::npos ? "" : video.substr(dot + 1);
  const size_t width = std::to_string(frames).size();
  std::string number = std::to_string(frame);
  if (number.size() < width) number.insert(0, width - number.size(), '0');
  return stem + "-" + number + "-" + ext + ".png";
}

FolderListing list_video_folder(const std::string& root_in, const DecodeLimits& limits,
                                int num_threads, bool progress) {
  FolderListing listing;
  listing.root = root_in;
  while (listing.root.size() > 1 && listing.root.back() == '/') listing.root.pop_back();
  std::vector<std::string> names;
  collect_videos(listing.root, "", 0, /*first_only=*/false, /*strict=*/true, &names);
  LUMEN_CHECK(!names.empty(), "no videos found in ", listing.root,
              " (looked for .mp4 .mov .avi .mpg .hevc .m4v .webm .mpeg files); check input_dir");
  std::sort(names.begin(), names.end());
  std::vector<VideoInfo> infos(names.size());
  std::vector<std::string> errors(names.size());
  const int threads = cores(num_threads);
  const int per_video = decoder_threads(threads, names.size());
  ProgressBar bar("counting frames in " + std::to_string(names.size()) + " videos",
                  int64_t(names.size()), progress);
  parallel_for(int64_t(names.size()), threads, [&](int64_t v) {
    try {
      infos[size_t(v)] = probe_video({listing.root + "/" + names[size_t(v)]}, limits, per_video);
    } catch (const std::exception& e) {
      errors[size_t(v)] = e.what();
    }
    bar.advance();
  });
  bar.finish();
  for (size_t v = 0; v < names.size(); ++v) {
    VideoEntry entry;
    entry.name = names[v];
    entry.first = listing.filenames.size();
    entry.frames = errors[v].empty() ? infos[v].frames : 0;
    entry.error = errors[v];
    for (int64_t f = 0; f < entry.frames; ++f) {
      listing.filenames.push_back(video_frame_name(entry.name, f, entry.frames));
      listing.labels.push_back(int64_t(v));
    }
    listing.class_names.push_back(entry.name);
    listing.videos.push_back(std::move(entry));
  }
  return listing;
}

std::vector<BadFile> decode_videos(
    const FolderListing& listing, const DecodeLimits& limits, int num_threads, bool progress,
    const std::function<void(size_t entry, const RgbImage& frame)>& store) {
  std::vector<size_t> readable;
  for (size_t v = 0; v < listing.videos.size(); ++v) {
    if (listing.videos[v].error.empty()) readable.push_back(v);
  }
  std::vector<std::string> reasons(listing.videos.size());
  const int threads = cores(num_threads);
  const int per_video = decoder_threads(threads, readable.size());
  ProgressBar bar("decoding " + std::to_string(listing.size()) + " frames of " +
                      std::to_string(readable.size()) + " videos",
                  int64_t(listing.size()), progress);
  parallel_for(int64_t(readable.size()), threads, [&](int64_t k) {
    const VideoEntry& video = listing.videos[readable[size_t(k)]];
    try {
      const int64_t decoded = decode_video(
          {listing.root + "/" + video.name}, limits, per_video,
          [&](int64_t frame, const RgbImage& image) {
            if (frame >= video.frames) {
              throw Error(::lumen::detail::concat("decodes to more than the ", video.frames,
                                                  " frames counted when it was listed"));
            }
            if (store) store(video.first + size_t(frame), image);
            bar.advance();
          });
      if (decoded != video.frames) {
        throw Error(::lumen::detail::concat("decodes to ", decoded, " frames where ", video.frames,
                                            " were counted when it was listed"));
      }
    } catch (const std::exception& e) {
      reasons[readable[size_t(k)]] = e.what();
    }
  });
  bar.finish();
  std::vector<BadFile> bad;
  for (size_t v = 0; v < listing.videos.size(); ++v) {
    const VideoEntry& video = listing.videos[v];
    if (!video.error.empty()) bad.push_back({video.name, video.error});
    if (!reasons[v].empty()) bad.push_back({video.name, reasons[v]});
  }
  return bad;
}

ImageCheck check_videos(const std::string& root, const DecodeLimits& limits, bool progress) {
  const FolderListing listing = list_video_folder(root, limits, 0, progress);
  const std::vector<BadFile> bad = decode_videos(listing, limits, 0, progress, {});
  ImageCheck check;
  check.kind = "videos";
  size_t next_bad = 0;
  for (const VideoEntry& video : listing.videos) {
    if (next_bad < bad.size() && bad[next_bad].filename == video.name) {
      check.corrupt.push_back(bad[next_bad++]);
    } else {
      check.healthy.push_back(video.name);
    }
  }
  return check;
}

size_t entries_of(const FolderListing& listing, const std::vector<BadFile>& bad) {
  if (listing.videos.empty()) return bad.size();
  std::map<std::string, int64_t> frames;
  for (const VideoEntry& video : listing.videos) frames[video.name] = video.frames;
  size_t entries = 0;
  for (const BadFile& b : bad) {
    const auto it = frames.find(b.filename);
    if (it != frames.end()) entries += size_t(it->second);
  }
  return entries;
}

}  // namespace lumen::data
