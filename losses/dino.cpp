#include "losses/dino.h"

#include <algorithm>
#include <cmath>

#include "engine/autograd/tape.h"
#include "kernels/colstats.h"
#include "kernels/elementwise.h"
#include "kernels/soft_targets.h"
#include "losses/compute.h"
#include "losses/soft_targets.h"

namespace lumen {

float torch_linspace_f32(float start, float end, int64_t steps, int64_t index) {
  LUMEN_CHECK(steps > 0 && index >= 0 && index < steps, "torch_linspace_f32: index ", index,
              " outside [0, ", steps, ")");
  if (steps == 1) return start;
  // torch 1.13's linspace_kernel on the CPU (AVX2): step = (end - start) / (steps - 1); an entry
  // below steps / 2 is start + step * i, above it end - step * (steps - i - 1), each product and
  // sum rounded once (fused); the vectorised loop runs over whole pairs of 8-float vectors and
  // gives entry i of a vector starting at j the vector's first value plus (i - j) * step (two
  // roundings), the rest comes from the scalar loop.
  const float step = (end - start) / float(steps - 1);
  const int64_t halfway = steps / 2, vector = 8, vectorised = steps / (2 * vector) * (2 * vector);
  auto entry = [&](int64_t i) {
    return i < halfway ? std::fma(step, float(i), start)
                       : std::fma(-step, float(steps - i - 1), end);
  };
  if (index >= vectorised) return entry(index);
  const int64_t first = index / vector * vector;
  const volatile float offset = float(index - first) * step;  // rounded apart from the sum
  return entry(first) + offset;
}

DINOLoss::DINOLoss(DINOOptions options, std::shared_ptr<Communicator> comm)
    : options_(options), comm_(comm ? std::move(comm) : single_process_communicator()) {
  const char* op = "DINOLoss";
  LUMEN_CHECK(options_.output_dim > 0, op, ": output_dim must be positive, got ",
              options_.output_dim);
  for (double t : {options_.warmup_teacher_temp, options_.teacher_temp, options_.student_temp}) {
    LUMEN_CHECK(std::isfinite(t) && t > 0, op, ": temperatures must be positive, got ", t,
                " (lightly's: warmup_teacher_temp 0.04, teacher_temp 0.04, student_temp 0.1)");
  }
  LUMEN_CHECK(options_.warmup_teacher_temp_epochs >= 0, op,
              ": warmup_teacher_temp_epochs must be >= 0, got ",
              options_.warmup_teacher_temp_epochs);
  LUMEN_CHECK(std::isfinite(options_.center_momentum), op, ": center_momentum must be finite");
}

double DINOLoss::teacher_temperature(std::optional<int64_t> epoch,
                                     std::optional<double> teacher_temp) const {
  if (teacher_temp) {
    LUMEN_CHECK(std::isfinite(*teacher_temp) && *teacher_temp > 0,
                "DINOLoss: teacher_temp must be positive, got ", *teacher_temp);
    return double(float(*teacher_temp));  // torch.tensor(teacher_temp): float32
  }
  if (epoch) {
    LUMEN_CHECK(*epoch >= 0, "DINOLoss: the epoch must be >= 0, got ", *epoch);
    if (*epoch < options_.warmup_teacher_temp_epochs) {
      return double(torch_linspace_f32(float(options_.warmup_teacher_temp),
                                       float(options_.teacher_temp),
                                       options_.warmup_teacher_temp_epochs, *epoch));
    }
  }
  return double(float(options_.teacher_temp));
}

void DINOLoss::ensure_center(Device device, DType dtype) {
  if (center_.defined()) return;
  center_ = Tensor::zeros({1, 1, options_.output_dim}, losses::compute_dtype(dtype), device);
}

Tensor DINOLoss::forward(const std::vector<Tensor>& teacher, const std::vector<Tensor>& student,
                         std::optional<int64_t> epoch, std::optional<double> teacher_temp) {
  const char* op = "DINOLoss";
  LUMEN_CHECK(!teacher.empty() && !student.empty(), op, " needs teacher and student outputs, got ",
              teacher.size(), " and ", student.size());
  const int64_t t_views = int64_t(teacher.size()), s_views = int64_t(student.size());
  const int64_t n_terms = t_views * s_views - std::min(t_views, s_views);
  LUMEN_CHECK(n_terms > 0, op, " requires at least two views in total (the pairs of a view with ",
              "itself are left out), got ", t_views, " teacher and ", s_views, " student views");
  const Tensor& first = teacher[0];
  check_defined(first, op);
  LUMEN_CHECK(first.ndim() == 2 && first.size(0) > 0 && first.size(1) == options_.output_dim, op,
              " expects outputs of shape (batch, ", options_.output_dim, ") (output_dim), got ",
              first.str());
  LUMEN_CHECK(dtype_is_float(first.dtype()), op, ": outputs must be f32, f64, bf16 or f16, got ",
              first.str());
  for (const std::vector<Tensor>* list : {&teacher, &student}) {
    for (const Tensor& t : *list) {
      check_defined(t, op);
      check_same_shape(t, first, op);
      check_same_dtype(t, first, op);
      check_same_device(t, first, op);
    }
  }
  for (const Tensor& t : teacher) {
    LUMEN_CHECK(!t.requires_grad(), op, ": the teacher outputs must not require grad (the ",
                "teacher is a momentum copy); detach them");
  }
  ensure_center(first.device(), first.dtype());
  const DType c = center_.dtype();
  LUMEN_CHECK(c == losses::compute_dtype(first.dtype()) && center_.device() == first.device(), op,
              ": the centre is ", center_.str(), " but the outputs are ", first.str(),
              "; keep the outputs' dtype and device fixed");
  const int64_t batch = first.size(0), d = options_.output_dim;
  // The teacher's probabilities (T, batch, d) from its outputs stacked in view order.
  Tensor stacked = Tensor::empty_on({t_views * batch, d}, c, first);
  for (int64_t t = 0; t < t_views; ++t) stacked.rows(t * batch, batch).copy_from(teacher[t]);
  Tensor probs = Tensor::empty_on({t_views, batch, d}, c, first);
  const double temperature = teacher_temperature(epoch, teacher_temp);
  losses::dispatch_compute(c, [&](auto tag) {
    using C = decltype(tag);
    if (stacked.is_cuda()) {
      LUMEN_ON_CUDA(kernels::centered_softmax_rows_cuda(stacked.data<C>(), center_.data<C>(),
                                                        temperature, t_views * batch, d,
                                                        probs.data<C>(), stream_of(stacked)));
    } else {
      kernels::centered_softmax_rows_cpu(stacked.data<C>(), center_.data<C>(), temperature,
                                         t_views * batch, d, probs.data<C>());
    }
  });
  std::vector<int> skips(s_views, -1);
  for (int64_t s = 0; s < std::min(t_views, s_views); ++s) skips[s] = int(s);
  Tensor loss = losses::soft_target_cross_entropy("dino_loss", student, probs, skips,
                                                  1.0 / (double(n_terms) * double(batch)),
                                                  options_.student_temp);
  update_center(teacher);
  return loss;
}

void DINOLoss::update_center(const std::vector<Tensor>& teacher) {
  NoGrad no_grad;
  LUMEN_CHECK(!teacher.empty(), "DINOLoss::update_center needs teacher outputs");
  ensure_center(teacher[0].device(), teacher[0].dtype());
  const DType c = center_.dtype();
  const int64_t batch = teacher[0].size(0), d = options_.output_dim;
  const int64_t rows = int64_t(teacher.size()) * batch;
  Tensor stacked = Tensor::empty_on({rows, d}, c, center_);
  for (size_t t = 0; t < teacher.size(); ++t) {
    LUMEN_CHECK(teacher[t].ndim() == 2 && teacher[t].size(0) == batch && teacher[t].size(1) == d,
                "DINOLoss::update_center: teacher outputs must be (", batch, ", ", d, "), got ",
                teacher[t].str());
    stacked.rows(int64_t(t) * batch, batch).copy_from(teacher[t]);
  }
  Tensor batch_center = Tensor::empty_on({d}, c, center_);
  const int world = comm_->world_size();
  const double m = options_.center_momentum;
  losses::dispatch_compute(c, [&](auto tag) {
    using C = decltype(tag);
    if (stacked.is_cuda()) {
      LUMEN_ON_CUDA(kernels::column_stats_cuda(
          stacked.data<C>(), rows, d, 0, batch_center.data<C>(), nullptr, stream_of(stacked)));
    } else {
      kernels::column_stats_cpu(stacked.data<C>(), rows, d, 0, batch_center.data<C>(), nullptr);
    }
  });
  if (world > 1) comm_->all_reduce(batch_center, ReduceOp::mean);
  // center = (1 - m) batch_center + m center: each product rounded, then the sum, as torch's
  // center * m + batch_center * (1 - m)
  losses::dispatch_compute(c, [&](auto tag) {
    using C = decltype(tag);
    if (center_.is_cuda()) {
      LUMEN_ON_CUDA(kernels::axpby_cuda(1.0 - m, batch_center.data<C>(), m, center_.data<C>(), d,
                                        stream_of(center_)));
    } else {
      kernels::axpby_cpu(1.0 - m, batch_center.data<C>(), m, center_.data<C>(), d);
    }
  });
}

std::map<std::string, Tensor> DINOLoss::state_tensors() const {
  if (!center_.defined()) return {};
  return {{"center", center_}};
}

void DINOLoss::load_state_tensors(const std::map<std::string, Tensor>& state) {
  if (state.empty()) return;
  auto it = state.find("center");
  LUMEN_CHECK(it != state.end() && it->second.numel() == options_.output_dim &&
                  dtype_is_float(it->second.dtype()),
              "DINOLoss::load_state_tensors: expected \"center\" of ", options_.output_dim,
              " values (as written by state_tensors())");
  center_ = it->second.detach()
                .to(losses::compute_dtype(it->second.dtype()))
                .clone()
                .reshape({1, 1, options_.output_dim});
}

}  // namespace lumen
