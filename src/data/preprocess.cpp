#include "nnlab/data/preprocess.hpp"

#include <algorithm>
#include <cmath>

#include "nnlab/error.hpp"

namespace nnlab {

namespace {
constexpr double kMinStd = 1e-6;  // below this a feature is constant: divide by 1
constexpr int64_t kParallelMin = int64_t{1} << 16;  // values below which threads cost more than they save
}  // namespace

Standardisation compute_standardisation(const Tensor& x, bool per_feature) {
  const int64_t n = x.rows(), f = x.cols();
  check(n > 0 && f > 0, "standardise: no data (shape " + shape_str(x.shape()) + ")");
  const float* p = x.data();
  Standardisation s;
  if (!per_feature) {
    double sum = 0, sq = 0;
    const int64_t total = n * f;
#pragma omp parallel for reduction(+ : sum, sq) schedule(static) if (total >= kParallelMin)
    for (int64_t i = 0; i < total; ++i) {
      sum += p[i];
      sq += double(p[i]) * p[i];
    }
    const double mean = sum / double(total);
    const double sd = std::sqrt(std::max(0.0, sq / double(total) - mean * mean));
    s.mean = {static_cast<float>(mean)};
    s.stddev = {static_cast<float>(sd < kMinStd ? 1.0 : sd)};
    return s;
  }
  std::vector<double> sum(static_cast<size_t>(f), 0.0), sq(static_cast<size_t>(f), 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const float* row = p + i * f;
    for (int64_t j = 0; j < f; ++j) {
      sum[size_t(j)] += row[j];
      sq[size_t(j)] += double(row[j]) * row[j];
    }
  }
  s.mean.resize(size_t(f));
  s.stddev.resize(size_t(f));
  for (int64_t j = 0; j < f; ++j) {
    const double mean = sum[size_t(j)] / double(n);
    const double sd = std::sqrt(std::max(0.0, sq[size_t(j)] / double(n) - mean * mean));
    s.mean[size_t(j)] = static_cast<float>(mean);
    s.stddev[size_t(j)] = static_cast<float>(sd < kMinStd ? 1.0 : sd);
  }
  return s;
}

void apply_standardisation(Tensor& x, const Standardisation& s) {
  check(!s.mean.empty() && s.mean.size() == s.stddev.size(),
        "standardise: " + std::to_string(s.mean.size()) + " means but " + std::to_string(s.stddev.size()) + " stds");
  for (float sd : s.stddev) check(sd > 0, "standardise: std " + std::to_string(sd) + " is not positive");
  const int64_t n = x.rows(), f = x.cols();
  float* p = x.data();
  if (!s.per_feature()) {
    const float m = s.mean[0], inv = 1.0f / s.stddev[0];
    const int64_t total = n * f;
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t i = 0; i < total; ++i) p[i] = (p[i] - m) * inv;
    return;
  }
  check(static_cast<int64_t>(s.mean.size()) == f, "standardise: statistics for " + std::to_string(s.mean.size()) +
                                                      " features, data has " + std::to_string(f));
  std::vector<float> inv(static_cast<size_t>(f));
  for (int64_t j = 0; j < f; ++j) inv[size_t(j)] = 1.0f / s.stddev[size_t(j)];
#pragma omp parallel for schedule(static) if (n * f >= kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    float* row = p + i * f;
    for (int64_t j = 0; j < f; ++j) row[j] = (row[j] - s.mean[size_t(j)]) * inv[size_t(j)];
  }
}

Standardisation standardise(InMemoryDataset& train, InMemoryDataset& test, bool per_feature) {
  Standardisation s = compute_standardisation(train.x(), per_feature);
  apply_standardisation(train.x(), s);
  if (test.size() > 0) apply_standardisation(test.x(), s);
  return s;
}

void apply_preprocess(Tensor& x, const Preprocess& p) {
  if (p.scale) {
    float* d = x.data();
    const int64_t total = x.size();
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
    for (int64_t i = 0; i < total; ++i) d[i] = d[i] / 255.0f;
  }
  if (p.standardise)
    apply_standardisation(x, p.statistics ? *p.statistics : compute_standardisation(x, p.per_feature));
}

}  // namespace nnlab
