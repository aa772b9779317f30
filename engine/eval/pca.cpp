#include "engine/eval/pca.h"

#include <cblas.h>

#include <algorithm>
#include <cmath>

// LAPACK's symmetric eigensolver (OpenBLAS holds LAPACK; cblas.h does not declare it).
extern "C" void dsyev_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
                       double* w, double* work, const int* lwork, int* info);

namespace lumen {

Pca pca(const Tensor& x, int components) {
  check_defined(x, "pca");
  LUMEN_CHECK(x.ndim() == 2 && x.size(0) >= 2 && dtype_is_float(x.dtype()), "pca: needs (N, D) ",
              "float rows with N >= 2, got ", x.str());
  const int64_t n = x.size(0), d = x.size(1);
  LUMEN_CHECK(components >= 1 && components <= d, "pca: ", components, " components of ", d,
              "-dimensional rows");
  const Tensor cpu = x.to(Device::cpu());
  constexpr int64_t kBlock = 4096;  // rows converted to double at a time
  std::vector<double> mean(static_cast<size_t>(d), 0.0), block;
  for (int64_t start = 0; start < n; start += kBlock) {
    block = cpu.rows(start, std::min(kBlock, n - start)).to_doubles();
    for (size_t i = 0; i < block.size(); ++i) mean[i % size_t(d)] += block[i];
  }
  for (double& m : mean) m /= double(n);
  // cov (D, D) = sum over blocks of centred rows^T centred rows, / (N - 1)
  std::vector<double> cov(size_t(d * d), 0.0);
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t rows = std::min(kBlock, n - start);
    block = cpu.rows(start, rows).to_doubles();
    for (size_t i = 0; i < block.size(); ++i) block[i] -= mean[i % size_t(d)];
    cblas_dsyrk(CblasColMajor, CblasUpper, CblasNoTrans, int(d), int(rows), 1.0, block.data(),
                int(d), 1.0, cov.data(), int(d));
  }
  for (double& c : cov) c /= double(n - 1);
  // Eigenvalues ascending; eigenvectors in the columns of cov (column-major, so row-major rows).
  std::vector<double> eigen(static_cast<size_t>(d));
  const int dn = int(d);
  int info = 0, lwork = -1;
  double query = 0;
  dsyev_("V", "U", &dn, cov.data(), &dn, eigen.data(), &query, &lwork, &info);
  lwork = std::max(1, int(query));
  std::vector<double> work(static_cast<size_t>(lwork));
  dsyev_("V", "U", &dn, cov.data(), &dn, eigen.data(), work.data(), &lwork, &info);
  LUMEN_CHECK(info == 0, "pca: LAPACK dsyev failed (info ", info, ")");

  double total = 0;
  for (double e : eigen) total += std::max(e, 0.0);
  Pca out;
  for (int c = 0; c < components; ++c) {
    const double* axis = cov.data() + (d - 1 - c) * d;  // c-th largest eigenvalue
    std::vector<double> u(axis, axis + d);
    const auto largest = std::max_element(
        u.begin(), u.end(), [](double a, double b) { return std::fabs(a) < std::fabs(b); });
    if (*largest < 0) {
      for (double& a : u) a = -a;
    }
    out.axes.push_back(u);
    out.explained.push_back(total > 0 ? std::max(eigen[size_t(d - 1 - c)], 0.0) / total : 0.0);
  }
  out.projection = Tensor::empty({n, components});
  float* p = out.projection.data<float>();
  for (int64_t start = 0; start < n; start += kBlock) {
    const int64_t rows = std::min(kBlock, n - start);
    block = cpu.rows(start, rows).to_doubles();
    for (int64_t i = 0; i < rows; ++i) {
      for (int c = 0; c < components; ++c) {
        double s = 0;
        for (int64_t j = 0; j < d; ++j) {
          s += (block[size_t(i * d + j)] - mean[size_t(j)]) * out.axes[size_t(c)][size_t(j)];
        }
        p[(start + i) * components + c] = float(s);
      }
    }
  }
  return out;
}

}  // namespace lumen
