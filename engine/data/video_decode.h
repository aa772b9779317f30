// Decoding videos into RGB8 frames through FFmpeg's libraries (libavformat demuxes, libavcodec
// decodes, libswscale converts), from a file or from memory. A video's frames are what its first
// video stream decodes to, in presentation order, as torchvision's video reader gives them to
// lightly: every pixel format converted to RGB24 by swscale with SWS_AREA and swscale's default
// (BT.601) coefficients, whatever colour space the stream declares, at the frame's own size.
//
// Only these containers are opened: MP4/MOV (and 3GP, M4V), AVI, MPEG program and transport
// streams, raw MPEG-1/2, MPEG-4, H.264 and HEVC streams, Matroska/WebM. Only these video codecs
// are decoded: H.264, HEVC, MPEG-1, MPEG-2, MPEG-4 part 2, H.263, VP8, VP9, AV1, Motion JPEG,
// ProRes. Bytes are read through Lumen's own I/O callbacks, so a file name is never taken for a
// URL or protocol, and nothing but the file is ever read.
//
// A damaged video fails instead of giving partly grey frames: a read or decode error, or any
// message FFmpeg logs at error level while packets are read and decoded, makes the video bad,
// with FFmpeg's message as the reason. FFmpeg's log messages never reach stderr for Lumen's
// decodes (they are kept per decode, decoder threads included): Lumen installs FFmpeg's
// process-wide log callback at its first video, and passes messages of other FFmpeg users in the
// process on to FFmpeg's default callback (an application that installs its own callback later
// receives every message instead).
//
// Limits (DecodeLimits): frame width/height as for images (checked from the header, then for
// every frame), frame count (max_video_frames) and duration (max_video_seconds, from the header
// and from the frames' timestamps). max_file_bytes does not apply: videos are streamed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "engine/data/image_decode.h"

namespace lumen::data {

// lightly's VIDEO_EXTENSIONS, any case: mp4 mov avi mpg hevc m4v webm mpeg.
bool has_video_extension(std::string_view filename);

// Where a video's bytes come from: a file (path), or memory (bytes, size) when path is empty.
struct VideoSource {
  std::string path;
  const uint8_t* bytes = nullptr;
  size_t size = 0;
};

struct VideoInfo {
  int64_t frames = 0;    // how many frames decoding gives
  bool counted = false;  // true: counted by decoding; false: read from the container's index
  int width = 0;         // of the stream, as its header says
  int height = 0;
  std::string codec;  // FFmpeg's decoder name, e.g. "h264"
};

// Opens a video and counts its frames: from the sample table of MP4/MOV files (no decoding;
// edit lists respected), otherwise by decoding every frame. Throws lumen::Error (the reason only)
// when it cannot be opened, has no video stream, breaks a limit, has no frames or is damaged.
// `threads`: decoder threads (0: FFmpeg's choice).
VideoInfo probe_video(const VideoSource& source, const DecodeLimits& limits = {}, int threads = 1);

// Decodes every frame in presentation order and calls on_frame(index, frame) for each; returns
// how many there were. Throws lumen::Error (the reason only) on any problem, possibly after some
// frames were delivered.
int64_t decode_video(const VideoSource& source, const DecodeLimits& limits, int threads,
                     const std::function<void(int64_t index, const RgbImage& frame)>& on_frame);

}  // namespace lumen::data
