// lightly's DINOLoss (Caron et al. 2021), forward(teacher_out, student_out, teacher_temp, epoch):
//   p_t = softmax((teacher_t - center) / teacher_temperature)      the teacher's views t < T
//   loss = -sum_{t != s} sum_b <p_t[b], log_softmax(student_s[b] / student_temp)> / (n_terms B)
//   over the teacher views t and the student views s, where view t = s is the same crop (the
//   teacher sees the global crops, which come first among the student's), n_terms = T S - min(T, S)
// then the centre moves towards the teacher outputs (lightly's update_center, after the loss was
// computed with the old centre): center = m center + (1 - m) mean over every teacher row,
// averaged over the ranks when the communicator has several (lightly all-reduces it whenever
// torch.distributed is initialised).
// Teacher temperature, as lightly chooses it: teacher_temp when given, else for an epoch below
// warmup_teacher_temp_epochs torch.linspace(warmup_teacher_temp, teacher_temp,
// warmup_teacher_temp_epochs)[epoch], else teacher_temp; all float32 values as lightly's tensors
// hold them (teacher_temperature() reproduces torch 1.13's CPU linspace rounding).
// Defaults (lightly's): output_dim 65536, warmup_teacher_temp 0.04, teacher_temp 0.04 over
// warmup_teacher_temp_epochs 30, student_temp 0.1, center_momentum 0.9.
// Outputs (batch, output_dim) f32, f64, bf16 or f16, one shape, dtype and device for all; the
// teacher's carry no gradient (a momentum copy's; detach them). Computed in f32 (f64 for f64);
// the loss is (1,) in that dtype and records one autograd node over the student outputs: the
// teacher's centred softmax in one row pass, then per student view one fused row pass (kernels/
// soft_targets.h) for its rows' loss and gradient against the sum of the other views' p_t.
// The centre is live state: state_tensors() for checkpoints.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/tensor.h"
#include "engine/dist/communicator.h"

namespace lumen {

struct DINOOptions {
  int64_t output_dim = 65536;
  double warmup_teacher_temp = 0.04;
  double teacher_temp = 0.04;
  int64_t warmup_teacher_temp_epochs = 30;
  double student_temp = 0.1;
  double center_momentum = 0.9;
};

class DINOLoss {
 public:
  // comm: the job's communicator (default: single process): the centre's batch mean is averaged
  // over its ranks.
  explicit DINOLoss(DINOOptions options = {}, std::shared_ptr<Communicator> comm = nullptr);

  // teacher: T >= 1 outputs of the teacher (the global views); student: S outputs of the student,
  // the views the teacher saw first, in its order -> (1,). Updates the centre afterwards.
  // epoch: selects the warm-up temperature (unset: teacher_temp); teacher_temp overrides both.
  Tensor forward(const std::vector<Tensor>& teacher, const std::vector<Tensor>& student,
                 std::optional<int64_t> epoch = std::nullopt,
                 std::optional<double> teacher_temp = std::nullopt);
  Tensor operator()(const std::vector<Tensor>& teacher, const std::vector<Tensor>& student,
                    std::optional<int64_t> epoch = std::nullopt,
                    std::optional<double> teacher_temp = std::nullopt) {
    return forward(teacher, student, epoch, teacher_temp);
  }

  // The teacher temperature forward() uses (a float32 value, as lightly's).
  double teacher_temperature(std::optional<int64_t> epoch,
                             std::optional<double> teacher_temp = std::nullopt) const;
  // center = m center + (1 - m) batch mean of the teacher outputs (every rank's); forward() calls
  // it after the loss, as lightly's.
  void update_center(const std::vector<Tensor>& teacher);

  // Creates the centre (zeros, (1, 1, output_dim), f32 or f64 for f64 outputs) if it does not
  // exist yet; forward() does on its first call.
  void ensure_center(Device device, DType dtype = DType::f32);
  // (1, 1, output_dim); undefined until ensure_center() or the first forward().
  const Tensor& center() const { return center_; }
  // "center" (1, 1, output_dim), live (as lightly's buffer); empty before the centre exists.
  std::map<std::string, Tensor> state_tensors() const;
  // Restores what state_tensors() returned; an empty map leaves the centre as it is.
  void load_state_tensors(const std::map<std::string, Tensor>& state);
  const DINOOptions& options() const { return options_; }

 private:
  DINOOptions options_;
  std::shared_ptr<Communicator> comm_;
  Tensor center_;
};

// torch.linspace(start, end, steps)[index] in float32 as torch 1.13's CPU kernel rounds it (lightly
// builds DINO's temperature schedule with it): 0 <= index < steps.
float torch_linspace_f32(float start, float end, int64_t steps, int64_t index);

}  // namespace lumen
