#include "engine/data/image_folder.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <utility>

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

bool listing_order(const std::string& a, const std::string& b) {
  const size_t slash_a = a.rfind('/'), slash_b = b.rfind('/');
  const std::string_view dir_a =
      slash_a == std::string::npos ? "" : std::string_view(a).substr(0, slash_a);
  const std::string_view dir_b =
      slash_b == std::string::npos ? "" : std::string_view(b).substr(0, slash_b);
  if (dir_a != dir_b) return dir_a < dir_b;
  return a < b;
}

namespace {

struct Entry {
  std::string name;
  bool is_dir = false;
  bool is_file = false;
};

// A folder's identity: what a symbolic link leads to, whatever the path that reached it.
struct FolderId {
  dev_t device;
  ino_t inode;
  bool operator<(const FolderId& o) const {
    return device != o.device ? device < o.device : inode < o.inode;
  }
};

// Reads the folders of one image folder, each once: a folder is known by device and inode, so a
// symbolic link back to a folder being listed (a loop) or a second way to a folder listed already
// is skipped with a warning instead of listing its images again (or forever). Links to files and
// folders are followed, as os.walk(followlinks=True) in torchvision's ImageFolder does; a link
// that leads nowhere counts as a file, so an image name on it is reported as unreadable.
class FolderWalker {
 public:
  FolderWalker(std::string root, std::vector<std::string>* warnings)
      : root_(std::move(root)), warnings_(warnings) {}

  // The visible entries of the folder at `relative` ("" for the root), sorted by name; false
  // (after a warning) when that folder was read already.
  bool read(const std::string& relative, std::vector<Entry>* entries) {
    const std::string dir = relative.empty() ? root_ : root_ + "/" + relative;
    DIR* handle = opendir(dir.c_str());
    if (!handle) {
      LUMEN_FAIL("cannot read the image folder ", dir, ": ", std::strerror(errno),
                 "; check input_dir points at a readable folder");
    }
    struct stat st;
    if (fstat(dirfd(handle), &st) != 0) {
      const int error = errno;
      closedir(handle);
      LUMEN_FAIL("cannot read the image folder ", dir, ": ", std::strerror(error));
    }
    const auto [at, fresh] = seen_.emplace(FolderId{st.st_dev, st.st_ino}, relative);
    if (!fresh) {
      closedir(handle);
      warn_skipped(relative, at->second);
      return false;
    }
    entries->clear();
    while (const dirent* e = readdir(handle)) {
      if (e->d_name[0] == '.') continue;  // ".", "..", hidden files
      Entry entry;
      entry.name = e->d_name;
      if (e->d_type == DT_DIR) {
        entry.is_dir = true;
      } else if (e->d_type == DT_REG) {
        entry.is_file = true;
      } else if (e->d_type == DT_UNKNOWN || e->d_type == DT_LNK) {
        struct stat target;
        if (stat((dir + "/" + entry.name).c_str(), &target) == 0) {
          entry.is_dir = S_ISDIR(target.st_mode);
          entry.is_file = S_ISREG(target.st_mode);
        } else {
          entry.is_file = e->d_type == DT_LNK;  // a dangling link: os.walk lists it as a file
        }
      }
      entries->push_back(std::move(entry));
    }
    closedir(handle);
    std::sort(entries->begin(), entries->end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return true;
  }

  // Appends the image files under the folder `relative`, whose entries are given, recursively.
  void collect(const std::string& relative, const std::vector<Entry>& entries,
               std::vector<std::string>* out) {
    std::vector<Entry> inner;
    for (const Entry& e : entries) {
      const std::string path = relative + "/" + e.name;
      if (e.is_dir) {
        if (read(path, &inner)) collect(path, inner, out);
      } else if (e.is_file && has_image_extension(e.name)) {
        out->push_back(path);
      }
    }
  }

 private:
  void warn_skipped(const std::string& relative, const std::string& first) {
    const std::string shown = first.empty() ? "." : first;
    const bool loop = first.empty() || relative.rfind(first + "/", 0) == 0;
    warnings_->push_back(::lumen::detail::concat(
        "skipped the folder ", relative, " of ", root_, ": it is the folder '", shown, "' again",
        loop ? ", which contains it (a symbolic-link loop)" : ", listed already",
        "; each folder is listed once"));
  }

  std::string root_;
  std::map<FolderId, std::string> seen_;  // folder -> the path it was first read at
  std::vector<std::string>* warnings_;
};

// A warning naming the image files at the top of a folder of classes, which are left out.
std::string ignored_top_files(const std::string& root, const std::vector<std::string>& names) {
  std::string shown;
  for (size_t i = 0; i < names.size() && i < 3; ++i) shown += (i ? ", " : "") + names[i];
  if (names.size() > 3) shown += ", ...";
  return ::lumen::detail::concat(
      "ignored ", names.size(), " image file", names.size() == 1 ? "" : "s", " at the top of ",
      root, " (", shown,
      "): a folder with subfolders holds one class per subfolder, as in "
      "lightly, and files beside them are not read; move them into a subfolder to use them");
}

// Prints each of the listing's warnings on stderr.
void print_warnings(const FolderListing& listing) {
  for (const std::string& w : listing.warnings)
    std::fprintf(stderr, "lumen: warning: %s\n", w.c_str());
}

}  // namespace

FolderListing list_image_folder(const std::string& root_in) {
  FolderListing listing;
  listing.root = root_in;
  while (listing.root.size() > 1 && listing.root.back() == '/') listing.root.pop_back();
  if (folder_holds_videos(listing.root)) {  // counting frames can take a while: a bar on terminals
    return list_video_folder(listing.root, {}, 0, isatty(STDERR_FILENO) == 1);
  }
  FolderWalker walker(listing.root, &listing.warnings);
  std::vector<Entry> top;
  walker.read("", &top);
  // The class folders, read now: a link back to the root is a loop, not a class.
  std::vector<std::pair<std::string, std::vector<Entry>>> classes;
  std::vector<std::string> top_images;
  for (const Entry& e : top) {
    std::vector<Entry> entries;
    if (e.is_dir && walker.read(e.name, &entries)) classes.emplace_back(e.name, std::move(entries));
    if (e.is_file && has_image_extension(e.name)) top_images.push_back(e.name);
  }
  if (classes.empty()) {
    listing.filenames = std::move(top_images);
    listing.labels.assign(listing.filenames.size(), 0);
  } else {
    if (!top_images.empty())
      listing.warnings.push_back(ignored_top_files(listing.root, top_images));
    for (const auto& [name, entries] : classes) {
      const int64_t label = int64_t(listing.class_names.size());
      listing.class_names.push_back(name);
      std::vector<std::string> files;
      walker.collect(name, entries, &files);
      std::sort(files.begin(), files.end(), listing_order);
      for (std::string& f : files) {
        listing.filenames.push_back(std::move(f));
        listing.labels.push_back(label);
      }
    }
  }
  print_warnings(listing);
  LUMEN_CHECK(!listing.filenames.empty(), "no images found in ", listing.root,
              " (looked for .jpg .jpeg .png .bmp .ppm .pgm .tif .tiff .webp files",
              classes.empty() ? ""
                              : " inside its subfolders; files at its root are ignored when it "
                                "has subfolders",
              "); check input_dir");
  return listing;
}

ImageCheck check_images(const std::string& root, int num_threads, bool progress,
                        const DecodeLimits& limits) {
  if (folder_holds_videos(root)) return check_videos(root, limits, progress);
  const FolderListing listing = list_image_folder(root);
  std::vector<std::string> reasons(listing.size());
  std::vector<char> bad(listing.size(), 0);
  ProgressBar bar("checking images", int64_t(listing.size()), progress);
  parallel_for(int64_t(listing.size()), num_threads, [&](int64_t i) {
    try {
      decode_image_file(listing.path(size_t(i)), limits);
    } catch (const DecodeOutOfMemory& e) {  // neither healthy nor corrupt: stop
      throw DecodeOutOfMemory(::lumen::detail::concat(listing.path(size_t(i)), ": ", e.what()));
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
