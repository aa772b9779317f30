// Listing an image folder with lightly's semantics, and checking its files.
//
//   root/a.jpg root/b.png               flat folder: every image has label 0, no class names
//   root/cat/1.jpg root/dog/x/2.png     folder of subfolders: one class per subfolder (sorted by
//                                       name, labels from 0), images found recursively inside
//                                       each; files at the root are left out, with a warning
//
// Filenames are relative to the root ("dog/x/2.png"), in torchvision's order within each class
// (sorted(os.walk(...)): by folder, then by name). Image files are recognised by extension,
// case-insensitively: jpg, jpeg, png, bmp, ppm, pgm, tif, tiff, webp (lightly's IMG_EXTENSIONS).
// Hidden entries (names starting with '.') are skipped. Symbolic links to files and folders are
// followed (os.walk(followlinks=True), as torchvision's ImageFolder), but every folder is read
// once, known by device and inode: a link back into a folder being listed (a loop) or a second
// path to a folder read already is skipped with a warning naming it. Listing reads directory
// entries and stats each folder once; it stats files only where the file system reports no type
// or a link.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/image_decode.h"

namespace lumen::data {

// One video of a folder of videos (video_folder.h): its frames are the listing's entries
// [first, first + frames). A video that cannot be read has no frames and says why.
struct VideoEntry {
  std::string name;  // relative to the root
  size_t first = 0;
  int64_t frames = 0;
  std::string error;  // empty when the video can be read
};

struct FolderListing {
  std::string root;
  std::vector<std::string> filenames;    // relative to root
  std::vector<int64_t> labels;           // one per filename
  std::vector<std::string> class_names;  // empty for a flat folder; the video names for videos
  std::vector<VideoEntry> videos;        // a folder of videos: entries are frames, label = video
  std::vector<std::string> warnings;     // what was left out and why (printed on stderr)
  size_t size() const { return filenames.size(); }
  // The file holding entry i: the image, or the video the frame comes from.
  std::string path(size_t i) const {
    return root + "/" + (videos.empty() ? filenames[i] : videos[size_t(labels[i])].name);
  }
};

bool has_image_extension(std::string_view filename);

// Throws when root is not a readable directory or holds no image. A folder holding videos
// anywhere is a folder of videos and is listed by list_video_folder (video_folder.h) instead.
// Prints the listing's warnings on stderr ("lumen: warning: ...").
FolderListing list_image_folder(const std::string& root);

// The order of names within a class: torchvision's sorted(os.walk(...)) then sorted(files), i.e.
// by containing folder, then by name (byte order).
bool listing_order(const std::string& a, const std::string& b);

// lightly's check_images: decodes every image file of the folder on num_threads threads (0: all
// cores) and sorts them into healthy and corrupt ones (each with its reason); for a folder of
// videos, every video. Running out of memory decides neither: it throws DecodeOutOfMemory naming
// the file.
struct ImageCheck {
  std::vector<std::string> healthy;
  std::vector<BadFile> corrupt;
  const char* kind = "images";  // what was checked: "images", or "videos" for a folder of videos
};
ImageCheck check_images(const std::string& root, int num_threads = 0, bool progress = true,
                        const DecodeLimits& limits = {});

}  // namespace lumen::data
