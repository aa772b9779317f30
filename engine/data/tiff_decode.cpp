// TIFF decoding through libtiff: the first image of the file (later pages are ignored, as PIL's
// Image.open reads the first frame), strips or tiles, contiguous or planar samples, any compression
// this libtiff was built with except old-style JPEG. libtiff undoes the compression, predictor,
// fill order and byte order; the samples are then turned into RGB8 the way PIL's TIFF reader and
// convert("RGB") do:
//   gray 1/2/4/8-bit    v scaled to 0..255 (v * 255, 85, 17, 1); MinIsWhite inverted
//   gray 16-bit         min(v, 255), MinIsWhite not inverted: PIL's I;16 -> RGB conversion clips
//   palette 1/2/4/8-bit the colour map entry's high byte
//   RGB 8/16-bit        the samples (16-bit: high byte); extra samples dropped, except that
//                       associated (premultiplied) alpha is divided out: v * 255 / a, truncated
//   CMYK 8/16-bit       PIL's cmyk2rgb: (255 - K) - C * (255 - K) / 255, rounded as PIL does
//   YCbCr               only JPEG-compressed, which libjpeg turns into RGB (JPEGCOLORMODE_RGB)
// Everything else (floating-point or signed samples, 12-bit, CIE L*a*b*, LogLuv, ...) is refused
// with its name. Width, height and tile size are checked against the limits before any pixel data
// is read.
//
// libtiff reports problems through handlers that this file installs per TIFF handle
// (TIFFOpenOptions), so concurrent decodes share no state and nothing reaches stderr. Errors make
// the file bad; warnings are ignored while the header is read (unknown tags and the like) but make
// the file bad when they arrive while pixel data is decoded (premature end of a JPEG strip, ...),
// as the JPEG decoder treats libjpeg's warnings.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/image_decode.h"
#include "kernels/common.h"

namespace lumen::data::detail {

namespace {

// The largest single allocation libtiff may make for one file (its strip and codec buffers).
constexpr tmsize_t kMaxLibtiffAllocation = tmsize_t(512) << 20;

struct TiffMessages {
  std::string error;          // the first error
  std::string pixel_warning;  // the first warning raised while pixel data was decoded
  bool reading_pixels = false;
};

std::string format_message(const char* module, const char* format, va_list args) {
  char text[512];
  std::vsnprintf(text, sizeof(text), format, args);
  return module && *module ? std::string(module) + ": " + text : std::string(text);
}

int on_error(TIFF*, void* user, const char* module, const char* format, va_list args) {
  auto* messages = static_cast<TiffMessages*>(user);
  if (messages->error.empty()) messages->error = format_message(module, format, args);
  return 1;  // handled: libtiff's process-wide handlers (which print to stderr) are not called
}

int on_warning(TIFF*, void* user, const char* module, const char* format, va_list args) {
  auto* messages = static_cast<TiffMessages*>(user);
  if (messages->reading_pixels && messages->pixel_warning.empty()) {
    messages->pixel_warning = format_message(module, format, args);
  }
  return 1;
}

// The bytes libtiff reads, through its client I/O callbacks.
struct MemoryFile {
  const uint8_t* bytes;
  uint64_t size;
  uint64_t at = 0;
};

tmsize_t read_memory(thandle_t handle, void* buffer, tmsize_t n) {
  auto* file = static_cast<MemoryFile*>(handle);
  if (n < 0) return -1;
  const uint64_t left = file->at < file->size ? file->size - file->at : 0;
  const uint64_t take = std::min<uint64_t>(uint64_t(n), left);
  if (take > 0) std::memcpy(buffer, file->bytes + file->at, size_t(take));
  file->at += take;
  return tmsize_t(take);
}

tmsize_t write_memory(thandle_t, void*, tmsize_t) { return -1; }

toff_t seek_memory(thandle_t handle, toff_t offset, int whence) {
  auto* file = static_cast<MemoryFile*>(handle);
  const uint64_t base = whence == SEEK_CUR ? file->at : whence == SEEK_END ? file->size : 0;
  file->at = base + offset;  // unsigned wrap-around gives SEEK_CUR/SEEK_END negative offsets
  return file->at;
}

int close_memory(thandle_t) { return 0; }
toff_t size_memory(thandle_t handle) { return static_cast<MemoryFile*>(handle)->size; }
int map_memory(thandle_t, void**, toff_t*) { return 0; }  // no mapping: libtiff reads copies
void unmap_memory(thandle_t, void*, toff_t) {}

struct TiffCloser {
  void operator()(TIFF* tif) const { TIFFClose(tif); }
};
struct OptionsFreer {
  void operator()(TIFFOpenOptions* options) const { TIFFOpenOptionsFree(options); }
};

std::unique_ptr<TIFF, TiffCloser> open_tiff(MemoryFile* file, TiffMessages* messages) {
  std::unique_ptr<TIFFOpenOptions, OptionsFreer> options(TIFFOpenOptionsAlloc());
  if (!options) throw Error("cannot set up the TIFF decoder (out of memory)");
  TIFFOpenOptionsSetErrorHandlerExtR(options.get(), on_error, messages);
  TIFFOpenOptionsSetWarningHandlerExtR(options.get(), on_warning, messages);
  TIFFOpenOptionsSetMaxSingleMemAlloc(options.get(), kMaxLibtiffAllocation);
  // "m": no memory mapping; the handle copies the handlers and limit, so options may go now.
  return std::unique_ptr<TIFF, TiffCloser>(
      TIFFClientOpenExt("TIFF", "rm", file, read_memory, write_memory, seek_memory, close_memory,
                        size_memory, map_memory, unmap_memory, options.get()));
}

enum class Kind { gray, palette, rgb, cmyk };

struct Layout {
  Kind kind = Kind::gray;
  int bits = 8;                // per sample: 1, 2, 4 (gray, palette), 8 or 16
  int samples = 1;             // per pixel, extra samples included
  bool separate = false;       // one plane per sample (PlanarConfiguration 2)
  bool inverted = false;       // MinIsWhite, below 16 bits
  bool premultiplied = false;  // the first extra sample is associated alpha
  const uint16_t* colormap[3] = {nullptr, nullptr, nullptr};
};

std::string photometric_name(uint16_t photometric) {
  switch (photometric) {
    case PHOTOMETRIC_MASK:
      return "transparency mask";
    case PHOTOMETRIC_CIELAB:
    case PHOTOMETRIC_ICCLAB:
    case PHOTOMETRIC_ITULAB:
      return "CIE L*a*b*";
    case PHOTOMETRIC_CFA:
      return "colour filter array (raw sensor)";
    case PHOTOMETRIC_LOGL:
    case PHOTOMETRIC_LOGLUV:
      return "LogLuv";
    default:
      return ::lumen::detail::concat("photometric interpretation ", photometric);
  }
}

// Reads the tags that say how the samples are laid out; refuses what is not supported. May set
// JPEGCOLORMODE so that libjpeg hands YCbCr strips over as RGB.
Layout read_layout(TIFF* tif) {
  uint16_t bits = 1, samples = 1, planar = PLANARCONFIG_CONTIG, format = SAMPLEFORMAT_UINT;
  uint16_t compression = COMPRESSION_NONE, photometric = 0, extra_count = 0, inkset = INKSET_CMYK;
  uint16_t* extra_types = nullptr;
  uint32_t depth = 1;
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetFieldDefaulted(tif, TIFFTAG_EXTRASAMPLES, &extra_count, &extra_types);
  TIFFGetFieldDefaulted(tif, TIFFTAG_INKSET, &inkset);
  TIFFGetFieldDefaulted(tif, TIFFTAG_IMAGEDEPTH, &depth);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric)) {
    throw Error("corrupt TIFF (no PhotometricInterpretation tag)");
  }
  if (compression == COMPRESSION_OJPEG) {
    throw Error("old-style JPEG TIFF (compression 6) is not supported; re-save it");
  }
  if (!TIFFIsCODECConfigured(compression)) {
    throw Error(::lumen::detail::concat("TIFF compression scheme ", compression,
                                        " is not supported by this libtiff"));
  }
  if (format != SAMPLEFORMAT_UINT) {
    throw Error(
        "TIFF with signed or floating-point samples is not supported (only unsigned "
        "integers)");
  }
  if (depth != 1) throw Error("TIFF volumes (ImageDepth > 1) are not supported");
  if (samples < 1) throw Error("corrupt TIFF (no samples per pixel)");
  Layout layout;
  layout.bits = bits;
  layout.samples = samples;
  layout.separate = planar == PLANARCONFIG_SEPARATE && samples > 1;
  layout.premultiplied = extra_count > 0 && extra_types && extra_types[0] == EXTRASAMPLE_ASSOCALPHA;
  const bool low_bits = bits == 1 || bits == 2 || bits == 4;
  auto need = [&](bool ok, const char* what) {
    if (!ok) {
      throw Error(::lumen::detail::concat(what, " TIFF with ", bits, "-bit samples and ", samples,
                                          " samples per pixel is not supported"));
    }
  };
  switch (photometric) {
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_MINISBLACK:
      need((low_bits && samples == 1) || bits == 8 || bits == 16, "grayscale");
      layout.kind = Kind::gray;
      layout.inverted = photometric == PHOTOMETRIC_MINISWHITE && bits < 16;
      break;
    case PHOTOMETRIC_PALETTE: {
      need((low_bits || bits == 8) && samples == 1, "palette");
      layout.kind = Kind::palette;
      uint16_t *red = nullptr, *green = nullptr, *blue = nullptr;
      if (!TIFFGetField(tif, TIFFTAG_COLORMAP, &red, &green, &blue) || !red || !green || !blue) {
        throw Error("corrupt palette TIFF (no colour map)");
      }
      layout.colormap[0] = red;
      layout.colormap[1] = green;
      layout.colormap[2] = blue;
      break;
    }
    case PHOTOMETRIC_RGB:
      need((bits == 8 || bits == 16) && samples >= 3, "RGB");
      layout.kind = Kind::rgb;
      break;
    case PHOTOMETRIC_SEPARATED:
      if (inkset != INKSET_CMYK) throw Error("TIFF with inks other than CMYK is not supported");
      need((bits == 8 || bits == 16) && samples >= 4, "CMYK");
      layout.kind = Kind::cmyk;
      break;
    case PHOTOMETRIC_YCBCR:
      if (compression != COMPRESSION_JPEG) {
        throw Error("YCbCr TIFF is supported only with JPEG compression");
      }
      need(bits == 8 && samples == 3, "YCbCr");
      if (!TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB)) {
        throw Error("corrupt JPEG-compressed TIFF (cannot decode it to RGB)");
      }
      layout.kind = Kind::rgb;
      break;
    default:
      throw Error(photometric_name(photometric) + " TIFF is not supported");
  }
  return layout;
}

uint8_t clip8(int v) { return uint8_t(v < 0 ? 0 : v > 255 ? 255 : v); }

// PIL's MULDIV255: a * b / 255 rounded.
int muldiv255(int a, int b) {
  const int t = a * b + 128;
  return ((t >> 8) + t) >> 8;
}

// PIL's unpacking of premultiplied samples ("RGBa"): v * 255 / a, truncated.
uint8_t unpremultiply(int v, int a) {
  if (a == 0) return 0;
  if (a == 255) return uint8_t(v);
  return clip8(v * 255 / a);
}

// Turns one row of `count` pixels into RGB8. planes[0] holds the row when samples are contiguous;
// planes[s] holds sample s when they are separate. 16-bit samples are in native byte order.
class RowConverter {
 public:
  explicit RowConverter(const Layout& layout) : l_(layout) {}

  void convert(const uint8_t* const* planes, size_t count, uint8_t* out) const {
    for (size_t x = 0; x < count; ++x, out += 3) {
      switch (l_.kind) {
        case Kind::gray: {
          int v;
          if (l_.bits < 8) {
            v = low_bits(planes[0], x) * (255 / ((1 << l_.bits) - 1));
          } else if (l_.bits == 16) {
            v = std::min<int>(wide(planes, x, 0), 255);
          } else {
            v = narrow(planes, x, 0);
            if (l_.samples > 1 && l_.premultiplied) v = unpremultiply(v, narrow(planes, x, 1));
          }
          if (l_.inverted) v = 255 - v;
          out[0] = out[1] = out[2] = uint8_t(v);
          break;
        }
        case Kind::palette: {
          const int index = l_.bits < 8 ? low_bits(planes[0], x) : planes[0][x];
          for (int c = 0; c < 3; ++c) out[c] = uint8_t(l_.colormap[c][index] >> 8);
          break;
        }
        case Kind::rgb:
          for (int c = 0; c < 3; ++c) out[c] = uint8_t(sample8(planes, x, c));
          if (l_.samples > 3 && l_.premultiplied) {
            const int a = sample8(planes, x, 3);
            for (int c = 0; c < 3; ++c) out[c] = unpremultiply(out[c], a);
          }
          break;
        case Kind::cmyk: {
          const int inverse_k = 255 - sample8(planes, x, 3);
          for (int c = 0; c < 3; ++c) {
            out[c] = clip8(inverse_k - muldiv255(sample8(planes, x, c), inverse_k));
          }
          break;
        }
      }
    }
  }

 private:
  // Sample s of pixel x, 8-bit or 16-bit.
  size_t index(size_t x, int s) const {
    return l_.separate ? x : x * size_t(l_.samples) + size_t(s);
  }
  const uint8_t* plane(const uint8_t* const* planes, int s) const {
    return l_.separate ? planes[s] : planes[0];
  }
  int narrow(const uint8_t* const* planes, size_t x, int s) const {
    return plane(planes, s)[index(x, s)];
  }
  int wide(const uint8_t* const* planes, size_t x, int s) const {
    uint16_t v;
    std::memcpy(&v, plane(planes, s) + 2 * index(x, s), 2);
    return v;
  }
  // An 8-bit value of sample s: 16-bit samples keep their high byte.
  int sample8(const uint8_t* const* planes, size_t x, int s) const {
    return l_.bits == 16 ? wide(planes, x, s) >> 8 : narrow(planes, x, s);
  }
  // Pixel x of a 1, 2 or 4-bit single-sample row, first pixel in the high bits.
  int low_bits(const uint8_t* row, size_t x) const {
    const size_t bit = x * size_t(l_.bits);
    return (row[bit / 8] >> (8 - l_.bits - int(bit % 8))) & ((1 << l_.bits) - 1);
  }

  const Layout& l_;
};

// Decodes strip after strip (all planes of a strip before its rows are converted).
void read_strips(TIFF* tif, const Layout& layout, TiffMessages* messages, RgbImage* image) {
  const uint32_t width = uint32_t(image->width), height = uint32_t(image->height);
  uint32_t rows_per_strip = height;
  TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
  rows_per_strip = std::max<uint32_t>(1, std::min(rows_per_strip, height));
  const tmsize_t strip_bytes = TIFFStripSize(tif);
  const tmsize_t row_bytes = TIFFScanlineSize(tif);
  if (strip_bytes <= 0 || row_bytes <= 0 || row_bytes * tmsize_t(rows_per_strip) > strip_bytes) {
    throw Error("corrupt TIFF (inconsistent strip sizes)");
  }
  const int planes = layout.separate ? layout.samples : 1;
  std::vector<std::vector<uint8_t>> buffers(static_cast<size_t>(planes),
                                            std::vector<uint8_t>(size_t(strip_bytes)));
  std::vector<const uint8_t*> rows(static_cast<size_t>(planes));
  const RowConverter converter(layout);
  for (uint32_t row = 0; row < height; row += rows_per_strip) {
    const uint32_t count = std::min(rows_per_strip, height - row);
    for (int p = 0; p < planes; ++p) {
      const tmsize_t got = TIFFReadEncodedStrip(tif, TIFFComputeStrip(tif, row, uint16_t(p)),
                                                buffers[size_t(p)].data(), strip_bytes);
      if (got < row_bytes * tmsize_t(count)) {
        throw Error(::lumen::detail::concat(
            "corrupt or truncated TIFF data (",
            messages->error.empty() ? "a strip is missing or short" : messages->error, ")"));
      }
    }
    for (uint32_t r = 0; r < count; ++r) {
      for (int p = 0; p < planes; ++p) rows[size_t(p)] = buffers[size_t(p)].data() + r * row_bytes;
      converter.convert(rows.data(), width,
                        image->pixels.data() + (size_t(row) + r) * size_t(width) * 3);
    }
  }
}

// Decodes tile after tile (all planes of a tile before its rows are converted).
void read_tiles(TIFF* tif, const Layout& layout, TiffMessages* messages, RgbImage* image) {
  const uint32_t width = uint32_t(image->width), height = uint32_t(image->height);
  uint32_t tile_width = 0, tile_height = 0;
  TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_width);
  TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_height);
  // A tile may overhang the image (a 256 x 256 tile for a 10 x 10 image) but may not hold more
  // pixels than the image padded to whole 16-pixel blocks, or 256 x 256 if that is more.
  const uint64_t padded = uint64_t((width + 15) / 16 * 16) * ((height + 15) / 16 * 16);
  if (tile_width == 0 || tile_height == 0 ||
      uint64_t(tile_width) * tile_height > std::max<uint64_t>(padded, 256 * 256)) {
    throw Error(::lumen::detail::concat("corrupt TIFF (tiles of ", tile_width, "x", tile_height,
                                        " for a ", width, "x", height, " image)"));
  }
  const tmsize_t tile_bytes = TIFFTileSize(tif);
  const tmsize_t row_bytes = TIFFTileRowSize(tif);
  if (tile_bytes <= 0 || row_bytes <= 0 || row_bytes * tmsize_t(tile_height) > tile_bytes) {
    throw Error("corrupt TIFF (inconsistent tile sizes)");
  }
  const int planes = layout.separate ? layout.samples : 1;
  std::vector<std::vector<uint8_t>> buffers(static_cast<size_t>(planes),
                                            std::vector<uint8_t>(size_t(tile_bytes)));
  std::vector<const uint8_t*> rows(static_cast<size_t>(planes));
  const RowConverter converter(layout);
  for (uint32_t y = 0; y < height; y += tile_height) {
    for (uint32_t x = 0; x < width; x += tile_width) {
      for (int p = 0; p < planes; ++p) {
        const tmsize_t got = TIFFReadEncodedTile(tif, TIFFComputeTile(tif, x, y, 0, uint16_t(p)),
                                                 buffers[size_t(p)].data(), tile_bytes);
        if (got < tile_bytes) {
          throw Error(::lumen::detail::concat(
              "corrupt or truncated TIFF data (",
              messages->error.empty() ? "a tile is missing or short" : messages->error, ")"));
        }
      }
      const uint32_t count_y = std::min(tile_height, height - y);
      const uint32_t count_x = std::min(tile_width, width - x);
      for (uint32_t r = 0; r < count_y; ++r) {
        for (int p = 0; p < planes; ++p)
          rows[size_t(p)] = buffers[size_t(p)].data() + r * row_bytes;
        converter.convert(rows.data(), count_x,
                          image->pixels.data() + ((size_t(y) + r) * width + x) * 3);
      }
    }
  }
}

}  // namespace

RgbImage decode_tiff(const uint8_t* bytes, size_t size, const DecodeLimits& limits) {
  TiffMessages messages;
  MemoryFile file{bytes, size};
  const std::unique_ptr<TIFF, TiffCloser> tif = open_tiff(&file, &messages);
  if (!tif) {
    throw Error(::lumen::detail::concat(
        "corrupt or truncated TIFF header (",
        messages.error.empty() ? "libtiff cannot read its first directory" : messages.error, ")"));
  }
  uint32_t width = 0, height = 0;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  check_dimensions(width, height, limits);
  const Layout layout = read_layout(tif.get());
  RgbImage image;
  image.width = int(width);
  image.height = int(height);
  image.pixels.resize(size_t(width) * size_t(height) * 3);
  messages.reading_pixels = true;
  if (TIFFIsTiled(tif.get())) {
    read_tiles(tif.get(), layout, &messages, &image);
  } else {
    read_strips(tif.get(), layout, &messages, &image);
  }
  if (!messages.error.empty()) {
    throw Error("corrupt TIFF data (" + messages.error + ")");
  }
  if (!messages.pixel_warning.empty()) {
    throw Error("damaged TIFF data (" + messages.pixel_warning + ")");
  }
  return image;
}

}  // namespace lumen::data::detail
