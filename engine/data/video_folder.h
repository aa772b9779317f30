// Folders of videos, with lightly's semantics (lightly/data/_helpers.py and _video.py):
//
//   - a folder holding a video file anywhere below it (lightly's VIDEO_EXTENSIONS: mp4 mov avi mpg
//     hevc m4v webm mpeg, any case) is a dataset of video frames, and its images are ignored;
//   - its videos are found recursively (symbolic links to folders are not followed, as os.walk
//     does not; links to files are), and sorted by relative path in byte order (lightly keeps
//     os.walk's order, which is the file system's: sorting makes the listing reproducible);
//   - the entries are every video's frames in order, video after video; a frame's label is its
//     video's index in that order (class_names holds the video names), also for videos that
//     cannot be read (they have no frames but keep their index);
//   - frame f of video "dir/clip.mp4" with n frames is named "dir/clip-{f:0{len(str(n))}}-mp4.png"
//     (lightly's VideoDataset.get_filename: the relative path without its last extension, the
//     frame number zero-padded to the digits of the frame count, the extension as written).
//
// Hidden entries (names starting with '.') are skipped, as for images. Frame counts come from
// probe_video (video_decode.h) on all cores.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/data/image_folder.h"

namespace lumen::data {

// True when root or a folder below it holds a video file (readdir only; stops at the first).
bool folder_holds_videos(const std::string& root);

// Lists the videos below root and counts their frames (videos that cannot be opened or counted
// are listed with their reason and no frames). Throws when root holds no video.
// num_threads: 0 for all cores. progress: a bar on stderr while frames are counted.
FolderListing list_video_folder(const std::string& root, const DecodeLimits& limits = {},
                                int num_threads = 0, bool progress = false);

// lightly's name for frame `frame` of the video `video` (relative path) of `frames` frames.
std::string video_frame_name(const std::string& video, int64_t frame, int64_t frames);

// Decodes every video of a video listing once, in parallel, and hands each frame to
// store(entry, frame) (entry = the frame's listing index; store may be empty). Returns the bad
// videos, with their reasons: those the listing could not read, those failing to decode, and
// those decoding to another number of frames than were counted. Frames of a bad video that were
// already handed over must be discarded by the caller.
std::vector<BadFile> decode_videos(
    const FolderListing& listing, const DecodeLimits& limits, int num_threads, bool progress,
    const std::function<void(size_t entry, const RgbImage& frame)>& store);

// check_images for a folder of videos: every video decoded, healthy and corrupt ones by name.
ImageCheck check_videos(const std::string& root, const DecodeLimits& limits = {},
                        bool progress = true);

// How many listing entries the bad files of a listing stand for: one each in an image listing,
// the video's frames in a video listing.
size_t entries_of(const FolderListing& listing, const std::vector<BadFile>& bad);

}  // namespace lumen::data
