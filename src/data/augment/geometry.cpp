// The one resampling behind every geometric augmentation: Keras's affine matrix (rotation, shift,
// shear, zoom about the centre), an optional displacement field, flips, bilinear interpolation with
// scipy.ndimage's boundary modes. See augment.hpp for the conventions.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>

#include "common.hpp"
#include "nnlab/data/augment.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

FillMode parse_fill_mode(const std::string& name) {
  if (name == "nearest") return FillMode::Nearest;
  if (name == "constant") return FillMode::Constant;
  if (name == "reflect") return FillMode::Reflect;
  if (name == "wrap") return FillMode::Wrap;
  throw Error("fill_mode must be one of nearest, constant, reflect, wrap; received fill_mode=\"" + name + "\"");
}

std::string fill_mode_name(FillMode mode) {
  switch (mode) {
    case FillMode::Nearest: return "nearest";
    case FillMode::Constant: return "constant";
    case FillMode::Reflect: return "reflect";
    case FillMode::Wrap: return "wrap";
  }
  return "?";
}

namespace {

using M3 = std::array<std::array<double, 3>, 3>;

M3 mul(const M3& a, const M3& b) {
  M3 c{};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 3; ++k) c[i][j] += a[i][k] * b[k][j];
  return c;
}

// An index outside [0, n) mapped back inside by the fill mode (constant is handled by the caller).
inline int64_t map_index(int64_t i, int64_t n, FillMode mode) {
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case FillMode::Wrap: {
      const int64_t r = i % n;
      return r < 0 ? r + n : r;
    }
    case FillMode::Reflect: {  // half-sample symmetric: ... b a | a b ... y z | z y ...
      const int64_t period = 2 * n;
      int64_t r = i % period;
      if (r < 0) r += period;
      return r < n ? r : period - 1 - r;
    }
    default:  // nearest, and constant's neighbours on the border
      return std::clamp<int64_t>(i, 0, n - 1);
  }
}

}  // namespace

std::array<double, 6> affine_matrix(const GeometryParams& p, int64_t height, int64_t width) {
  const double deg = std::numbers::pi / 180.0;
  const double th = p.theta * deg, sh = p.shear * deg;
  const M3 rotation{{{std::cos(th), -std::sin(th), 0}, {std::sin(th), std::cos(th), 0}, {0, 0, 1}}};
  const M3 shift{{{1, 0, p.tx}, {0, 1, p.ty}, {0, 0, 1}}};
  const M3 shear{{{1, -std::sin(sh), 0}, {0, std::cos(sh), 0}, {0, 0, 1}}};
  const M3 zoom{{{p.zx, 0, 0}, {0, p.zy, 0}, {0, 0, 1}}};
  // Keras's order: rotation * shift * shear * zoom, then moved to turn about the centre.
  const double cx = (static_cast<double>(width) - 1) / 2, cy = (static_cast<double>(height) - 1) / 2;
  const M3 to_centre{{{1, 0, cx}, {0, 1, cy}, {0, 0, 1}}};
  const M3 from_centre{{{1, 0, -cx}, {0, 1, -cy}, {0, 0, 1}}};
  const M3 m = mul(mul(to_centre, mul(mul(mul(rotation, shift), shear), zoom)), from_centre);
  return {m[0][0], m[0][1], m[0][2], m[1][0], m[1][1], m[1][2]};
}

namespace {

// Bilinear sample of src (H, W, C) at (sx, sy) into out (C), with the fill mode beyond the border.
// kC: the channel count when known at compile time (1), else 0 and C is used.
template <int kC>
inline void sample(const float* __restrict src, int64_t H, int64_t W, int64_t C, double sx, double sy,
                   const Fill& fill, float* __restrict out) {
  const int64_t nc = kC > 0 ? kC : C;
  // Positions this close outside the image count as on its border (rounding in cos/sin of 90 deg).
  constexpr double kEdge = 1e-6;
  const double xmax = static_cast<double>(W - 1), ymax = static_cast<double>(H - 1);
  if (fill.mode == FillMode::Constant) {
    if (sx < -kEdge || sx > xmax + kEdge || sy < -kEdge || sy > ymax + kEdge) {
      for (int64_t ch = 0; ch < nc; ++ch) out[ch] = fill.cval;
      return;
    }
    sx = std::clamp(sx, 0.0, xmax);
    sy = std::clamp(sy, 0.0, ymax);
  }
  const double flx = std::floor(sx), fly = std::floor(sy);
  const float wx = static_cast<float>(sx - flx), wy = static_cast<float>(sy - fly);
  int64_t x0 = static_cast<int64_t>(flx), y0 = static_cast<int64_t>(fly), x1 = x0 + 1, y1 = y0 + 1;
  if (x0 < 0 || x1 >= W || y0 < 0 || y1 >= H) [[unlikely]] {
    x0 = map_index(x0, W, fill.mode);
    x1 = map_index(x1, W, fill.mode);
    y0 = map_index(y0, H, fill.mode);
    y1 = map_index(y1, H, fill.mode);
  }
  const float* p00 = src + (y0 * W + x0) * nc;
  const float* p01 = src + (y0 * W + x1) * nc;
  const float* p10 = src + (y1 * W + x0) * nc;
  const float* p11 = src + (y1 * W + x1) * nc;
  for (int64_t ch = 0; ch < nc; ++ch) {
    const float top = p00[ch] + wx * (p01[ch] - p00[ch]);
    const float bottom = p10[ch] + wx * (p11[ch] - p10[ch]);
    out[ch] = top + wy * (bottom - top);
  }
}

template <int kC>
void resample(float* __restrict dst, const float* __restrict src, int64_t H, int64_t W, int64_t C,
              const std::array<double, 6>& m, const GeometryParams& p, const Fill& fill,
              const float* __restrict field) {
  const auto [a, b, c, d, e, f] = m;
  const int64_t nc = kC > 0 ? kC : C;
  for (int64_t y = 0; y < H; ++y) {
    const int64_t fy = p.flip_vertical ? H - 1 - y : y;
    float* out = dst + y * W * nc;  // (W, C)
    if (field == nullptr) {  // positions are linear along the row; a horizontal flip reverses it
      const double fw = static_cast<double>(W - 1);
      const double x0 = p.flip_horizontal ? fw : 0.0, step = p.flip_horizontal ? -1.0 : 1.0;
      const double sx0 = a * x0 + b * static_cast<double>(fy) + c, sy0 = d * x0 + e * static_cast<double>(fy) + f;
      for (int64_t x = 0; x < W; ++x) {
        const double t = step * static_cast<double>(x);
        sample<kC>(src, H, W, C, sx0 + a * t, sy0 + d * t, fill, out + x * nc);
      }
      continue;
    }
    for (int64_t x = 0; x < W; ++x) {
      const int64_t fx = p.flip_horizontal ? W - 1 - x : x;
      const double qx = static_cast<double>(fx) + field[fy * W + fx];
      const double qy = static_cast<double>(fy) + field[H * W + fy * W + fx];
      sample<kC>(src, H, W, C, a * qx + b * qy + c, d * qx + e * qy + f, fill, out + x * nc);
    }
  }
}

}  // namespace

void apply_geometry(ImageView image, const GeometryParams& p, const Fill& fill, const float* field,
                    std::vector<float>& scratch) {
  if (p.is_identity() && field == nullptr) return;
  const int64_t H = image.height, W = image.width, C = image.channels, n = image.size();
  if (H < 1 || W < 1 || C < 1) throw Error("augment: empty image");  // (no message built per call)
  if (static_cast<int64_t>(scratch.size()) < n) scratch.resize(static_cast<size_t>(n));
  std::memcpy(scratch.data(), image.data, sizeof(float) * static_cast<size_t>(n));
  const auto m = affine_matrix(p, H, W);
  if (C == 1) {
    resample<1>(image.data, scratch.data(), H, W, C, m, p, fill, field);
  } else {
    resample<0>(image.data, scratch.data(), H, W, C, m, p, fill, field);
  }
}

void apply_geometry(ImageView image, const GeometryParams& p, const Fill& fill) {
  std::vector<float> scratch;
  apply_geometry(image, p, fill, nullptr, scratch);
}

void GeometricAugmentation::apply(ImageView image, Rng& rng) const {
  static thread_local AugmentScratch scratch;
  augment::draw_and_resample(image, fill, scratch, rng, [this](GeometryDraw& g, Rng& r) { draw(g, r); });
}

}  // namespace nnlab
