#include "support/sync_batch_norm_cases.h"

#include <thread>

#include "engine/dist/in_process_group.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/reduce.h"
#include "support/testing.h"

namespace lumen::testing {

namespace {

struct Result {
  Tensor y, running_mean, running_var, dx, dres, dw, db;
};

// One rank's (or the single process's) forward and backward of sum(y * upstream).
Result run(const Tensor& x, const Tensor& residual, const Tensor& upstream, const Tensor& w0,
           const Tensor& b0, bool tail, Communicator* sync) {
  const int64_t c = x.size(-1);
  const DType pt = w0.dtype();
  Tensor xr = x.clone().set_requires_grad();
  Tensor rr = residual.clone().set_requires_grad();
  Tensor w = w0.clone().set_requires_grad(), b = b0.clone().set_requires_grad();
  Result r;
  r.running_mean = Tensor::zeros({c}, pt, x.device());
  r.running_var = Tensor::full({c}, 1.0, pt, x.device());
  BatchNormTail t;
  if (tail) {
    t.residual = rr;
    t.relu = true;
  }
  r.y = batch_norm(xr, w, b, r.running_mean, r.running_var, true, 0.1, 1e-5, t, sync);
  Tensor loss = sum(mul(r.y, upstream));
  loss.backward();
  r.y = r.y.detach();
  r.dx = xr.grad();
  r.dres = tail ? rr.grad() : Tensor();
  r.dw = w.grad();
  r.db = b.grad();
  return r;
}

}  // namespace

void check_sync_batch_norm(Device device, DType dtype, int world, double tol) {
  const DType pt = dtype == DType::f64 ? DType::f64 : DType::f32;
  for (const Shape& shape : {Shape{4 * world, 3, 2, 5}, Shape{3 * world, 7}}) {
    for (bool tail : {false, true}) {
      CAPTURE(shape_str(shape));
      CAPTURE(tail);
      const int64_t c = shape.back(), n = shape[0], per_rank = n / world;
      const Tensor x = Tensor::normal(shape, 11, 3.0, 2.0, dtype, device);
      const Tensor residual = Tensor::normal(shape, 12, 0.0, 1.0, dtype, device);
      const Tensor upstream = Tensor::normal(shape, 13, 0.0, 1.0, dtype, device);
      const Tensor w = Tensor::uniform({c}, 14, 0.5, 1.5, pt, device);
      const Tensor b = Tensor::uniform({c}, 15, -0.5, 0.5, pt, device);
      const Result whole = run(x, residual, upstream, w, b, tail, nullptr);

      auto group = InProcessGroup::create(world);
      std::vector<Result> parts(static_cast<size_t>(world));
      std::vector<std::thread> threads;
      for (int r = 0; r < world; ++r) {
        threads.emplace_back([&, r] {
          auto comm = group->communicator(r);
          parts[size_t(r)] =
              run(x.rows(r * per_rank, per_rank), residual.rows(r * per_rank, per_rank),
                  upstream.rows(r * per_rank, per_rank), w, b, tail, comm.get());
        });
      }
      for (auto& t : threads) t.join();
      Tensor dw = Tensor::zeros({c}, pt, device), db = Tensor::zeros({c}, pt, device);
      for (int r = 0; r < world; ++r) {
        const Result& p = parts[size_t(r)];
        const int64_t at = r * per_rank;
        check_scaled(p.y, whole.y.rows(at, per_rank), tol, "output of rank " + std::to_string(r));
        check_scaled(p.dx, whole.dx.rows(at, per_rank), tol, "dx of rank " + std::to_string(r));
        if (tail) check_scaled(p.dres, whole.dres.rows(at, per_rank), tol, "d residual");
        check_scaled(p.running_mean, whole.running_mean, tol, "running_mean");
        check_scaled(p.running_var, whole.running_var, tol, "running_var");
        add_inplace(dw, p.dw);
        add_inplace(db, p.db);
      }
      check_scaled(dw, whole.dw, tol, "dweight summed over the ranks");
      check_scaled(db, whole.db, tol, "dbias summed over the ranks");
      // Without sync a rank's statistics are its own: the outputs differ.
      const Result alone = run(x.rows(0, per_rank), residual.rows(0, per_rank),
                               upstream.rows(0, per_rank), w, b, tail, nullptr);
      CHECK(scaled_error(alone.y, whole.y.rows(0, per_rank)) > 100 * tol);
    }
  }
}

}  // namespace lumen::testing
