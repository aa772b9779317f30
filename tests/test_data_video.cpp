// Videos: lightly's listing and frame names (against names lightly itself wrote, in
// tools/fixtures/data_video.py), every committed video's frames against ffmpeg's decode of the same
// file, frames through the image cache, bad and hostile videos, limits, and FFmpeg's log messages
// kept per decode.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
extern "C" {
#include <libavutil/log.h>
}

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/data/image_cache.h"
#include "engine/data/image_folder.h"
#include "engine/data/resize.h"
#include "engine/data/video_decode.h"
#include "engine/data/video_folder.h"
#include "engine/io/safetensors.h"
#include "support/images.h"
#include "support/stderr_capture.h"
#include "support/testing.h"

using namespace lumen;
using namespace lumen::data;
using lumen::testing::TempDir;
using Bytes = std::vector<uint8_t>;

namespace {

const SafetensorsFile& golden() {
  static const SafetensorsFile f = load_safetensors("fixtures/data_video.safetensors");
  return f;
}

// The reference frames of a committed video ("videos/clip.mp4"): (N, H, W, 3) u8.
Tensor reference(const std::string& video) {
  std::string key = video;
  for (char& c : key) c = (c == '/' || c == '.') ? '_' : c;
  return golden().tensors.at(key + "_frames");
}

std::vector<std::string> committed_videos() {
  std::vector<std::string> out;
  std::stringstream list(golden().metadata.at("videos"));
  for (std::string v; std::getline(list, v, ',');) out.push_back(v);
  return out;
}

std::vector<std::string> json_strings(const std::string& key) {
  const nlohmann::json list = nlohmann::json::parse(golden().metadata.at(key));
  std::vector<std::string> out;
  for (const nlohmann::json& j : list) out.push_back(j.get<std::string>());
  return out;
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void copy(const std::string& from, const std::string& to) {
  testing::write_file(to, read_all(from));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// lightly's VideoDataset._format_filename, written out independently of video_frame_name.
std::vector<std::string> lightly_names(const std::string& video, int64_t frames) {
  const size_t dot = video.rfind('.');
  const int digits = int(std::to_string(frames).size());
  std::vector<std::string> names;
  for (int64_t f = 0; f < frames; ++f) {
    char number[32];
    std::snprintf(number, sizeof(number), "%0*lld", digits, static_cast<long long>(f));
    names.push_back(video.substr(0, dot) + "-" + number + "-" + video.substr(dot + 1) + ".png");
  }
  return names;
}

std::vector<RgbImage> decode_all(const VideoSource& source, const DecodeLimits& limits = {},
                                 int threads = 1) {
  std::vector<RgbImage> frames;
  decode_video(source, limits, threads, [&](int64_t i, const RgbImage& f) {
    REQUIRE(i == int64_t(frames.size()));
    frames.push_back(f);
  });
  return frames;
}

std::string refusal(const VideoSource& source, const DecodeLimits& limits = {}, int threads = 1) {
  try {
    probe_video(source, limits, threads);
    decode_all(source, limits, threads);
  } catch (const Error& e) {
    return e.what();
  }
  FAIL("a video that should be refused decoded");
  return "";
}

VideoSource memory(const Bytes& bytes) {
  VideoSource s;
  s.bytes = bytes.data();
  s.size = bytes.size();
  return s;
}

FolderDatasetOptions quiet(int size) {
  FolderDatasetOptions o;
  o.image_size = size;
  o.progress = false;
  return o;
}

// A folder with one good video and every kind of bad one; `z.webm` (good) comes last.
void make_bad_folder(const TempDir& dir) {
  copy("fixtures/videos/clip.mp4", dir / "clip.mp4");
  Bytes cut = read_all("fixtures/videos/clip.mp4");  // moov first: the index survives the cut
  cut.resize(cut.size() * 2 / 3);
  testing::write_file(dir / "cut.mp4", cut);
  Bytes cut_mov = read_all("fixtures/video_kinds/room.mov");  // moov last: cut away
  cut_mov.resize(cut_mov.size() / 2);
  testing::write_file(dir / "cut.mov", cut_mov);
  testing::write_file(dir / "empty.avi", {});
  const std::string text = "a note, not a video\n";
  testing::write_file(dir / "notes.mpg", Bytes(text.begin(), text.end()));
  copy("fixtures/videos/walk.webm", dir / "z.webm");
}

}  // namespace

TEST_CASE("a folder of two videos is listed as lightly lists it") {
  const FolderListing listing = list_image_folder("fixtures/videos/");
  REQUIRE(listing.videos.size() == 2);
  CHECK(listing.class_names == std::vector<std::string>{"clip.mp4", "walk.webm"});
  std::vector<std::string> expected;
  std::vector<int64_t> labels;
  for (size_t v = 0; v < listing.videos.size(); ++v) {
    const VideoEntry& video = listing.videos[v];
    CHECK(video.error.empty());
    CHECK(video.first == expected.size());
    CHECK(video.frames == reference("videos/" + video.name).size(0));
    for (const std::string& n : lightly_names(video.name, video.frames)) {
      expected.push_back(n);
      labels.push_back(int64_t(v));
    }
  }
  CHECK(listing.filenames == expected);  // 12 frames: clip-00-mp4.png; 7: walk-0-webm.png
  CHECK(listing.filenames.front() == "clip-00-mp4.png");
  CHECK(listing.filenames.back() == "walk-6-webm.png");
  CHECK(listing.labels == labels);
  // What lightly's LightlyDataset wrote for this folder.
  CHECK(listing.filenames == json_strings("lightly_names_pair"));
  const nlohmann::json labels_json =
      nlohmann::json::parse(golden().metadata.at("lightly_labels_pair"));
  std::vector<int64_t> lightly_labels;
  for (const nlohmann::json& j : labels_json) lightly_labels.push_back(j.get<int64_t>());
  CHECK(listing.labels == lightly_labels);
  CHECK(listing.path(0) == "fixtures/videos/clip.mp4");
  CHECK(listing.path(listing.size() - 1) == "fixtures/videos/walk.webm");
}

TEST_CASE("a folder holding videos anywhere uses only its videos, found recursively") {
  TempDir dir;
  // The layout data_video.py gave lightly.
  copy("fixtures/videos/clip.mp4", dir / "clip.mp4");
  copy("fixtures/videos/walk.webm", dir / "sub/deeper/walk.WEBM");
  copy("fixtures/video_kinds/scene.avi", dir / "sub/scene.avi");
  testing::write_file(dir / "photo.png",
                      testing::encode_png(4, 4, 2, 8, testing::smooth_rgb(4, 4)));
  testing::write_file(dir / "sub/other.jpg", {1, 2, 3});
  CHECK(folder_holds_videos(dir.path()));
  const FolderListing listing = list_image_folder(dir.path());
  CHECK(listing.filenames == json_strings("lightly_names_mixed"));
  CHECK(listing.class_names ==
        std::vector<std::string>{"clip.mp4", "sub/deeper/walk.WEBM", "sub/scene.avi"});
  CHECK(listing.filenames[12] == "sub/deeper/walk-0-WEBM.png");
  CHECK(listing.labels.back() == 2);
  SUBCASE("hidden files and links to folders are passed over; links to files are followed") {
    copy("fixtures/videos/clip.mp4", dir / ".hidden.mp4");
    copy("fixtures/videos/clip.mp4", dir / ".cache/clip.mp4");
    const std::string kinds = std::filesystem::absolute("fixtures/video_kinds").string();
    REQUIRE(symlink(kinds.c_str(), (dir / "linked").c_str()) == 0);
    const std::string room = std::filesystem::absolute("fixtures/video_kinds/room.mov").string();
    REQUIRE(symlink(room.c_str(), (dir / "sub/alias.mov").c_str()) == 0);
    const FolderListing more = list_image_folder(dir.path());
    CHECK(more.class_names == std::vector<std::string>{"clip.mp4", "sub/alias.mov",
                                                       "sub/deeper/walk.WEBM", "sub/scene.avi"});
    CHECK(more.filenames[12] == "sub/alias-0-mov.png");
  }
  SUBCASE("a folder of images only is not a video folder") {
    TempDir images;
    testing::write_file(images / "a.png",
                        testing::encode_png(4, 4, 2, 8, testing::smooth_rgb(4, 4)));
    testing::write_file(images / "readme.txt", {1});
    CHECK_FALSE(folder_holds_videos(images.path()));
    CHECK(list_image_folder(images.path()).videos.empty());
  }
  CHECK(has_video_extension("x.MPEG"));
  CHECK(has_video_extension("a.b.hevc"));
  CHECK_FALSE(has_video_extension("mp4"));
  CHECK_FALSE(has_video_extension("x.mkv"));
}

TEST_CASE("every committed video decodes to ffmpeg's frames, from a file and from memory") {
  const std::vector<std::string> videos = committed_videos();
  REQUIRE(videos.size() == 9);
  for (const std::string& video : videos) {
    CAPTURE(video);
    const Tensor want = reference(video);
    const std::string path = "fixtures/" + video;
    const VideoInfo info = probe_video({path});
    CHECK(info.frames == want.size(0));
    CHECK(info.width == want.size(2));
    CHECK(info.height == want.size(1));
    // MP4/MOV/M4V are counted from their sample table (the trimmed one's edit list drops 3 of
    // its 10 samples), everything else by decoding.
    const std::string ext = video.substr(video.rfind('.') + 1);
    CHECK(info.counted == !(ext == "mp4" || ext == "mov" || ext == "m4v"));
    const Bytes bytes = read_all(path);
    for (const VideoSource& source : {VideoSource{path}, memory(bytes)}) {
      const std::vector<RgbImage> frames = decode_all(source);
      REQUIRE(int64_t(frames.size()) == want.size(0));
      const size_t frame_bytes = size_t(want.numel() / want.size(0));
      for (size_t f = 0; f < frames.size(); ++f) {
        CAPTURE(f);
        REQUIRE(frames[f].width == want.size(2));
        REQUIRE(frames[f].height == want.size(1));
        const uint8_t* expected = want.data<uint8_t>() + f * frame_bytes;
        // Same swscale conversion as ffmpeg's (and torchvision's): byte for byte, the last
        // columns of widths that are not a multiple of 16 included (room.mov is 34 wide).
        CHECK(std::equal(frames[f].pixels.begin(), frames[f].pixels.end(), expected));
      }
    }
  }
  SUBCASE("decoder threads give the same frames") {
    const std::vector<RgbImage> one = decode_all({"fixtures/videos/clip.mp4"}, {}, 1);
    const std::vector<RgbImage> four = decode_all({"fixtures/videos/clip.mp4"}, {}, 4);
    REQUIRE(one.size() == four.size());
    for (size_t f = 0; f < one.size(); ++f) CHECK(one[f].pixels == four[f].pixels);
  }
}

TEST_CASE("frames go through the image cache, resized like images, in memory and as a file") {
  const int s = 16;
  const FolderDataset loaded = load_image_folder("fixtures/videos", quiet(s));
  const ImageDataset& d = loaded.dataset;
  REQUIRE(d.size() == 19);
  CHECK(d.filenames == json_strings("lightly_names_pair"));
  CHECK(d.class_names == std::vector<std::string>{"clip.mp4", "walk.webm"});
  std::vector<uint8_t> want(size_t(s) * s * 3);
  int64_t i = 0;
  for (const std::string& video : {"videos/clip.mp4", "videos/walk.webm"}) {
    const Tensor frames = reference(video);
    const int h = int(frames.size(1)), w = int(frames.size(2));
    for (int64_t f = 0; f < frames.size(0); ++f, ++i) {
      resize_shorter_and_center_crop(frames.data<uint8_t>() + size_t(f) * size_t(h * w * 3), w, h,
                                     want.data(), s);
      CHECK(std::equal(want.begin(), want.end(), d.image(i)));
      CHECK(d.labels[size_t(i)] == (video == std::string("videos/clip.mp4") ? 0 : 1));
    }
  }
  TempDir dir;
  FolderDatasetOptions options = quiet(s);
  options.cache_path = dir / "cache/frames.lumen";
  const FolderDataset built = load_image_folder("fixtures/videos", options);
  CHECK_FALSE(built.from_cache);
  const FolderDataset reused = load_image_folder("fixtures/videos", options);
  CHECK(reused.from_cache);
  REQUIRE(reused.dataset.size() == 19);
  CHECK(std::equal(d.image(0), d.image(0) + 19 * d.image_bytes(), reused.dataset.image(0)));
  CHECK(reused.dataset.filenames == d.filenames);
}

TEST_CASE("bad videos: named with their reason; skip leaves them out; labels keep their video") {
  TempDir dir;
  make_bad_folder(dir);
  const FolderListing listing = list_image_folder(dir.path());
  REQUIRE(listing.videos.size() == 6);
  std::map<std::string, std::string> listed;
  for (const VideoEntry& v : listing.videos) listed[v.name] = v.error;
  CHECK(contains(listed["cut.mov"], "moov atom not found"));
  CHECK(contains(listed["empty.avi"], "empty file"));
  CHECK(contains(listed["notes.mpg"], "not a video Lumen reads"));
  CHECK(listed["cut.mp4"].empty());  // its sample table survives: it fails when decoded
  // Frames of the last video keep its index (5) although three before it have no frames.
  CHECK(listing.labels.back() == 5);
  CHECK(listing.size() == 12 + 12 + 7);

  FolderDatasetOptions options = quiet(8);
  try {
    load_image_folder(dir.path(), options);
    FAIL("a folder with bad videos loaded with data.on_error=error");
  } catch (const Error& e) {
    const std::string why = e.what();
    CHECK(contains(why, "4 of 6 videos"));
    for (const char* name : {"cut.mp4: damaged", "cut.mov", "empty.avi", "notes.mpg"}) {
      CHECK_MESSAGE(contains(why, name), why);
    }
    CHECK(contains(why, "data.on_error=skip"));
  }
  options.on_error = OnBadFile::skip;
  options.cache_path = dir / "cache.lumen";
  for (int run = 0; run < 2; ++run) {  // built, then reused with the same bad videos
    CAPTURE(run);
    const FolderDataset skipped = load_image_folder(dir.path(), options);
    CHECK(skipped.from_cache == (run == 1));
    CHECK(skipped.dataset.size() == 12 + 7);
    CHECK(skipped.bad_files.size() == 4);
    CHECK(skipped.dataset.filenames.front() == "clip-00-mp4.png");
    CHECK(skipped.dataset.filenames.back() == "z-6-webm.png");
    CHECK(skipped.dataset.labels.back() == 5);
  }
  // A new unreadable video adds no frames, but the cache must not be reused without naming it.
  testing::write_file(dir / "zz.mp4", {'n', 'o', 'p', 'e'});  // last: no label moves
  const FolderDataset again = load_image_folder(dir.path(), options);
  CHECK_FALSE(again.from_cache);
  CHECK(again.bad_files.size() == 5);
  CHECK(again.dataset.size() == 12 + 7);
  const ImageCheck check = check_images(dir.path(), {}, /*progress=*/false);
  CHECK(check.healthy == std::vector<std::string>{"clip.mp4", "z.webm"});
  REQUIRE(check.corrupt.size() == 5);
  CHECK(check.corrupt[0].filename == "cut.mov");
  CHECK(check.corrupt[1].filename == "cut.mp4");
  CHECK(contains(check.corrupt[1].reason, "damaged video data"));
}

TEST_CASE("limits on frame size, frame count and duration") {
  DecodeLimits limits;
  limits.max_side = 16;
  CHECK(contains(refusal({"fixtures/videos/clip.mp4"}, limits), "too large: 32x24"));
  limits = {};
  limits.max_video_frames = 5;
  CHECK(contains(refusal({"fixtures/videos/clip.mp4"}, limits), "12 frames, more than"));
  CHECK(contains(refusal({"fixtures/videos/walk.webm"}, limits), "more than 5 frames"));
  limits = {};
  limits.max_video_seconds = 0.5;  // clip.mp4 lasts 1.2 s
  CHECK(contains(refusal({"fixtures/videos/clip.mp4"}, limits), "too long"));
  CHECK(contains(refusal({"fixtures/videos/walk.webm"}, limits), "too long"));
}

TEST_CASE("hostile bytes are refused with a reason: cut anywhere, flipped bytes, garbage") {
  SUBCASE("garbage after an MP4 signature, zero bytes") {
    Bytes garbage = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm'};
    for (int i = 0; i < 400; ++i) garbage.push_back(uint8_t(i * 131 + 17));
    CHECK(contains(refusal(memory(garbage)), "not a video Lumen reads"));
    CHECK(contains(refusal(memory(Bytes(1000, 0))), "not a video Lumen reads"));
    CHECK(contains(refusal(memory({})), "empty file"));
  }
  SUBCASE("every committed video cut at many points, and with bytes flipped") {
    int refused = 0, decoded = 0;
    for (const std::string& video : committed_videos()) {
      const Bytes whole = read_all("fixtures/" + video);
      for (size_t cut = 7; cut < whole.size(); cut += whole.size() / 23 + 1) {
        const Bytes part(whole.begin(), whole.begin() + ptrdiff_t(cut));
        try {
          probe_video(memory(part));
          decode_all(memory(part));
          ++decoded;
        } catch (const Error&) {
          ++refused;
        }
      }
      uint32_t state = 12345;
      for (int round = 0; round < 12; ++round) {
        Bytes flipped = whole;
        for (int k = 0; k < 4; ++k) {
          state = state * 1664525u + 1013904223u;
          flipped[state % flipped.size()] ^= uint8_t(1 + (state >> 24) % 255);
        }
        try {
          decode_all(memory(flipped));
          ++decoded;
        } catch (const Error&) {
          ++refused;
        }
      }
    }
    MESSAGE(refused << " damaged variants refused, " << decoded << " decoded");
    CHECK(refused > 200);
  }
}

TEST_CASE("FFmpeg's messages stay per decode: nothing on stderr, each thread its own reason") {
  TempDir dir;
  make_bad_folder(dir);
  const std::vector<std::string> bad = {dir / "cut.mp4", dir / "cut.mov", dir / "notes.mpg"};
  std::vector<std::string> expected;
  const std::string printed = testing::stderr_of([&] {
    for (const std::string& path : bad) expected.push_back(refusal({path}));
    // With decoder threads the decoder's messages come from FFmpeg's threads; which of the
    // demuxer's and the decoder's complaints comes first may then vary.
    const std::string threaded = refusal({bad[0]}, {}, /*threads=*/4);
    CHECK_MESSAGE(contains(threaded, "damaged video data ("), threaded);
  });
  CHECK_MESSAGE(printed.empty(), printed);
  CHECK(contains(expected[0], "damaged video data (h264: Invalid NAL unit size"));
  // Six threads decode bad and good videos at once: every reason is the single-thread one.
  std::vector<int> wrong(6, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (size_t k = 0; k < bad.size(); ++k) {
          const size_t i = (k + size_t(t)) % bad.size();
          wrong[size_t(t)] += refusal({bad[i]}) != expected[i];
          wrong[size_t(t)] += decode_all({"fixtures/videos/walk.webm"}, {}, 2).size() != 7;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < 6; ++t) CHECK(wrong[size_t(t)] == 0);
  // Messages of other FFmpeg users in the process still reach stderr as before.
  const std::string others = testing::stderr_of(
      [] { av_log(nullptr, AV_LOG_ERROR, "a message of another FFmpeg user\n"); });
  CHECK(contains(others, "a message of another FFmpeg user"));
}
