// Elastic distortion (Simard, Steinkraus and Platt 2003, "Best practices for convolutional neural
// networks applied to visual document analysis"): a random displacement field, dx and dy uniform in
// [-1, 1) per pixel, each convolved with a Gaussian of standard deviation sigma (taps out to 4
// sigma, zero beyond the border) and scaled by alpha. It is added to the positions the affine
// transform samples from, so the image is still resampled once.
#include <cmath>

#include "common.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

ElasticDistortion::ElasticDistortion(double a, double s) : alpha(a), sigma(s) {
  augment::require(alpha >= 0, "elastic_alpha", "0 or more (pixels)", alpha);
  augment::require(sigma > 0 && sigma <= 1000, "elastic_sigma", "above 0 (pixels)", sigma);
}

namespace {

// out (rows, cols) = in (rows, cols) convolved along the rows axis with k (zero beyond the ends).
// For one tap the rows that take part form one contiguous run of the flat array, so each tap is a
// single long axpy.
void convolve_rows(const float* __restrict in, float* __restrict out, int64_t rows, int64_t cols,
                   const std::vector<float>& k) {
  const int64_t r = static_cast<int64_t>(k.size()) / 2;
  for (int64_t i = 0; i < rows * cols; ++i) out[i] = 0;
  for (int64_t j = -r; j <= r; ++j) {
    const float kj = k[static_cast<size_t>(j + r)];
    const int64_t lo = std::max<int64_t>(0, -j) * cols, hi = std::min<int64_t>(rows, rows - j) * cols;
    const float* src = in + j * cols;
    for (int64_t i = lo; i < hi; ++i) out[i] += kj * src[i];
  }
}

// One component of the field into f (H, W): uniform noise in [-1, 1], smoothed along x then y.
// The noise is independent per pixel, so it is drawn straight into the transposed (W, H) layout
// where smoothing along x is a smoothing along rows.
void smooth_noise(float* f, float* work, const std::vector<float>& k, int64_t H, int64_t W, float alpha, Rng& rng) {
  const int64_t n = H * W;
  for (int64_t i = 0; i < n; i += 2) {  // two 24-bit uniforms per 64-bit draw
    const uint64_t bits = rng.next();
    work[i] = static_cast<float>(bits >> 40) * 0x1p-23f - 1.0f;
    if (i + 1 < n) work[i + 1] = static_cast<float>((bits >> 16) & 0xffffff) * 0x1p-23f - 1.0f;
  }
  convolve_rows(work, f, W, H, k);  // (W, H): along x
  for (int64_t x = 0; x < W; ++x)   // transpose into (H, W), scaled by alpha
    for (int64_t y = 0; y < H; ++y) work[y * W + x] = alpha * f[x * H + y];
  convolve_rows(work, f, H, W, k);  // (H, W): along y
}

}  // namespace

void ElasticDistortion::draw(GeometryDraw& g, Rng& rng) const {
  if (alpha <= 0) return;
  AugmentScratch& s = *g.scratch;
  const int64_t H = g.height, W = g.width, n = H * W;
  if (static_cast<int64_t>(s.field.size()) < 2 * n) s.field.resize(static_cast<size_t>(2 * n));
  if (static_cast<int64_t>(s.work.size()) < n) s.work.resize(static_cast<size_t>(n));
  const int64_t r = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(4 * sigma)));
  s.kernel.resize(static_cast<size_t>(2 * r + 1));  // no allocation once the capacity is there
  double total = 0;
  for (int64_t j = -r; j <= r; ++j) total += std::exp(-0.5 * static_cast<double>(j * j) / (sigma * sigma));
  for (int64_t j = -r; j <= r; ++j)
    s.kernel[static_cast<size_t>(j + r)] =
        static_cast<float>(std::exp(-0.5 * static_cast<double>(j * j) / (sigma * sigma)) / total);
  float* field = s.field.data();  // (2, H, W)
  if (g.has_field) {  // a second elastic augmentation: add its field to the first one's
    std::vector<float> extra(static_cast<size_t>(2 * n));
    smooth_noise(extra.data(), s.work.data(), s.kernel, H, W, static_cast<float>(alpha), rng);
    smooth_noise(extra.data() + n, s.work.data(), s.kernel, H, W, static_cast<float>(alpha), rng);
    for (int64_t i = 0; i < 2 * n; ++i) field[i] += extra[static_cast<size_t>(i)];
    return;
  }
  smooth_noise(field, s.work.data(), s.kernel, H, W, static_cast<float>(alpha), rng);
  smooth_noise(field + n, s.work.data(), s.kernel, H, W, static_cast<float>(alpha), rng);
  g.has_field = true;
}

}  // namespace nnlab
