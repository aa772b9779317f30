#include "api/embedder.h"

#include <omp.h>

#include <cstring>
#include <mutex>

#include "api/model_io.h"
#include "augment/normalize.h"
#include "engine/autograd/tape.h"
#include "engine/data/resize.h"
#include "engine/infer/gpu_conv.h"
#include "layers/inference.h"

namespace lumen {

namespace {

// One worker: the CPU program's buffers, or its GPU state (made on its first GPU call).
struct Worker {
  InferenceWorkspace cpu;
  std::unique_ptr<InferenceNet::GpuWorker> gpu;
};

// Decoded pixels resized to size x size (shorter side, centre crop) into dst.
void resize_into(const uint8_t* src, int width, int height, uint8_t* dst, int size) {
  if (width == size && height == size) {
    std::memcpy(dst, src, size_t(size) * size_t(size) * 3);
  } else {
    data::resize_shorter_and_center_crop(src, width, height, dst, size);
  }
}

}  // namespace

struct Embedder::Impl {
  std::string model_name, checkpoint;
  int input_size = 0;
  int64_t dim = 0;
  Device device = Device::cpu();
  DType dtype = DType::f32;
  EmbedderSettings settings;
  std::unique_ptr<InferenceNet> net;  // the inference path; null for a custom backbone
  // A custom backbone's own module, in eval mode, its forward serialised on a GPU (one stream).
  ParameterBuffer params;
  std::unique_ptr<Module> module;
  std::mutex module_mutex;
  std::mutex pool_mutex;
  std::vector<std::unique_ptr<Worker>> idle;

  void finish(const EmbedderSettings& s) {
    settings = s;
    if (settings.threads <= 0) settings.threads = omp_get_max_threads();
    LUMEN_CHECK(settings.max_batch >= 1, "Embedder: max_batch must be at least 1, got ",
                settings.max_batch);
    LUMEN_CHECK(input_size >= 1, "Embedder: input size must be positive, got ", input_size);
  }

  // A worker of the pool, given back when the lease ends.
  class Lease {
   public:
    explicit Lease(Impl& impl) : impl_(impl) {
      {
        std::lock_guard<std::mutex> lock(impl_.pool_mutex);
        if (!impl_.idle.empty()) {
          worker_ = std::move(impl_.idle.back());
          impl_.idle.pop_back();
        }
      }
      if (!worker_) worker_ = std::make_unique<Worker>();
    }
    ~Lease() {
      std::lock_guard<std::mutex> lock(impl_.pool_mutex);
      impl_.idle.push_back(std::move(worker_));
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Worker& operator*() { return *worker_; }

   private:
    Impl& impl_;
    std::unique_ptr<Worker> worker_;
  };

  // (B, S, S, 3) u8 on the CPU -> (B, D) f32 on the CPU
  Tensor forward(const Tensor& images) {
    const int64_t b = images.size(0);
    if (!net) {
      NoGrad no_grad;
      std::unique_lock<std::mutex> lock(module_mutex, std::defer_lock);
      if (device.is_cuda()) lock.lock();
      const Tensor x = normalize_images(images.to(device), NormalizeConfig{}, dtype);
      return (*module)(x).to(DType::f32).to(Device::cpu());
    }
    Lease lease(*this);
    Worker& w = *lease;
    if (device.is_cuda()) {
      if (!w.gpu) {
        w.gpu =
            std::make_unique<InferenceNet::GpuWorker>(*net, device, dtype, settings.cuda_graphs);
      }
      Tensor on_device = empty_in_context(w.gpu->context(), images.shape(), DType::u8);
      on_device.copy_from(images);
      return w.gpu->forward(normalize_images(on_device, NormalizeConfig{}, dtype));
    }
    const Tensor x = normalize_images(images, NormalizeConfig{}, DType::f32);
    Tensor out = Tensor::empty({b, dim});
    net->forward_cpu(x.data<float>(), b, input_size, input_size, out.data<float>(), w.cpu,
                     settings.threads);
    return out;
  }

  // Decoded images of any size -> (N, D), in batches of max_batch.
  template <typename Fill>
  Tensor embed_decoded(int64_t n, Fill&& fill) {
    Tensor out = Tensor::empty({n, dim});
    const size_t image = size_t(input_size) * size_t(input_size) * 3;
    for (int64_t start = 0; start < n; start += settings.max_batch) {
      const int64_t count = std::min(settings.max_batch, n - start);
      Tensor batch = Tensor::empty({count, input_size, input_size, 3}, DType::u8);
      uint8_t* pixels = batch.data<uint8_t>();
      fill(start, count, pixels, image);
      out.rows(start, count).copy_from(forward(batch));
    }
    return out;
  }
};

Embedder::Embedder(const Config& config, const Backbone* custom, EmbedderSettings settings)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.device = device_from_config(config);
  m.dtype = activation_dtype(config, m.device);
  m.checkpoint = config.get_string("checkpoint");
  if (config.has("loader.batch_size") && config.is_set("loader.batch_size")) {
    settings.max_batch = config.get_int("loader.batch_size");
  }
  // Loaded on the CPU: the inference path copies what it needs; only a custom backbone's own
  // forward runs on the module, on the configured device.
  EmbeddingModel model = load_embedding_model(config, m.params, Device::cpu(), custom);
  m.model_name = model.name;
  m.input_size = model.input_size;
  m.net = InferenceNet::compile(*model.backbone);
  if (m.net) {
    m.dim = m.net->feature_dim();
  } else {
    if (m.device.is_cuda()) {
      m.params = ParameterBuffer();
      model = load_embedding_model(config, m.params, m.device, custom);
    }
    LUMEN_CHECK(custom != nullptr, "Embedder: the built-in backbone ", m.model_name,
                " has no inference program");
    m.module = std::move(model.backbone);
    m.module->eval();
    m.dim = custom->feature_dim;
  }
  m.finish(settings);
}

Embedder::Embedder(Module& backbone, const Backbone& architecture, int input_size, Device device,
                   DType dtype, EmbedderSettings settings)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.model_name = architecture.name;
  m.input_size = input_size;
  m.device = device;
  m.dtype = dtype;
  m.net = InferenceNet::compile(backbone);
  if (m.net) {
    m.dim = m.net->feature_dim();
  } else {
    m.module = architecture.make();
    finalize(*m.module, m.params, device, 0);
    auto copy = [](const std::vector<std::pair<std::string, Tensor>>& to,
                   const std::vector<std::pair<std::string, Tensor>>& from) {
      LUMEN_CHECK(to.size() == from.size(), "Embedder: the backbone's copy has ", to.size(),
                  " tensors, the backbone ", from.size(),
                  "; its factory must build the same "
                  "architecture every time");
      for (size_t i = 0; i < to.size(); ++i) {
        Tensor dst = to[i].second;
        dst.copy_from(from[i].second);
      }
    };
    copy(m.module->named_parameters(), backbone.named_parameters());
    copy(m.module->named_buffers(), backbone.named_buffers());
    m.module->eval();
    m.dim = architecture.feature_dim;
  }
  m.finish(settings);
}

Embedder::~Embedder() = default;

Tensor Embedder::embed(const Tensor& images) const {
  LUMEN_CHECK(images.defined() && images.dtype() == DType::u8 && images.ndim() == 4 &&
                  images.size(3) == 3 && !images.is_cuda(),
              "Embedder::embed expects decoded images (N, H, W, 3) u8 on the CPU, got ",
              images.defined() ? images.str() : std::string("an undefined tensor"));
  const int64_t h = images.size(1), w = images.size(2);
  LUMEN_CHECK(h >= 1 && w >= 1, "Embedder::embed: images of ", h, "x", w, " have no pixels");
  const uint8_t* src = images.data<uint8_t>();
  const size_t in_bytes = size_t(h) * size_t(w) * 3;
  const int size = impl_->input_size;
  return impl_->embed_decoded(images.size(0),
                              [&](int64_t start, int64_t count, uint8_t* dst, size_t image) {
#pragma omp parallel for schedule(static) if (count > 1 && (h != size || w != size))
                                for (int64_t i = 0; i < count; ++i) {
                                  resize_into(src + size_t(start + i) * in_bytes, int(w), int(h),
                                              dst + size_t(i) * image, size);
                                }
                              });
}

namespace {

// Decodes image i of n with `decode`, in parallel; the first failure (lowest index) is rethrown
// as an error naming the image through `name`.
template <typename Decode, typename Name>
std::vector<data::RgbImage> decode_all(int64_t n, Decode&& decode, Name&& name) {
  std::vector<data::RgbImage> images(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));
#pragma omp parallel for schedule(dynamic) if (n > 1)
  for (int64_t i = 0; i < n; ++i) {
    try {
      images[size_t(i)] = decode(i);
    } catch (const std::exception& e) {
      errors[size_t(i)] = e.what();
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    LUMEN_CHECK(errors[size_t(i)].empty(), name(i), ": ", errors[size_t(i)]);
  }
  return images;
}

}  // namespace

Tensor Embedder::embed_encoded(const std::vector<std::string_view>& encoded) const {
  const data::DecodeLimits& limits = impl_->settings.limits;
  std::vector<data::RgbImage> images = decode_all(
      int64_t(encoded.size()),
      [&](int64_t i) {
        const std::string_view bytes = encoded[size_t(i)];
        LUMEN_CHECK(bytes.size() <= limits.max_file_bytes, "the image is ", bytes.size(),
                    " bytes, more than the ", limits.max_file_bytes, " allowed");
        return data::decode_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                  limits);
      },
      [](int64_t i) { return "image " + std::to_string(i); });
  const int size = impl_->input_size;
  return impl_->embed_decoded(
      int64_t(images.size()), [&](int64_t start, int64_t count, uint8_t* dst, size_t image) {
#pragma omp parallel for schedule(static) if (count > 1)
        for (int64_t i = 0; i < count; ++i) {
          const data::RgbImage& im = images[size_t(start + i)];
          resize_into(im.pixels.data(), im.width, im.height, dst + size_t(i) * image, size);
        }
      });
}

Tensor Embedder::embed_files(const std::vector<std::string>& paths) const {
  const data::DecodeLimits& limits = impl_->settings.limits;
  std::vector<data::RgbImage> images = decode_all(
      int64_t(paths.size()),
      [&](int64_t i) { return data::decode_image_file(paths[size_t(i)], limits); },
      [&](int64_t i) { return "'" + paths[size_t(i)] + "'"; });
  const int size = impl_->input_size;
  return impl_->embed_decoded(
      int64_t(images.size()), [&](int64_t start, int64_t count, uint8_t* dst, size_t image) {
#pragma omp parallel for schedule(static) if (count > 1)
        for (int64_t i = 0; i < count; ++i) {
          const data::RgbImage& im = images[size_t(start + i)];
          resize_into(im.pixels.data(), im.width, im.height, dst + size_t(i) * image, size);
        }
      });
}

Tensor Embedder::prepare(std::string_view encoded) const {
  const data::DecodeLimits& limits = impl_->settings.limits;
  LUMEN_CHECK(encoded.size() <= limits.max_file_bytes, "the image is ", encoded.size(),
              " bytes, more than the ", limits.max_file_bytes, " allowed");
  const data::RgbImage im =
      data::decode_image(reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size(), limits);
  const int size = impl_->input_size;
  Tensor out = Tensor::empty({size, size, 3}, DType::u8);
  resize_into(im.pixels.data(), im.width, im.height, out.data<uint8_t>(), size);
  return out;
}

int64_t Embedder::dim() const { return impl_->dim; }
int Embedder::input_size() const { return impl_->input_size; }
const std::string& Embedder::model_name() const { return impl_->model_name; }
const std::string& Embedder::checkpoint() const { return impl_->checkpoint; }
Device Embedder::device() const { return impl_->device; }
DType Embedder::dtype() const { return impl_->dtype; }
bool Embedder::inference_path() const { return impl_->net != nullptr; }

}  // namespace lumen
