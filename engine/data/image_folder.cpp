#include "engine/data/image_folder.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "engine/data/parallel.h"
#include "engine/data/video_folder.h"

namespace lumen::data {

bool has_image_extension(std::string_view filename) {
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext(filename.substr(dot + 1));
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == "jpg" || ext == "jpeg" || ext == "png" || ext == "bmp" || ext == "ppm" ||
         ext == "pgm" || ext == "tif" || ext == "tiff" || ext == "webp";
}

namespace {

struct Entry {
  std::string name;
  bool is_dir = false;
  bool is_file = false;
};

// The visible entries of a directory. Types come from readdir; only DT_UNKNOWN and symbolic links
// are resolved with stat (links are followed, as os.walk(followlinks=True) does).
std::vector<Entry> read_directory(const std::string& dir) {
  DIR* handle = opendir(dir.c_str());
  if (!handle) {
    LUMEN_FAIL("cannot read the image folder ", dir, ": ", std::strerror(errno),
               "; check input_dir points at a readable folder");
  }
  std::vector<Entry> entries;
  while (const dirent* e = readdir(handle)) {
    if (e->d_name[0] == '.') continue;  // ".", "..", hidden files
    Entry entry;
    entry.name = e->d_name;
    if (e->d_type == DT_DIR) {
      entry.is_dir = true;
    } else if (e->d_type == DT_REG) {
      entry.is_file = true;
    } else if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
      struct stat st;
      if (stat((dir + "/" + entry.name).c_str(), &st) == 0) {
        entry.is_dir = S_ISDIR(st.st_mode);
        entry.is_file = S_ISREG(st.st_mode);
      }
    }
    entries.push_back(std::move(entry));
  }
  closedir(handle);
  return entries;
}

// Appends the image files under dir (recursively) as paths relative to the root.
void collect_images(const std::string& root, const std::string& relative, int depth,
                    std::vector<std::string>* out) {
  LUMEN_CHECK(depth < 64, "image folder ", root, " nests deeper than 64 levels at ", relative,
              "; is there a symbolic link loop?");
  for (const Entry& e : read_directory(root + "/" + relative)) {
    const std::string path = relative + "/" + e.name;
    if (e.is_dir) {
      collect_images(root, path, depth + 1, out);
    } else if (e.is_file && has_image_extension(e.name)) {
      out->push_back(path);
    }
  }
}

}  // namespace

FolderListing list_image_folder(const std::string& root_in) {
  FolderListing listing;
  listing.root = root_in;
  while (listing.root.size() > 1 && listing.root.back() == '/') listing.root.pop_back();
  if (folder_holds_videos(listing.root)) {  // counting frames can take a while: a bar on terminals
    return list_video_folder(listing.root, {}, 0, isatty(STDERR_FILENO) == 1);
  }
  std::vector<Entry> top = read_directory(listing.root);
  std::sort(top.begin(), top.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  const bool has_subfolders =
      std::any_of(top.begin(), top.end(), [](const Entry& e) { return e.is_dir; });
  if (!has_subfolders) {
    for (const Entry& e : top) {
      if (e.is_file && has_image_extension(e.name)) listing.filenames.push_back(e.name);
    }
    listing.labels.assign(listing.filenames.size(), 0);
  } else {
    for (const Entry& e : top) {
      if (!e.is_dir) continue;  // files at the root of a folder of classes are ignored
      const int64_t label = int64_t(listing.class_names.size());
      listing.class_names.push_back(e.name);
      std::vector<std::string> files;
      collect_images(listing.root, e.name, 0, &files);
      std::sort(files.begin(), files.end());
      for (std::string& f : files) {
        listing.filenames.push_back(std::move(f));
        listing.labels.push_back(label);
      }
    }
  }
  LUMEN_CHECK(!listing.filenames.empty(), "no images found in ", listing.root,
              " (looked for .jpg .jpeg .png .bmp .ppm .pgm .tif .tiff .webp files",
              has_subfolders ? " inside its subfolders; files at its root are ignored when it has "
                               "subfolders"
                             : "",
              "); check input_dir");
  return listing;
}

ImageCheck check_images(const std::string& root, const DecodeLimits& limits, bool progress) {
  if (folder_holds_videos(root)) return check_videos(root, limits, progress);
  const FolderListing listing = list_image_folder(root);
  std::vector<std::string> reasons(listing.size());
  std::vector<char> bad(listing.size(), 0);
  ProgressBar bar("checking images", int64_t(listing.size()), progress);
  parallel_for(int64_t(listing.size()), 0, [&](int64_t i) {
    try {
      decode_image_file(listing.path(size_t(i)), limits);
    } catch (const std::exception& e) {
      reasons[size_t(i)] = e.what();
      bad[size_t(i)] = 1;
    }
    bar.advance();
  });
  bar.finish();
  ImageCheck check;
  for (size_t i = 0; i < listing.size(); ++i) {
    if (!bad[i]) {
      check.healthy.push_back(listing.filenames[i]);
    } else {
      check.corrupt.push_back({listing.filenames[i], reasons[i]});
    }
  }
  return check;
}

}  // namespace lumen::data
