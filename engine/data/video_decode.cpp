#include "engine/data/video_decode.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "kernels/common.h"

namespace lumen::data {

bool has_video_extension(std::string_view filename) {
  const size_t dot = filename.rfind('.');
  if (dot == std::string_view::npos) return false;
  std::string ext(filename.substr(dot + 1));
  for (char& c : ext) c = char(std::tolower(static_cast<unsigned char>(c)));
  return ext == "mp4" || ext == "mov" || ext == "avi" || ext == "mpg" || ext == "hevc" ||
         ext == "m4v" || ext == "webm" || ext == "mpeg";
}

namespace {

using ::lumen::detail::concat;

// Demuxers (libavformat's names) and video codecs Lumen opens; see video_decode.h.
constexpr const char* kFormats = "mov,avi,mpeg,mpegts,mpegvideo,m4v,h264,hevc,matroska";
constexpr AVCodecID kCodecs[] = {AV_CODEC_ID_H264,       AV_CODEC_ID_HEVC,  AV_CODEC_ID_MPEG1VIDEO,
                                 AV_CODEC_ID_MPEG2VIDEO, AV_CODEC_ID_MPEG4, AV_CODEC_ID_H263,
                                 AV_CODEC_ID_VP8,        AV_CODEC_ID_VP9,   AV_CODEC_ID_AV1,
                                 AV_CODEC_ID_MJPEG,      AV_CODEC_ID_PRORES};
constexpr const char* kCodecNames =
    "H.264, HEVC, MPEG-1/2, MPEG-4, H.263, VP8, VP9, AV1, MJPEG, ProRes";
constexpr int kIoBufferBytes = 1 << 16;

std::string error_text(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {0};
  av_strerror(code, text, sizeof(text));
  return text;
}

// ---- FFmpeg's log messages, kept per decode -------------------------------------------------

// The messages of one decode. While it lives, messages logged on its thread, and messages of its
// codec context (whose opaque points here) from FFmpeg's decoder threads, come here.
class LogCapture {
 public:
  LogCapture();
  ~LogCapture();
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  void add(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (first_error_.empty()) first_error_ = message;
    if (strict_ && failure_.empty()) failure_ = message;
  }
  // From now on an error message makes the decode fail (packets are being read and decoded).
  void set_strict() {
    std::lock_guard<std::mutex> lock(mutex_);
    strict_ = true;
  }
  std::string first_error() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_error_;
  }
  std::string failure() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
  }

 private:
  mutable std::mutex mutex_;
  std::string first_error_;  // the first error message
  std::string failure_;      // the first error message logged in strict mode
  bool strict_ = false;
  LogCapture* outer_;  // the thread's capture before this one
};

thread_local LogCapture* t_capture = nullptr;

// The live captures, for messages from decoder threads (found through the codec context's opaque;
// compared as pointers, never dereferenced unless registered).
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}
std::unordered_set<const void*>& registry() {
  static std::unordered_set<const void*> r;
  return r;
}

LogCapture::LogCapture() : outer_(t_capture) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    registry().insert(this);
  }
  t_capture = this;
}

LogCapture::~LogCapture() {
  t_capture = outer_;
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(this);
}

LogCapture* capture_for(void* context) {
  if (t_capture) return t_capture;
  if (!context) return nullptr;
  const AVClass* cls = *static_cast<const AVClass* const*>(context);
  if (cls != avcodec_get_class()) return nullptr;
  void* opaque = static_cast<AVCodecContext*>(context)->opaque;
  std::lock_guard<std::mutex> lock(registry_mutex());
  return registry().count(opaque) ? static_cast<LogCapture*>(opaque) : nullptr;
}

void log_callback(void* context, int level, const char* format, va_list args) {
  LogCapture* capture = capture_for(context);
  if (!capture) {  // not one of Lumen's decodes: FFmpeg's usual behaviour
    av_log_default_callback(context, level, format, args);
    return;
  }
  if (level > AV_LOG_ERROR) return;  // warnings and information are dropped
  char text[512];
  std::vsnprintf(text, sizeof(text), format, args);
  std::string message = text;
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.pop_back();
  const AVClass* cls = context ? *static_cast<const AVClass* const*>(context) : nullptr;
  const char* item = cls && cls->item_name ? cls->item_name(context) : nullptr;
  if (item && std::strcmp(item, "NULL") != 0) message = std::string(item) + ": " + message;
  capture->add(message);
}

void install_log_callback() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(log_callback); });
}

// ---- input: the file or the memory, through Lumen's callbacks -------------------------------

struct Input {
  int fd = -1;
  const uint8_t* bytes = nullptr;
  int64_t size = 0;
  int64_t at = 0;  // memory only
  ~Input() {
    if (fd >= 0) close(fd);
  }
};

int read_input(void* opaque, uint8_t* buffer, int n) {
  auto* in = static_cast<Input*>(opaque);
  if (in->fd >= 0) {
    ssize_t got;
    do {
      got = read(in->fd, buffer, size_t(n));
    } while (got < 0 && errno == EINTR);
    if (got < 0) return AVERROR(errno);
    return got == 0 ? AVERROR_EOF : int(got);
  }
  const int64_t take = std::min<int64_t>(n, in->size - in->at);
  if (take <= 0) return AVERROR_EOF;
  std::memcpy(buffer, in->bytes + in->at, size_t(take));
  in->at += take;
  return int(take);
}

int64_t seek_input(void* opaque, int64_t offset, int whence) {
  auto* in = static_cast<Input*>(opaque);
  whence &= ~AVSEEK_FORCE;
  if (whence == AVSEEK_SIZE) return in->size;
  if (in->fd >= 0) {
    const off_t at = lseek(in->fd, off_t(offset), whence);
    return at < 0 ? AVERROR(errno) : int64_t(at);
  }
  const int64_t base = whence == SEEK_CUR ? in->at : whence == SEEK_END ? in->size : 0;
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return AVERROR(EINVAL);
  if (offset < -base || offset > INT64_MAX - base) return AVERROR(EINVAL);
  in->at = base + offset;
  return in->at;
}

// Demuxers that would open other files (MOV data references, playlists) are refused that.
int refuse_nested_open(AVFormatContext*, AVIOContext**, const char* url, int, AVDictionary**) {
  return AVERROR(EPERM);
}

// The decoder names of kCodecs in this FFmpeg build, for the demuxer's codec whitelist.
const std::string& decoder_names() {
  static const std::string names = [] {
    std::string out;
    for (AVCodecID id : kCodecs) {
      if (const AVCodec* codec = avcodec_find_decoder(id))
        out += (out.empty() ? "" : ",") + std::string(codec->name);
    }
    return out;
  }();
  return names;
}

struct IoDeleter {
  void operator()(AVIOContext* io) const {
    av_freep(&io->buffer);
    avio_context_free(&io);
  }
};
struct FormatDeleter {
  void operator()(AVFormatContext* f) const { avformat_close_input(&f); }
};
struct CodecDeleter {
  void operator()(AVCodecContext* c) const { avcodec_free_context(&c); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* f) const { av_frame_free(&f); }
};
struct SwsDeleter {
  void operator()(SwsContext* s) const { sws_freeContext(s); }
};

// One open video: its first video stream, decoded frame after frame.
class VideoReader {
 public:
  VideoReader(const VideoSource& source, const DecodeLimits& limits, int threads, bool counting);

  // Decodes the next frame (presentation order); false after the last one.
  bool next();
  // The frame last decoded, as RGB8 at its own size.
  void to_rgb(RgbImage* out);
  // The frame count from an MP4/MOV sample table (entries an edit list drops left out), or -1.
  int64_t indexed_frames() const;
  int width() const { return codec_->width; }
  int height() const { return codec_->height; }
  std::string codec_name() const { return codec_->codec->name; }

 private:
  [[noreturn]] void fail(const std::string& what, int code = 0) const;
  void check_frame();

  LogCapture log_;  // first member: outlives the decoder threads
  DecodeLimits limits_;
  Input input_;
  std::unique_ptr<AVIOContext, IoDeleter> io_;
  std::unique_ptr<AVFormatContext, FormatDeleter> format_;
  std::unique_ptr<AVCodecContext, CodecDeleter> codec_;
  std::unique_ptr<AVPacket, PacketDeleter> packet_;
  std::unique_ptr<AVFrame, FrameDeleter> frame_;
  std::unique_ptr<SwsContext, SwsDeleter> sws_;
  std::vector<uint8_t> padded_[4];  // planes padded to whole 16-pixel blocks (see to_rgb)
  std::vector<uint8_t> rgb_;        // the conversion's output, with slack
  int stream_ = -1;
  bool flushed_ = false;
  int64_t decoded_ = 0;
  int64_t first_pts_ = AV_NOPTS_VALUE;
};

void VideoReader::fail(const std::string& what, int code) const {
  std::string why = log_.failure();
  if (why.empty()) why = log_.first_error();
  if (why.empty() && code != 0) why = error_text(code);
  throw Error(why.empty() ? what : what + " (" + why + ")");
}

VideoReader::VideoReader(const VideoSource& source, const DecodeLimits& limits, int threads,
                         bool counting)
    : limits_(limits) {
  install_log_callback();
  if (!source.path.empty()) {
    input_.fd = open(source.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (input_.fd < 0) throw Error(concat("cannot open: ", std::strerror(errno)));
    struct stat st;
    if (fstat(input_.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      throw Error("cannot read: not a regular file");
    }
    input_.size = int64_t(st.st_size);
  } else {
    input_.bytes = source.bytes;
    input_.size = int64_t(source.size);
  }
  if (input_.size == 0) throw Error("empty file (0 bytes)");

  auto* buffer = static_cast<uint8_t*>(av_malloc(kIoBufferBytes));
  AVIOContext* io = buffer ? avio_alloc_context(buffer, kIoBufferBytes, 0, &input_, read_input,
                                                nullptr, seek_input)
                           : nullptr;
  if (!io) {
    av_free(buffer);
    throw Error("cannot set up the video reader (out of memory)");
  }
  io_.reset(io);
  AVFormatContext* format = avformat_alloc_context();
  if (!format) throw Error("cannot set up the video reader (out of memory)");
  format->pb = io;
  format->flags |= AVFMT_FLAG_CUSTOM_IO;
  format->io_open = refuse_nested_open;
  format->format_whitelist = av_strdup(kFormats);
  format->codec_whitelist = av_strdup(decoder_names().c_str());
  const std::string url = source.path.empty() ? "memory" : source.path;  // for probing by name
  int rc = avformat_open_input(&format, url.c_str(), nullptr, nullptr);  // frees it on failure
  if (rc < 0)
    fail("not a video Lumen reads (MP4, MOV, AVI, MPEG, WebM/Matroska, HEVC), or damaged", rc);
  format_.reset(format);
  rc = avformat_find_stream_info(format, nullptr);
  if (rc < 0) fail("damaged video (its streams cannot be read)", rc);

  for (unsigned i = 0; i < format->nb_streams; ++i) {
    const AVStream* st = format->streams[i];
    if (stream_ < 0 && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
        !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      stream_ = int(i);
    } else {
      format->streams[i]->discard = AVDISCARD_ALL;
    }
  }
  if (stream_ < 0) throw Error("no video stream (audio only, or not a video)");
  AVStream* stream = format->streams[stream_];
  const AVCodecParameters* par = stream->codecpar;
  const bool allowed =
      std::find(std::begin(kCodecs), std::end(kCodecs), par->codec_id) != std::end(kCodecs);
  if (!allowed) {
    throw Error(concat("video codec '", avcodec_get_name(par->codec_id), "' is not supported (",
                       kCodecNames, " are)"));
  }
  const AVCodec* decoder = avcodec_find_decoder(par->codec_id);
  if (!decoder) {
    throw Error(concat("this FFmpeg has no decoder for '", avcodec_get_name(par->codec_id), "'"));
  }
  detail::check_dimensions(par->width, par->height, limits_);
  if (format->duration != AV_NOPTS_VALUE &&
      double(format->duration) / AV_TIME_BASE > limits_.max_video_seconds) {
    throw Error(concat("video too long: ", double(format->duration) / AV_TIME_BASE, " s (limit ",
                       limits_.max_video_seconds, " s)"));
  }

  codec_.reset(avcodec_alloc_context3(decoder));
  if (!codec_) throw Error("cannot set up the video decoder (out of memory)");
  rc = avcodec_parameters_to_context(codec_.get(), par);
  if (rc < 0) fail("damaged video (bad codec parameters)", rc);
  codec_->opaque = &log_;
  codec_->pkt_timebase = stream->time_base;
  codec_->thread_count = threads;
  codec_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
  codec_->max_pixels = limits_.max_pixels;
  if (counting) codec_->skip_loop_filter = AVDISCARD_ALL;  // frames are counted, not looked at
  rc = avcodec_open2(codec_.get(), decoder, nullptr);
  if (rc < 0) fail(concat("cannot open the ", decoder->name, " decoder"), rc);
  packet_.reset(av_packet_alloc());
  frame_.reset(av_frame_alloc());
  if (!packet_ || !frame_) throw Error("cannot set up the video decoder (out of memory)");
}

int64_t VideoReader::indexed_frames() const {
  if (std::strcmp(format_->iformat->name, "mov,mp4,m4a,3gp,3g2,mj2") != 0) return -1;
  AVStream* stream = format_->streams[stream_];
  const int entries = avformat_index_get_entries_count(stream);
  // Fragmented MP4 indexes fragments as it reads them: trust only a complete sample table.
  if (entries <= 0 || stream->nb_frames != entries) return -1;
  int64_t kept = 0;
  for (int i = 0; i < entries; ++i) {
    kept += !(avformat_index_get_entry(stream, i)->flags & AVINDEX_DISCARD_FRAME);
  }
  return kept;
}

void VideoReader::check_frame() {
  detail::check_dimensions(frame_->width, frame_->height, limits_);
  if (decoded_ >= limits_.max_video_frames) {
    throw Error(concat("video has more than ", limits_.max_video_frames,
                       " frames (the limit); cut it or leave it out"));
  }
  const int64_t pts = frame_->best_effort_timestamp;
  if (pts == AV_NOPTS_VALUE) return;
  if (first_pts_ == AV_NOPTS_VALUE) first_pts_ = pts;
  const double seconds = double(pts - first_pts_) * av_q2d(format_->streams[stream_]->time_base);
  if (seconds > limits_.max_video_seconds) {
    throw Error(concat("video too long: a frame at ", seconds, " s (limit ",
                       limits_.max_video_seconds, " s)"));
  }
}

bool VideoReader::next() {
  log_.set_strict();
  for (;;) {
    int rc = avcodec_receive_frame(codec_.get(), frame_.get());
    if (rc == 0) {
      if (!log_.failure().empty()) fail("damaged video data");
      check_frame();
      ++decoded_;
      return true;
    }
    if (rc == AVERROR_EOF) {
      if (!log_.failure().empty()) fail("damaged video data");
      return false;
    }
    if (rc != AVERROR(EAGAIN) || flushed_) fail("damaged video data", rc);
    rc = av_read_frame(format_.get(), packet_.get());
    if (rc == AVERROR_EOF) {
      avcodec_send_packet(codec_.get(), nullptr);  // drain the decoder's delayed frames
      flushed_ = true;
      continue;
    }
    if (rc < 0) fail("damaged or truncated video", rc);
    if (packet_->stream_index == stream_) rc = avcodec_send_packet(codec_.get(), packet_.get());
    av_packet_unref(packet_.get());
    if (rc < 0 && rc != AVERROR(EAGAIN)) fail("damaged video data", rc);
    if (!log_.failure().empty()) fail("damaged video data");
  }
}

// swscale's unscaled YUV -> RGB24 fast path (SIMD; what torchvision's reader gets) converts rows
// 16 pixels at a time: for other widths it leaves the last columns unconverted (zeros, or stale
// memory in torchvision's buffers) and can write up to 8 pixels past a row. For its formats the
// frame is converted padded to a multiple of 16 columns (the last column repeated), which gives
// the same values as the fast path everywhere else; and the output always has slack at its end.
bool fast_path_format(AVPixelFormat format) {
  return format == AV_PIX_FMT_YUV420P || format == AV_PIX_FMT_YUVJ420P ||
         format == AV_PIX_FMT_YUV422P || format == AV_PIX_FMT_YUVJ422P ||
         format == AV_PIX_FMT_YUVA420P;
}
constexpr size_t kRgbSlack = 64 * 3;

void VideoReader::to_rgb(RgbImage* out) {
  const int w = frame_->width, h = frame_->height;
  const AVPixelFormat format = AVPixelFormat(frame_->format);
  const bool pad = w % 16 != 0 && fast_path_format(format);
  const int cw = pad ? (w + 15) / 16 * 16 : w;
  const uint8_t* source[4] = {frame_->data[0], frame_->data[1], frame_->data[2], frame_->data[3]};
  int source_lines[4] = {frame_->linesize[0], frame_->linesize[1], frame_->linesize[2],
                         frame_->linesize[3]};
  if (pad) {
    const AVPixFmtDescriptor* desc = av_pix_fmt_desc_get(format);
    for (int p = 0; p < 4 && frame_->data[p]; ++p) {
      const bool chroma = p == 1 || p == 2;
      const int real = AV_CEIL_RSHIFT(w, chroma ? desc->log2_chroma_w : 0);
      const int padded = AV_CEIL_RSHIFT(cw, chroma ? desc->log2_chroma_w : 0);
      const int rows = AV_CEIL_RSHIFT(h, chroma ? desc->log2_chroma_h : 0);
      padded_[size_t(p)].resize(size_t(padded) * size_t(rows));
      for (int y = 0; y < rows; ++y) {
        const uint8_t* from = frame_->data[p] + ptrdiff_t(y) * frame_->linesize[p];
        uint8_t* to = padded_[size_t(p)].data() + size_t(y) * size_t(padded);
        std::memcpy(to, from, size_t(real));
        std::memset(to + real, from[real - 1], size_t(padded - real));
      }
      source[p] = padded_[size_t(p)].data();
      source_lines[p] = padded;
    }
  }
  // torchvision's video reader: SWS_AREA, swscale's default coefficients.
  sws_.reset(sws_getCachedContext(sws_.release(), cw, h, format, cw, h, AV_PIX_FMT_RGB24, SWS_AREA,
                                  nullptr, nullptr, nullptr));
  if (!sws_) {
    const char* name = av_get_pix_fmt_name(format);
    throw Error(
        concat("cannot convert video frames of pixel format ", name ? name : "unknown", " to RGB"));
  }
  rgb_.resize(size_t(cw) * size_t(h) * 3 + kRgbSlack);
  uint8_t* planes[4] = {rgb_.data(), nullptr, nullptr, nullptr};
  const int strides[4] = {cw * 3, 0, 0, 0};
  if (sws_scale(sws_.get(), source, source_lines, 0, h, planes, strides) != h) {
    fail("cannot convert a video frame to RGB");
  }
  out->width = w;
  out->height = h;
  out->pixels.resize(size_t(w) * size_t(h) * 3);
  for (int y = 0; y < h; ++y) {
    std::memcpy(out->pixels.data() + size_t(y) * size_t(w) * 3,
                rgb_.data() + size_t(y) * size_t(cw) * 3, size_t(w) * 3);
  }
}

}  // namespace

VideoInfo probe_video(const VideoSource& source, const DecodeLimits& limits, int threads) {
  VideoReader reader(source, limits, threads, /*counting=*/true);
  VideoInfo info;
  info.width = reader.width();
  info.height = reader.height();
  info.codec = reader.codec_name();
  info.frames = reader.indexed_frames();
  if (info.frames < 0) {
    info.counted = true;
    info.frames = 0;
    while (reader.next()) ++info.frames;
  }
  if (info.frames == 0) throw Error("video has no frames");
  if (info.frames > limits.max_video_frames) {
    throw Error(concat("video has ", info.frames, " frames, more than the limit of ",
                       limits.max_video_frames, "; cut it or leave it out"));
  }
  return info;
}

int64_t decode_video(const VideoSource& source, const DecodeLimits& limits, int threads,
                     const std::function<void(int64_t index, const RgbImage& frame)>& on_frame) {
  VideoReader reader(source, limits, threads, /*counting=*/false);
  RgbImage frame;
  int64_t count = 0;
  while (reader.next()) {
    reader.to_rgb(&frame);
    on_frame(count++, frame);
  }
  return count;
}

}  // namespace lumen::data
