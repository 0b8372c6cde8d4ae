// Image augmentation: golden geometry (explicit parameters, no randomness) against hand-worked
// results and against Keras's matrix resampled by scipy (tests/golden/make_augment_golden.py), every
// fill mode past the border, flips, the pixel-wise augmentations' statistics, reproducible batches,
// a fit resumed from its checkpoint augmenting as an uninterrupted one, refused options, the PNG
// writer and `nnlab augment` end to end.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "nnlab/data/augment.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/png.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
namespace fs = std::filesystem;

namespace {

struct Img {
  int64_t h, w, c = 1;
  std::vector<float> v;  // (h, w, c)
  Img(int64_t h_, int64_t w_, int64_t c_ = 1, float fill = 0) : h(h_), w(w_), c(c_), v(h_ * w_ * c_, fill) {}
  ImageView view() { return {v.data(), h, w, c}; }
  float& at(int64_t y, int64_t x, int64_t ch = 0) { return v[static_cast<size_t>((y * w + x) * c + ch)]; }
  float at(int64_t y, int64_t x, int64_t ch = 0) const { return v[static_cast<size_t>((y * w + x) * c + ch)]; }
};

Img geometry(Img img, const GeometryParams& p, const Fill& fill = {}) {
  apply_geometry(img.view(), p, fill);
  return img;
}

// Throws, and the message contains every one of `parts`.
template <class F>
void expect_error(F f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << parts.front() << "'";
  } catch (const Error& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

}  // namespace

// --- geometry with explicit parameters ------------------------------------------------------------

// Keras's convention (output pixels sample the input at M * p): tx = +3 samples 3 pixels to the
// right, so the content moves 3 pixels LEFT; ty = +2 moves it 2 pixels UP.
TEST(AugmentGeometry, ShiftMovesABrightPixelByKerasSignConvention) {
  Img img(28, 28);
  img.at(12, 10) = 1;
  GeometryParams p;
  p.tx = 3;
  Img out = geometry(img, p);
  EXPECT_FLOAT_EQ(out.at(12, 7), 1.0f);
  EXPECT_FLOAT_EQ(std::accumulate(out.v.begin(), out.v.end(), 0.0f), 1.0f);
  p = {};
  p.ty = 2;
  out = geometry(img, p);
  EXPECT_FLOAT_EQ(out.at(10, 10), 1.0f);
  p = {};
  p.tx = -3;
  p.ty = -2;
  out = geometry(img, p);
  EXPECT_FLOAT_EQ(out.at(14, 13), 1.0f);
  // A half-pixel shift splits the pixel between two neighbours (bilinear).
  p = {};
  p.tx = 0.5;
  out = geometry(img, p);
  EXPECT_FLOAT_EQ(out.at(12, 9), 0.5f);
  EXPECT_FLOAT_EQ(out.at(12, 10), 0.5f);
}

TEST(AugmentGeometry, RotationBy90DegreesTurnsCounterClockwise) {
  for (int64_t n : {5, 6}) {  // odd and even sizes: the centre is a pixel or a pixel corner
    Img img(n, n);
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) img.at(y, x) = static_cast<float>(y * 10 + x * x);  // asymmetric
    GeometryParams p;
    p.theta = 90;
    const Img out = geometry(img, p);
    Img expected(n, n);  // numpy's rot90: flipud(transpose)
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) expected.at(y, x) = img.at(x, n - 1 - y);
    for (size_t i = 0; i < out.v.size(); ++i) EXPECT_NEAR(out.v[i], expected.v[i], 1e-4) << "n " << n << " i " << i;
    // -90 turns it back; 180 is both flips.
    p.theta = -90;
    const Img back = geometry(out, p);
    for (size_t i = 0; i < out.v.size(); ++i) EXPECT_NEAR(back.v[i], img.v[i], 1e-4);
    p.theta = 180;
    const Img half = geometry(img, p);
    for (int64_t y = 0; y < n; ++y)
      for (int64_t x = 0; x < n; ++x) EXPECT_NEAR(half.v[y * n + x], img.at(n - 1 - y, n - 1 - x), 1e-4);
  }
}

TEST(AugmentGeometry, ZoomScalesAboutTheCentre) {
  // A linear pattern stays linear under bilinear interpolation, so the result is exact:
  // zoom 0.5 (content twice as large) samples c + 0.5 (p - c).
  Img img(8, 8);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) img.at(y, x) = static_cast<float>(x + 10 * y);
  GeometryParams p;
  p.zx = p.zy = 0.5;
  const Img big = geometry(img, p);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x)
      EXPECT_NEAR(big.at(y, x), (3.5 + 0.5 * (x - 3.5)) + 10 * (3.5 + 0.5 * (y - 3.5)), 1e-4);
  // zoom 2 (content half as large): samples c + 2 (p - c), clamped at the border by "nearest".
  p.zx = p.zy = 2;
  const Img small = geometry(img, p);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) {
      const double sx = std::clamp(3.5 + 2 * (x - 3.5), 0.0, 7.0), sy = std::clamp(3.5 + 2 * (y - 3.5), 0.0, 7.0);
      EXPECT_NEAR(small.at(y, x), sx + 10 * sy, 1e-4);
    }
  // zx and zy act on their own axes.
  p.zx = 0.5;
  p.zy = 1;
  const Img wide = geometry(img, p);
  EXPECT_NEAR(wide.at(2, 0), 1.75 + 20, 1e-4);
  // A bright 2x2 block at the centre (pixels 3 and 4) doubles in size: row and column profiles are
  // the bilinear hat sampled at 3.5 + 0.5 (p - 3.5), so pixels 2-5 are mostly bright (0.75 or 1).
  Img block(8, 8);
  for (int64_t y = 3; y <= 4; ++y)
    for (int64_t x = 3; x <= 4; ++x) block.at(y, x) = 1;
  p.zx = p.zy = 0.5;
  const Img grown = geometry(block, p);
  auto profile = [](int64_t i) {
    const double s = 3.5 + 0.5 * (static_cast<double>(i) - 3.5);
    return std::clamp(std::min(s - 2, 5 - s), 0.0, 1.0);
  };
  EXPECT_DOUBLE_EQ(profile(1), 0.25);
  EXPECT_DOUBLE_EQ(profile(2), 0.75);
  EXPECT_DOUBLE_EQ(profile(3), 1.0);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) EXPECT_NEAR(grown.at(y, x), profile(y) * profile(x), 1e-6) << y << "," << x;
}

TEST(AugmentGeometry, FillModesPastTheBorder) {
  // Rows 1 2 3 4 5; tx = -2 moves the content 2 pixels right, so x = 0, 1 sample x = -2, -1.
  Img img(3, 5);
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 5; ++x) img.at(y, x) = static_cast<float>(x + 1);
  GeometryParams p;
  p.tx = -2;
  auto row = [&](FillMode mode, float cval) {
    const Img out = geometry(img, p, {mode, cval});
    return std::vector<float>(out.v.begin() + 5, out.v.begin() + 10);  // the middle row
  };
  EXPECT_EQ(row(FillMode::Nearest, 0), (std::vector<float>{1, 1, 1, 2, 3}));   // repeats the edge
  EXPECT_EQ(row(FillMode::Constant, 9), (std::vector<float>{9, 9, 1, 2, 3}));  // cval
  EXPECT_EQ(row(FillMode::Reflect, 0), (std::vector<float>{2, 1, 1, 2, 3}));   // mirrors: b a | a b c
  EXPECT_EQ(row(FillMode::Wrap, 0), (std::vector<float>{4, 5, 1, 2, 3}));      // wraps: d e | a b c
  // And past the other border, vertically.
  Img col(5, 1);
  for (int64_t y = 0; y < 5; ++y) col.at(y, 0) = static_cast<float>(y + 1);
  p = {};
  p.ty = 3;  // samples y + 3: rows 3..7
  EXPECT_EQ(geometry(col, p, {FillMode::Nearest, 0}).v, (std::vector<float>{4, 5, 5, 5, 5}));
  EXPECT_EQ(geometry(col, p, {FillMode::Constant, -1}).v, (std::vector<float>{4, 5, -1, -1, -1}));
  EXPECT_EQ(geometry(col, p, {FillMode::Reflect, 0}).v, (std::vector<float>{4, 5, 5, 4, 3}));
  EXPECT_EQ(geometry(col, p, {FillMode::Wrap, 0}).v, (std::vector<float>{4, 5, 1, 2, 3}));
  EXPECT_EQ(parse_fill_mode("reflect"), FillMode::Reflect);
  expect_error([] { parse_fill_mode("mirror"); }, {"fill_mode", "\"mirror\"", "nearest, constant, reflect, wrap"});
}

TEST(AugmentGeometry, FlipsMirrorColumnsAndRows) {
  Img img(3, 4, 2);  // two channels travel together
  for (size_t i = 0; i < img.v.size(); ++i) img.v[i] = static_cast<float>(i);
  GeometryParams p;
  p.flip_horizontal = true;
  Img out = geometry(img, p);
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 4; ++x)
      for (int64_t c = 0; c < 2; ++c) EXPECT_EQ(out.at(y, x, c), img.at(y, 3 - x, c));
  p = {};
  p.flip_vertical = true;
  out = geometry(img, p);
  for (int64_t y = 0; y < 3; ++y)
    for (int64_t x = 0; x < 4; ++x)
      for (int64_t c = 0; c < 2; ++c) EXPECT_EQ(out.at(y, x, c), img.at(2 - y, x, c));
  // As augmentations: p = 1 always flips, p = 0 never.
  Rng rng(1);
  Img a = img;
  HorizontalFlip(1.0).apply(a.view(), rng);
  EXPECT_EQ(a.at(0, 0, 1), img.at(0, 3, 1));
  Img b = img;
  VerticalFlip(0.0).apply(b.view(), rng);
  EXPECT_EQ(b.v, img.v);
  // p = 0.5 flips about half of the images.
  int flipped = 0;
  for (int i = 0; i < 1000; ++i) {
    Img c = img;
    HorizontalFlip(0.5).apply(c.view(), rng);
    flipped += c.v != img.v;
  }
  EXPECT_NEAR(flipped, 500, 60);
}

TEST(AugmentGeometry, ShearFollowsKerasMatrix) {
  // in_x = x - sin(s) (y - cy) about the centre; in_y = cy + cos(s) (y - cy). A vertical line x = 3
  // in an 8x8 image becomes slanted: row y picks x_in = x - sin(s) (y - 3.5).
  Img img(8, 8);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8; ++x) img.at(y, x) = static_cast<float>(x);
  GeometryParams p;
  p.shear = 20;
  const Img out = geometry(img, p);
  const double s = std::sin(20 * M_PI / 180);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 2; x < 6; ++x) EXPECT_NEAR(out.at(y, x), std::clamp(x - s * (y - 3.5), 0.0, 7.0), 1e-4);
}

// Golden outputs: Keras's matrix (checked against Keras's own apply_affine_transform where it
// applies) resampled by scipy.ndimage.affine_transform(order=1).
TEST(AugmentGolden, MatchesScipyAffineTransform) {
  const std::string path = std::string(NNLAB_TEST_DATA) + "/augment_golden.json";
  const auto doc = nlohmann::json::parse(read_file(path));
  int cases = 0;
  for (const auto& c : doc.at("cases")) {
    const auto& im = doc.at("images").at(c.at("image").get<std::string>());
    Img img(im.at("height").get<int64_t>(), im.at("width").get<int64_t>());
    img.v = im.at("values").get<std::vector<float>>();
    const auto& pj = c.at("params");
    GeometryParams p;
    p.theta = pj.at("theta");
    p.tx = pj.at("tx");
    p.ty = pj.at("ty");
    p.shear = pj.at("shear");
    p.zx = pj.at("zx");
    p.zy = pj.at("zy");
    const Fill fill{parse_fill_mode(c.at("fill_mode")), c.at("cval").get<float>()};
    const Img out = geometry(img, p, fill);
    const auto expected = c.at("output").get<std::vector<float>>();
    ASSERT_EQ(expected.size(), out.v.size());
    double worst = 0;
    for (size_t i = 0; i < expected.size(); ++i) worst = std::max(worst, std::abs(double(out.v[i]) - expected[i]));
    EXPECT_LT(worst, 2e-5) << c.at("image") << " " << c.at("fill_mode") << " " << pj.dump();
    ++cases;
  }
  EXPECT_EQ(cases, 8);
}

TEST(AugmentGeometry, AffineMatrixIsKerasOrderAboutTheCentre) {
  GeometryParams p;
  auto m = affine_matrix(p, 28, 28);
  EXPECT_EQ(m, (std::array<double, 6>{1, 0, 0, 0, 1, 0}));
  p.tx = 2;
  p.theta = 90;  // the shift is applied in the rotated frame (rotation * shift)
  m = affine_matrix(p, 28, 28);
  // centre 13.5: in = c + R (t + (out - c)); R(90) t = (0, 2).
  EXPECT_NEAR(m[0] * 13.5 + m[1] * 13.5 + m[2], 13.5, 1e-9);
  EXPECT_NEAR(m[3] * 13.5 + m[4] * 13.5 + m[5], 15.5, 1e-9);
}

// --- random augmentations --------------------------------------------------------------------

TEST(AugmentRandom, GeometryKeepsValuesWithinTheInputRange) {
  AugmentOptions o;
  o.rotation_range = 30;
  o.width_shift_range = 0.2;
  o.height_shift_range = 3;  // pixels
  o.zoom_range = AugmentOptions::zoom(0.3);
  o.shear_range = 15;
  o.elastic_alpha = 34;
  o.horizontal_flip = o.vertical_flip = true;
  const ImageAugmenter aug(o);
  Rng rng(5);
  for (int i = 0; i < 50; ++i) {
    Img img(28, 28);
    for (size_t k = 0; k < img.v.size(); ++k) img.v[k] = static_cast<float>((k * 37) % 101) / 100.0f;
    aug.apply(img.view(), rng);
    for (float v : img.v) {
      EXPECT_GE(v, 0.0f);
      EXPECT_LE(v, 1.0f);
    }
  }
}

TEST(AugmentRandom, ShiftRangesDrawFractionsOrPixels) {
  // width_shift_range 0.25 of 20 pixels: |tx| <= 5; 2 (pixels): |ty| <= 2.
  Rng rng(3);
  double max_tx = 0, max_ty = 0;
  for (int i = 0; i < 2000; ++i) {
    GeometryDraw g;
    g.height = 10;
    g.width = 20;
    WidthShift(0.25).draw(g, rng);
    HeightShift(2).draw(g, rng);
    max_tx = std::max(max_tx, std::abs(g.params.tx));
    max_ty = std::max(max_ty, std::abs(g.params.ty));
    EXPECT_EQ(g.params.theta, 0);
  }
  EXPECT_LE(max_tx, 5.0);
  EXPECT_GT(max_tx, 4.9);
  EXPECT_LE(max_ty, 2.0);
  EXPECT_GT(max_ty, 1.95);
  // Zoom draws x and y independently within [lo, hi]; rotation within +-range.
  bool differ = false;
  for (int i = 0; i < 100; ++i) {
    GeometryDraw g;
    Zoom(0.8, 1.2).draw(g, rng);
    Rotation(10).draw(g, rng);
    EXPECT_GE(g.params.zx, 0.8);
    EXPECT_LE(g.params.zy, 1.2);
    EXPECT_LE(std::abs(g.params.theta), 10.0);
    differ = differ || g.params.zx != g.params.zy;
  }
  EXPECT_TRUE(differ);
}

TEST(AugmentRandom, BrightnessMultipliesByOneFactor) {
  Rng rng(1);
  Img img(4, 4);
  for (size_t k = 0; k < img.v.size(); ++k) img.v[k] = 0.1f + 0.05f * static_cast<float>(k);
  Img half = img;
  Brightness(0.5, 0.5).apply(half.view(), rng);
  for (size_t k = 0; k < img.v.size(); ++k) EXPECT_FLOAT_EQ(half.v[k], img.v[k] * 0.5f);
  for (int i = 0; i < 50; ++i) {
    Img b = img;
    Brightness(0.8, 1.2).apply(b.view(), rng);
    const float f = b.v[0] / img.v[0];
    EXPECT_GE(f, 0.8f - 1e-6f);
    EXPECT_LE(f, 1.2f + 1e-6f);
    for (size_t k = 0; k < img.v.size(); ++k) EXPECT_NEAR(b.v[k], img.v[k] * f, 1e-5);
  }
}

TEST(AugmentRandom, GaussianNoiseHasTheRightStd) {
  Rng rng(11);
  Img img(200, 200, 1, 0.5f);
  GaussianNoise(0.1).apply(img.view(), rng);
  double sum = 0, sq = 0;
  for (float v : img.v) {
    sum += v - 0.5;
    sq += (v - 0.5) * (v - 0.5);
  }
  const double n = static_cast<double>(img.v.size()), mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
  EXPECT_NEAR(mean, 0.0, 0.002);
  EXPECT_NEAR(sd, 0.1, 0.002);
}

TEST(AugmentRandom, ErasingErasesOneRectangleWithinTheAreaRange) {
  Rng rng(7);
  const int64_t H = 40, W = 40;
  int erased_images = 0;
  for (int i = 0; i < 200; ++i) {
    Img img(H, W, 2, 1.0f);
    RandomErasing(1.0, {0.1, 0.2}, {0.5, 2.0}, -1.0f).apply(img.view(), rng);
    int64_t count = 0, y0 = H, y1 = -1, x0 = W, x1 = -1;
    for (int64_t y = 0; y < H; ++y)
      for (int64_t x = 0; x < W; ++x)
        if (img.at(y, x, 0) == -1.0f) {
          EXPECT_EQ(img.at(y, x, 1), -1.0f);  // every channel
          ++count;
          y0 = std::min(y0, y), y1 = std::max(y1, y), x0 = std::min(x0, x), x1 = std::max(x1, x);
        }
    ASSERT_GT(count, 0);
    ++erased_images;
    const int64_t h = y1 - y0 + 1, w = x1 - x0 + 1;
    EXPECT_EQ(count, h * w) << "not one filled rectangle";
    // Side lengths are rounded to whole pixels: the drawn area and aspect lie within half a pixel.
    const double hd = static_cast<double>(h), wd = static_cast<double>(w), total = static_cast<double>(H * W);
    EXPECT_GE((hd + 0.5) * (wd + 0.5), 0.1 * total) << h << "x" << w;
    EXPECT_LE((hd - 0.5) * (wd - 0.5), 0.2 * total) << h << "x" << w;
    EXPECT_GE((hd + 0.5) / (wd - 0.5), 0.5) << h << "x" << w;
    EXPECT_LE((hd - 0.5) / (wd + 0.5), 2.0) << h << "x" << w;
  }
  EXPECT_EQ(erased_images, 200);
  Img untouched(H, W, 1, 1.0f);
  RandomErasing(0.0).apply(untouched.view(), rng);
  EXPECT_TRUE(std::all_of(untouched.v.begin(), untouched.v.end(), [](float v) { return v == 1.0f; }));
}

TEST(AugmentRandom, ElasticDistortionIsSmoothAndSeeded) {
  Img img(28, 28);
  for (int64_t y = 0; y < 28; ++y)
    for (int64_t x = 0; x < 28; ++x) img.at(y, x) = static_cast<float>(x);  // a ramp: value = x
  const ElasticDistortion e(8, 4);
  Img a = img, b = img, c = img;
  Rng r1(4), r2(4), r3(5);
  e.apply(a.view(), r1);
  e.apply(b.view(), r2);
  e.apply(c.view(), r3);
  EXPECT_EQ(a.v, b.v);
  EXPECT_NE(a.v, c.v);
  // Away from the border the output minus x is the horizontal displacement: non-zero, and smooth
  // (neighbours differ far less than the displacement itself).
  double mean_abs = 0, mean_step = 0;
  int n = 0;
  for (int64_t y = 8; y < 20; ++y)
    for (int64_t x = 8; x < 19; ++x, ++n) {
      mean_abs += std::abs(a.at(y, x) - x);
      mean_step += std::abs((a.at(y, x + 1) - (x + 1)) - (a.at(y, x) - x));
    }
  mean_abs /= n;
  mean_step /= n;
  EXPECT_GT(mean_abs, 0.05);
  EXPECT_LT(mean_step, 0.5 * mean_abs);
  EXPECT_THROW(ElasticDistortion(8, 0), Error);
}

// A user-defined augmentation, and a user-defined geometric one composed into the one resampling.
struct Invert : Augmentation {
  std::string name() const override { return "invert"; }
  void apply(ImageView image, Rng&) const override {
    for (int64_t i = 0; i < image.size(); ++i) image.data[i] = 1 - image.data[i];
  }
};
struct FixedShift : GeometricAugmentation {
  std::string name() const override { return "fixed_shift"; }
  void draw(GeometryDraw& g, Rng&) const override { g.params.tx += 1; }
};

TEST(AugmentPipeline, UserDefinedAugmentationsRunAfterTheBuiltIns) {
  AugmentOptions o;
  o.brightness_range = {0.5, 0.5};
  ImageAugmenter aug(o);
  aug.add(std::make_shared<Invert>()).add(std::make_shared<FixedShift>());
  EXPECT_NE(aug.describe().find("user-defined: fixed_shift, invert"), std::string::npos) << aug.describe();
  Img img(3, 4);
  img.at(1, 2) = 1;  // moves to x = 1, halved to 0.5, inverted to 0.5; everything else 0 -> 1
  Rng rng(1);
  aug.apply(img.view(), rng);
  EXPECT_FLOAT_EQ(img.at(1, 1), 0.5f);
  EXPECT_FLOAT_EQ(img.at(1, 2), 1.0f);
  EXPECT_FLOAT_EQ(img.at(0, 0), 1.0f);
  EXPECT_THROW(aug.add(nullptr), Error);
}

// --- options ---------------------------------------------------------------------------------

TEST(AugmentOptions, BadValuesAreRefusedWithTheValue) {
  auto with = [](auto change) {
    AugmentOptions o;
    change(o);
    return o;
  };
  expect_error([&] { with([](AugmentOptions& o) { o.rotation_range = -5; }).validate(); }, {"rotation_range", "-5"});
  expect_error([&] { with([](AugmentOptions& o) { o.width_shift_range = -0.1; }).validate(); },
               {"width_shift_range", "-0.1"});
  expect_error([&] { with([](AugmentOptions& o) { o.height_shift_range = -2; }).validate(); },
               {"height_shift_range", "-2"});
  expect_error([&] { with([](AugmentOptions& o) { o.zoom_range = AugmentOptions::zoom(1); }).validate(); },
               {"zoom_range", "[0.0, 2.0]", "above 0"});
  expect_error([&] { with([](AugmentOptions& o) { o.zoom_range = {1.2, 0.8}; }).validate(); },
               {"zoom_range", "[1.2, 0.8]"});
  expect_error([&] { with([](AugmentOptions& o) { o.shear_range = -1; }).validate(); }, {"shear_range", "-1"});
  expect_error([&] { with([](AugmentOptions& o) { o.brightness_range = {1.2, 0.8}; }).validate(); },
               {"brightness_range", "[1.2, 0.8]", "lo <= hi"});
  expect_error([&] { with([](AugmentOptions& o) { o.brightness_range = {-0.5, 1}; }).validate(); },
               {"brightness_range", "-0.5"});
  expect_error([&] { with([](AugmentOptions& o) { o.fill_mode = "mirror"; }).validate(); }, {"fill_mode", "mirror"});
  expect_error([&] { with([](AugmentOptions& o) { o.erasing_probability = 1.5; }).validate(); },
               {"erasing_probability", "1.5", "[0, 1]"});
  expect_error([&] { with([](AugmentOptions& o) { o.erasing_area = {0.5, 0.1}; }).validate(); }, {"erasing_area"});
  expect_error([&] { with([](AugmentOptions& o) { o.gaussian_noise = -0.1; }).validate(); },
               {"gaussian_noise", "-0.1"});
  expect_error([&] { with([](AugmentOptions& o) { o.elastic_alpha = -3; }).validate(); }, {"elastic_alpha", "-3"});
  expect_error([&] { with([](AugmentOptions& o) { o.rotation_range = std::nan(""); }).validate(); },
               {"rotation_range", "nan"});
  EXPECT_THROW(ImageAugmenter(with([](AugmentOptions& o) { o.shear_range = -1; })), Error);
  EXPECT_NO_THROW(AugmentOptions{}.validate());
  EXPECT_FALSE(AugmentOptions{}.any());
  EXPECT_TRUE(ImageAugmenter().empty());
}

TEST(AugmentOptions, FromJsonReadsKerasNames) {
  const auto aug = ImageAugmenter::from_json(nlohmann::json::parse(R"({
      "rotation_range": 10, "width_shift_range": 0.1, "height_shift_range": 2, "zoom_range": 0.2,
      "shear_range": 5, "horizontal_flip": true, "vertical_flip": false, "fill_mode": "constant",
      "cval": 0.5, "brightness_range": [0.8, 1.2], "gaussian_noise": 0.05, "elastic_alpha": 34,
      "elastic_sigma": 4, "erasing_probability": 0.5, "erasing_area": [0.02, 0.3],
      "erasing_aspect": [0.5, 2], "erasing_value": 0})"),
                                             "exp.toml [augment]");
  const auto& o = aug.options();
  EXPECT_EQ(o.rotation_range, 10);
  EXPECT_EQ(o.height_shift_range, 2);
  EXPECT_NEAR(o.zoom_range[0], 0.8, 1e-12);
  EXPECT_NEAR(o.zoom_range[1], 1.2, 1e-12);
  EXPECT_TRUE(o.horizontal_flip);
  EXPECT_EQ(o.fill_mode, "constant");
  EXPECT_EQ(o.cval, 0.5f);
  EXPECT_EQ(o.brightness_range, (std::array<double, 2>{0.8, 1.2}));
  EXPECT_EQ(o.erasing_area, (std::array<double, 2>{0.02, 0.3}));
  EXPECT_FALSE(aug.empty());
  EXPECT_NE(aug.describe().find("rotation_range=10.0"), std::string::npos) << aug.describe();
  // A pair is a zoom range as given.
  EXPECT_EQ(ImageAugmenter::from_json({{"zoom_range", {0.5, 1.5}}}).options().zoom_range,
            (std::array<double, 2>{0.5, 1.5}));
  EXPECT_TRUE(ImageAugmenter::from_json(nlohmann::json::object()).empty());
  // Errors name where, the key and the value.
  expect_error([] { ImageAugmenter::from_json({{"rotation", 10}}, "exp.toml [augment]"); },
               {"exp.toml [augment]", "unknown key 'rotation'", "rotation_range"});
  expect_error([] { ImageAugmenter::from_json({{"zoom_range", 1.5}}, "exp.toml [augment]"); },
               {"exp.toml [augment]", "zoom_range", "[-0.5, 2.5]"});
  expect_error([] { ImageAugmenter::from_json({{"zoom_range", {1}}}, "X"); }, {"X", "zoom_range", "[1]"});
  expect_error([] { ImageAugmenter::from_json({{"brightness_range", 0.5}}, "X"); }, {"brightness_range", "0.5"});
  expect_error([] { ImageAugmenter::from_json({{"horizontal_flip", 1}}, "X"); }, {"horizontal_flip", "1"});
  expect_error([] { ImageAugmenter::from_json({{"fill_mode", "mirror"}}, "X"); }, {"X", "mirror"});
  expect_error([] { ImageAugmenter::from_json({{"erasing_probability", -0.2}}, "X"); },
               {"erasing_probability", "-0.2"});
}

// --- the dataset wrapper ---------------------------------------------------------------------

namespace {

InMemoryDataset image_dataset(int64_t n, Shape sample) {
  Shape s = sample;
  s.insert(s.begin(), n);
  Tensor x(s), y({n, 1});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 255) / 255.0f;
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(i % 10);
  InMemoryDataset d(x, y, 10);
  d.name = "images";
  return d;
}

AugmentOptions course_options() {
  AugmentOptions o;
  o.rotation_range = 10;
  o.width_shift_range = o.height_shift_range = 0.1;
  o.zoom_range = AugmentOptions::zoom(0.1);
  return o;
}

}  // namespace

TEST(AugmentedDatasetTest, SameSeedSameBatchesAndEveryCallDiffers) {
  const InMemoryDataset base = image_dataset(64, {784});  // flat: taken as (28, 28)
  AugmentedDataset a(base, ImageAugmenter(course_options()), 7), b(base, ImageAugmenter(course_options()), 7),
      c(base, ImageAugmenter(course_options()), 8);
  EXPECT_EQ(a.image_shape(), (Shape{28, 28, 1}));
  EXPECT_EQ(a.num_classes, 10);
  std::vector<int64_t> idx(40);
  std::iota(idx.begin(), idx.end(), 3);
  Tensor xa, ya, xb, yb, xc, yc, x0, y0;
  a.gather(idx, xa, ya);
  b.gather(idx, xb, yb);
  c.gather(idx, xc, yc);
  base.gather(idx, x0, y0);
  EXPECT_EQ(std::vector<float>(xa.span().begin(), xa.span().end()), std::vector<float>(xb.span().begin(), xb.span().end()));
  EXPECT_NE(std::vector<float>(xa.span().begin(), xa.span().end()), std::vector<float>(xc.span().begin(), xc.span().end()));
  EXPECT_NE(std::vector<float>(xa.span().begin(), xa.span().end()), std::vector<float>(x0.span().begin(), x0.span().end()));
  EXPECT_EQ(std::vector<float>(ya.span().begin(), ya.span().end()), std::vector<float>(y0.span().begin(), y0.span().end()));
  EXPECT_EQ(xa.shape(), x0.shape());
  // The next call with the same indices augments differently; each sample of a batch too.
  Tensor xa2, ya2;
  a.gather(idx, xa2, ya2);
  EXPECT_NE(std::vector<float>(xa.span().begin(), xa.span().end()), std::vector<float>(xa2.span().begin(), xa2.span().end()));
  EXPECT_EQ(a.calls(), 2u);
  // Restoring the counter replays the call.
  a.set_calls(1);
  Tensor xa3, ya3;
  a.gather(idx, xa3, ya3);
  EXPECT_EQ(std::vector<float>(xa2.span().begin(), xa2.span().end()), std::vector<float>(xa3.span().begin(), xa3.span().end()));
}

TEST(AugmentedDatasetTest, ResultsDoNotDependOnTheThreadCount) {
  const InMemoryDataset base = image_dataset(100, {28, 28});
  AugmentOptions o = course_options();
  o.elastic_alpha = 20;
  o.gaussian_noise = 0.05;
  o.erasing_probability = 0.5;
  std::vector<int64_t> idx(100);
  std::iota(idx.begin(), idx.end(), 0);
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2, 3}) {
    AugmentedDataset d(base, ImageAugmenter(o), 99);
    d.set_threads(threads);
    Tensor x, y;
    d.gather(idx, x, y);
    d.gather(idx, x, y);  // the second call, to check the counter too
    results.emplace_back(x.span().begin(), x.span().end());
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0], results[2]);
}

TEST(AugmentedDatasetTest, DisabledIsAPassThrough) {
  const InMemoryDataset base = image_dataset(20, {28, 28});
  AugmentedDataset d(base, ImageAugmenter(course_options()), 1);
  d.set_enabled(false);
  std::vector<int64_t> idx = {3, 1, 4, 1, 5};
  Tensor x, y, x0, y0;
  d.gather(idx, x, y);
  base.gather(idx, x0, y0);
  EXPECT_EQ(std::vector<float>(x.span().begin(), x.span().end()), std::vector<float>(x0.span().begin(), x0.span().end()));
  EXPECT_EQ(d.calls(), 0u);
}

TEST(AugmentedDatasetTest, ImageShapesAreCheckedOrInferred) {
  const InMemoryDataset rgb = image_dataset(4, {6, 8, 3});
  EXPECT_EQ(AugmentedDataset(rgb, ImageAugmenter(), 1).image_shape(), (Shape{6, 8, 3}));
  const InMemoryDataset flat = image_dataset(4, {48});
  EXPECT_EQ(AugmentedDataset(flat, ImageAugmenter(), 1, {6, 8}).image_shape(), (Shape{6, 8, 1}));
  expect_error([&] { AugmentedDataset(flat, ImageAugmenter(), 1); }, {"images", "(48)", "not square"});
  expect_error([&] { AugmentedDataset(flat, ImageAugmenter(), 1, {7, 7}); }, {"(7, 7)", "49", "48"});
  EXPECT_NE(augment_sample_seed(1, 0, 0), augment_sample_seed(1, 0, 1));
  EXPECT_NE(augment_sample_seed(1, 0, 1), augment_sample_seed(1, 1, 0));
  EXPECT_NE(augment_sample_seed(1, 0, 0), augment_sample_seed(2, 0, 0));
}

TEST(AugmentedDatasetTest, TrainsReproduciblyThroughTheTrainer) {
  // The trainer gathers on its prefetch thread, in order: the same seed gives the same history.
  const InMemoryDataset base = image_dataset(256, {64});
  auto run = [&](uint64_t seed) {
    AugmentedDataset train(base, ImageAugmenter(course_options()), seed, {8, 8});
    Model m;
    m.add<Dense>(16, "relu").add<Dense>(10, "softmax");
    m.build({64}, 3);
    Trainer t(m, make_loss("sparse_categorical_crossentropy"), make_optimizer("adam", {}));
    FitOptions fit;
    fit.epochs = 2;
    fit.batch_size = 32;
    fit.verbose = 0;
    const History h = t.fit(train, fit, &base);
    EXPECT_EQ(train.calls(), 16u);  // 8 batches an epoch; validation data is not augmented
    return h.column("loss");
  };
  const auto a = run(5), b = run(5), c = run(6);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
}

// Trainer::fit alone, no run_experiment: a fit interrupted after two epochs and resumed from its
// checkpoint, with a fresh wrapper as a new process has (its counter at 0), ends with the weights
// and history of the fit never interrupted: on resume, fit moves the augmentation's random stream
// past the finished epochs' batches (Dataset::seek_batches).
TEST(AugmentedDatasetTest, AFitResumedFromItsCheckpointAugmentsAsAnUninterruptedOne) {
  kernels::set_num_threads(1);  // bit for bit
  const InMemoryDataset base = image_dataset(100, {64});
  const fs::path dir = fs::temp_directory_path() / "nnlab_augment_fit_resume";
  fs::remove_all(dir);
  fs::create_directories(dir);
  struct StopAt : Callback {  // what a kill after the checkpoint of epoch `at` leaves
    int at;
    explicit StopAt(int a) : at(a) {}
    void on_epoch_begin(int epoch, TrainState&) override {
      if (epoch == at) throw std::runtime_error("stopped");
    }
  };
  auto run = [&](const std::string& checkpoint, int stop_at, bool resume, std::vector<float>* weights) {
    AugmentedDataset train(base, ImageAugmenter(course_options()), 21, {8, 8});
    Model m;
    m.add<Dense>(16, "relu").add<Dense>(10, "softmax");
    m.build({64}, 3);
    Trainer t(m, make_loss("sparse_categorical_crossentropy"), make_optimizer("adam", {}));
    FitOptions fit;
    fit.epochs = 4;
    fit.batch_size = 32;  // 4 batches an epoch, the last one short
    fit.verbose = 0;
    fit.checkpoint_path = (dir / checkpoint).string();
    fit.resume = resume;
    StopAt stop(stop_at);
    std::vector<Callback*> cbs;
    if (stop_at >= 0) cbs.push_back(&stop);
    const History h = t.fit(train, fit, &base, cbs);
    EXPECT_EQ(train.calls(), 16u);  // every epoch's batches, counted from the first
    if (weights) weights->assign(m.params().begin(), m.params().end());
    return h;
  };
  std::vector<float> whole_weights, resumed_weights;
  const History whole = run("whole.safetensors", -1, false, &whole_weights);
  EXPECT_THROW(run("cut.safetensors", 2, false, nullptr), std::runtime_error);
  const History resumed = run("cut.safetensors", -1, true, &resumed_weights);
  EXPECT_EQ(resumed_weights, whole_weights) << "the resumed fit ends with other weights";
  // The history as a checkpoint holds it (and history.csv shows it): every epoch's losses and accuracy.
  EXPECT_EQ(resumed.to_csv(), whole.to_csv());
  fs::remove_all(dir);
}

// --- PNG -------------------------------------------------------------------------------------

namespace {
uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}
}  // namespace

TEST(Png, SignatureHeaderAndPixelsRoundTrip) {
  const int64_t W = 5, H = 3;
  std::vector<uint8_t> px(W * H);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>(i * 17);
  const std::string png = encode_png_gray(W, H, px.data());
  ASSERT_GT(png.size(), 8u + 25 + 12 + 12);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(be32(png, 8), 13u);
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(png, 16), uint32_t(W));
  EXPECT_EQ(be32(png, 20), uint32_t(H));
  EXPECT_EQ(png[24], 8);  // bit depth
  EXPECT_EQ(png[25], 0);  // grayscale
  EXPECT_EQ(be32(png, 29), uint32_t(crc32(0, reinterpret_cast<const Bytef*>(png.data() + 12), 17)));
  // IDAT holds the rows, each after filter byte 0.
  const size_t idat = 33;
  EXPECT_EQ(png.substr(idat + 4, 4), "IDAT");
  const uint32_t len = be32(png, idat);
  std::vector<uint8_t> raw(H * (W + 1));
  uLongf raw_len = raw.size();
  ASSERT_EQ(uncompress(raw.data(), &raw_len, reinterpret_cast<const Bytef*>(png.data() + idat + 8), len), Z_OK);
  ASSERT_EQ(raw_len, raw.size());
  for (int64_t y = 0; y < H; ++y) {
    EXPECT_EQ(raw[y * (W + 1)], 0);
    for (int64_t x = 0; x < W; ++x) EXPECT_EQ(raw[y * (W + 1) + 1 + x], px[y * W + x]);
  }
  EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
  // The file on disk is the same bytes.
  const fs::path path = fs::temp_directory_path() / "nnlab_test_png.png";
  write_png_gray(path.string(), W, H, px.data());
  EXPECT_EQ(read_file(path.string()), png);
  fs::remove(path);
  EXPECT_THROW(encode_png_gray(0, 3, px.data()), Error);
}

// --- the command line ------------------------------------------------------------------------

TEST(AugmentCli, WritesAGridOfFashionMnist) {
  if (!find_dataset("fashion-mnist").present) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path out = fs::temp_directory_path() / "nnlab_augment_grid.png";
  fs::remove(out);
  auto r = nnlab::testing::run_nnlab("augment --samples 3 --copies 4 --scale 2 --rotation 15 --shift 0.1 --out '" +
                                     out.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("rotation_range=15.0"), std::string::npos) << r.output;
  const std::string png = read_file(out.string());
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  // 5 columns of 56 pixels + gaps of 2 + a 6-pixel rule after the originals; 3 rows.
  EXPECT_EQ(be32(png, 16), uint32_t(2 + 5 * (56 + 2) + 6));
  EXPECT_EQ(be32(png, 20), uint32_t(2 + 3 * (56 + 2)));
  fs::remove(out);

  auto bad = nnlab::testing::run_nnlab("augment --set zoom_range=1 --out '" + out.string() + "'");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("zoom_range"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("[0.0, 2.0]"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(out));
}

// --- test-time augmentation --------------------------------------------------------------------

TEST(TestTimeAugmentation, CopiesAreTheAugmentedDatasetsBatchesAndReproducible) {
  const InMemoryDataset base = image_dataset(300, {784});  // more than one batch of 256
  const ImageAugmenter aug(course_options());
  const auto copies = augmented_copies(base, aug, 3, 9);
  ASSERT_EQ(copies.size(), 3u);
  for (const Tensor& c : copies) EXPECT_EQ(c.shape(), base.x().shape());
  EXPECT_NE(copies[0].span()[0], copies[1].span()[0]);
  EXPECT_NE(std::vector<float>(copies[0].span().begin(), copies[0].span().end()),
            std::vector<float>(base.x().span().begin(), base.x().span().end()));
  // Copy k is what an AugmentedDataset seeded with 9 + k gathers, batch by batch in order.
  const AugmentedDataset second(base, aug, 10);
  std::vector<int64_t> first_batch(256), rest(44);
  std::iota(first_batch.begin(), first_batch.end(), 0);
  std::iota(rest.begin(), rest.end(), 256);
  Tensor x, y;
  second.gather(first_batch, x, y);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], copies[1][i]) << i;
  second.gather(rest, x, y);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], copies[1][256 * 784 + i]) << i;
  // The same seed, the same copies; none asked, none made.
  const auto again = augmented_copies(base, aug, 3, 9);
  for (size_t k = 0; k < 3; ++k)
    EXPECT_EQ(std::vector<float>(again[k].span().begin(), again[k].span().end()),
              std::vector<float>(copies[k].span().begin(), copies[k].span().end()));
  EXPECT_TRUE(augmented_copies(base, aug, 0, 9).empty());
}

TEST(TestTimeAugmentation, ThePredictionIsTheMeanOverTheImagesAndTheCopies) {
  const InMemoryDataset base = image_dataset(40, {64});
  Model m;
  m.add<Dense>(10, "softmax");
  m.build({64}, 5);
  const auto copies = augmented_copies(base, ImageAugmenter(course_options()), 2, 1, {8, 8});
  const Tensor mean = predict_averaged(m, base.x(), copies);
  const Tensor a = m.predict(base.x()), b = m.predict(copies[0]), c = m.predict(copies[1]);
  double differs = 0;
  for (int64_t i = 0; i < mean.size(); ++i) {
    EXPECT_NEAR(mean[i], (a[i] + b[i] + c[i]) / 3.0f, 1e-6f) << i;
    differs += std::fabs(mean[i] - a[i]);
  }
  EXPECT_GT(differs, 1e-3);  // the copies changed the prediction
  EXPECT_THROW(predict_averaged(m, base.x(), {Tensor({3, 64})}), Error);
}
