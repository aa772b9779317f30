// Decode once: an image folder becomes a u8 cache of (N, S, S, 3) images — each image's shorter
// side resized to S and the centre S x S kept (see resize.h) — held in memory or in a
// memory-mapped cache file that later runs reuse.
//
// Cache file layout (little-endian, version 1):
//   0      CacheHeader (64 bytes): magic "LUMENIMG", version, S, listing count, kept count,
//          listing hash, offset of the bad-file records, their byte count
//   64     kept indices: kept count x u32, the listing entries that decoded (in order)
//   4096k  pixels: kept count x (S, S, 3) u8, page aligned
//   after  bad-file records: u32 name length, name, u32 reason length, reason
// The listing hash covers S, every filename, label, file size, modification time and inode change
// time (ctime), so a cache whose folder changed is rebuilt rather than reused. The file is written
// under a temporary name and renamed into place, so a crash never leaves a half-written cache
// behind.
#pragma once

#include <string>
#include <vector>

#include "engine/data/dataset.h"
#include "engine/data/file_list.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_folder.h"

namespace lumen::data {

// The largest storage size S of the image cache (pixels a side).
constexpr int kMaxStorageSize = 4096;

struct FolderDatasetOptions {
  int image_size = 224;                   // S: the cache's storage size, 1 to kMaxStorageSize
  OnBadFile on_error = OnBadFile::error;  // data.on_error
  std::string cache_path;                 // empty: in memory; else a cache file built or reused
  std::string file_list;  // data.filenames: decode the files it names (file_list.h), not the folder
  int num_threads = 0;    // decoding threads; 0: all cores
  bool progress = true;   // progress on stderr while decoding
  DecodeLimits limits;
};

struct FolderDataset {
  ImageDataset dataset;
  std::vector<BadFile> bad_files;  // left out (on_error=skip); empty otherwise
  bool from_cache = false;         // true when an existing cache file was reused
};

// Lists root (see image_folder.h; or reads options.file_list, see file_list.h), then decodes every
// image on a thread pool into the cache, or maps a valid existing cache file. Bad files: with
// on_error=error one lumen::Error names every one with its reason; with skip they are left out and
// listed in a warning on stderr. Running out of memory while decoding is no bad file: it throws
// DecodeOutOfMemory naming the file.
FolderDataset load_image_folder(const std::string& root, const FolderDatasetOptions& options);

// The hash a cache file must carry to be reused for this listing and storage size.
uint64_t listing_hash(const FolderListing& listing, int image_size);

}  // namespace lumen::data
