// The image layers (conv2d, max_pool2d, average_pool2d): finite-difference gradients of parameters
// and inputs for each option (strides, "same" padding with an odd total, dilation, no bias), forward
// values against hand-computed ones and against a plain loop over the definition (TensorFlow's
// padding arithmetic), parameter counts and summary shapes as Keras prints them, save and load, and
// the errors for bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "gradcheck.hpp"
#include "lone_layer.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::check_gradient;
using nnlab::testing::kGradTolerance;
using nnlab::testing::batch_of;
using nnlab::testing::contains;
using nnlab::testing::LoneLayer;
using nnlab::testing::random_tensor;
using json = nlohmann::json;

namespace {

// dL/dparams and dL/dx of one layer under L = sum(w * layer(x)), against central differences.
void check_layer(const json& config, const Shape& input, Tensor x, uint64_t seed) {
  SCOPED_TRACE(config.dump());
  LoneLayer l(config, input, seed);
  const Tensor w = random_tensor(batch_of(x.rows(), l.out), seed + 1);
  Tensor y;
  Rng rng(seed);
  auto f = [&] {
    l.layer->forward(x, y, Mode::Train, rng);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  ASSERT_EQ(y.shape(), batch_of(x.rows(), l.out));
  Tensor dx;
  l.layer->backward(x, y, w, &dx, false);
  ASSERT_EQ(dx.shape(), x.shape());
  const std::vector<float> grads = l.grads;
  if (!grads.empty()) {
    const auto c = check_gradient(f, l.params, grads);
    EXPECT_LT(c.max_error, kGradTolerance) << "parameters: " << c;
  }
  const std::vector<float> dxv(dx.span().begin(), dx.span().end());
  const auto c = check_gradient(f, x.span(), dxv);
  EXPECT_LT(c.max_error, kGradTolerance) << "input: " << c;
}

// Distinct values at least 0.01 apart (far more than the step 1e-3), shuffled: no max-pool window
// has a near tie, where a central difference straddles the switch of the maximum.
Tensor spaced_tensor(Shape s, uint64_t seed) {
  Tensor t(std::move(s));
  for (int64_t i = 0; i < t.size(); ++i) t[i] = 0.01f * static_cast<float>(i) - 0.005f * static_cast<float>(t.size());
  Rng rng(seed);
  for (int64_t i = t.size() - 1; i > 0; --i) std::swap(t[i], t[static_cast<int64_t>(rng.uniform(0.0f, 1.0f) * static_cast<float>(i + 1)) % (i + 1)]);
  return t;
}

json conv(int64_t filters, json kernel, json extra = json::object()) {
  json c{{"type", "conv2d"}, {"filters", filters}, {"kernel_size", kernel}};
  for (auto& [k, v] : extra.items()) c[k] = v;
  return c;
}

}  // namespace

TEST(Conv2DGradient, EachOption) {
  const std::vector<std::pair<json, Shape>> cases{
      {conv(3, 3), {5, 5, 2}},
      {conv(3, 3, {{"strides", 2}}), {7, 7, 2}},
      {conv(2, 4, {{"padding", "same"}}), {6, 6, 2}},                    // total padding 3: 1 before, 2 after
      {conv(2, 2, {{"padding", "same"}, {"strides", 2}}), {5, 5, 3}},    // total 1: 0 before, 1 after
      {conv(2, 3, {{"dilation_rate", 2}}), {7, 6, 2}},
      {conv(2, 3, {{"dilation_rate", 2}, {"padding", "same"}}), {5, 6, 1}},
      {conv(3, {3, 2}, {{"strides", {2, 1}}, {"use_bias", false}}), {7, 5, 2}},
      {conv(3, 3, {{"activation", "tanh"}, {"padding", "same"}}), {4, 4, 2}},
      {conv(4, 1, {{"activation", "sigmoid"}}), {3, 3, 3}},
  };
  uint64_t seed = 1;
  for (const auto& [config, input] : cases) {
    check_layer(config, input, random_tensor(batch_of(3, input), seed + 50), seed);
    ++seed;
  }
}

TEST(Conv2DGradient, ReluPostOp) {
  // Inputs and weights of one sign make every pre-activation clearly positive or (negated) negative.
  check_layer(conv(3, 2, {{"activation", "relu"}}), {4, 4, 2}, random_tensor({2, 4, 4, 2}, 9, 0.2f, 1.0f), 4);
}

TEST(Pool2DGradient, MaxAndAverage) {
  const std::vector<std::pair<json, Shape>> cases{
      {{{"type", "max_pool2d"}}, {4, 4, 2}},
      {{{"type", "max_pool2d"}, {"pool_size", 3}, {"strides", 2}}, {7, 7, 1}},  // overlapping windows
      {{{"type", "max_pool2d"}, {"padding", "same"}}, {5, 5, 2}},              // a partial last window
      {{{"type", "average_pool2d"}}, {4, 6, 2}},
      {{{"type", "average_pool2d"}, {"pool_size", {3, 2}}, {"padding", "same"}, {"strides", 2}}, {5, 5, 2}},
  };
  uint64_t seed = 30;
  for (const auto& [config, input] : cases) {
    check_layer(config, input, spaced_tensor(batch_of(2, input), seed), seed);
    ++seed;
  }
}

namespace {

// Conv2D by its definition, one loop per index: x (n, h, w, c), kernel (kh, kw, c, f), padding `top`
// and `left` before the image (zeros), output (n, oh, ow, f).
Tensor reference_conv(const Tensor& x, std::span<const float> k, std::span<const float> b, int64_t kh, int64_t kw,
                      int64_t f, int64_t sh, int64_t sw, int64_t dh, int64_t dw, int64_t top, int64_t left, int64_t oh,
                      int64_t ow) {
  const int64_t n = x.dim(0), h = x.dim(1), w = x.dim(2), c = x.dim(3);
  Tensor y({n, oh, ow, f});
  for (int64_t s = 0; s < n; ++s)
    for (int64_t i = 0; i < oh; ++i)
      for (int64_t j = 0; j < ow; ++j)
        for (int64_t o = 0; o < f; ++o) {
          double acc = b.empty() ? 0.0 : b[static_cast<size_t>(o)];
          for (int64_t a = 0; a < kh; ++a)
            for (int64_t e = 0; e < kw; ++e) {
              const int64_t r = i * sh + a * dh - top, q = j * sw + e * dw - left;
              if (r < 0 || r >= h || q < 0 || q >= w) continue;
              for (int64_t ci = 0; ci < c; ++ci)
                acc += static_cast<double>(x[((s * h + r) * w + q) * c + ci]) * k[static_cast<size_t>(((a * kw + e) * c + ci) * f + o)];
            }
          y[((s * oh + i) * ow + j) * f + o] = static_cast<float>(acc);
        }
  return y;
}

}  // namespace

TEST(Conv2DForward, HandComputedValues) {
  // x: one 3x3 image, two channels: channel 0 holds 1..9, channel 1 holds 10 * (1..9).
  Tensor x({1, 3, 3, 2});
  for (int64_t p = 0; p < 9; ++p) {
    x[2 * p] = static_cast<float>(p + 1);
    x[2 * p + 1] = 10.0f * static_cast<float>(p + 1);
  }
  LoneLayer l(conv(1, 2), {3, 3, 2}, 1);
  // Kernel (2, 2, 2, 1) in Keras's order: k[a][e][channel]; channel 0 weights 1, 2 / 3, 4, channel 1
  // only its bottom-right tap, -0.1; bias 0.5.
  l.params = {1, 0, 2, 0, 3, 0, 4, -0.1f, 0.5f};
  Tensor y;
  Rng rng(1);
  l.layer->forward(x, y, Mode::Infer, rng);
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 1}));
  // y[i][j] = x0[i][j] + 2 x0[i][j+1] + 3 x0[i+1][j] + 4 x0[i+1][j+1] - x0[i+1][j+1] + 0.5:
  // (1 + 4 + 12 + 15 + 0.5), (2 + 6 + 15 + 18 + 0.5), (4 + 10 + 21 + 24 + 0.5), (5 + 12 + 24 + 27 + 0.5)
  const std::vector<float> expected{32.5f, 41.5f, 59.5f, 68.5f};
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(y[static_cast<int64_t>(i)], expected[i], 1e-4) << i;
}

TEST(Conv2DForward, SamePaddingPutsTheOddPixelAfter) {
  // 4x4 image, 2x2 kernel of ones, "same": total padding 1 per axis, all of it after (bottom, right),
  // as TensorFlow pads. So y[0][0] sums x[0..1][0..1] and y[3][3] is x[3][3] alone.
  Tensor x({1, 4, 4, 1});
  for (int64_t p = 0; p < 16; ++p) x[p] = static_cast<float>(p);
  LoneLayer l(conv(1, 2, {{"padding", "same"}, {"use_bias", false}}), {4, 4, 1}, 1);
  std::fill(l.params.begin(), l.params.end(), 1.0f);
  Tensor y;
  Rng rng(1);
  l.layer->forward(x, y, Mode::Infer, rng);
  ASSERT_EQ(y.shape(), (Shape{1, 4, 4, 1}));
  EXPECT_FLOAT_EQ(y[0], 0 + 1 + 4 + 5);
  EXPECT_FLOAT_EQ(y[3], 3 + 7);     // right column: no right neighbour
  EXPECT_FLOAT_EQ(y[12], 12 + 13);  // bottom row
  EXPECT_FLOAT_EQ(y[15], 15);
}

TEST(Conv2DForward, MatchesTheDefinitionForEachOption) {
  struct Case {
    json config;
    Shape input;
    int64_t kh, kw, sh, sw, dh, dw, top, left, oh, ow;
  };
  // Output sizes and leading pads worked out by hand from TensorFlow's rules.
  const std::vector<Case> cases{
      {conv(3, 3, {{"strides", 2}}), {7, 7, 2}, 3, 3, 2, 2, 1, 1, 0, 0, 3, 3},
      {conv(2, 4, {{"padding", "same"}}), {6, 6, 2}, 4, 4, 1, 1, 1, 1, 1, 1, 6, 6},
      {conv(2, 2, {{"padding", "same"}, {"strides", 2}}), {5, 5, 3}, 2, 2, 2, 2, 1, 1, 0, 0, 3, 3},
      {conv(2, 3, {{"padding", "same"}, {"strides", 2}}), {6, 6, 1}, 3, 3, 2, 2, 1, 1, 0, 0, 3, 3},
      {conv(2, 3, {{"dilation_rate", 2}, {"padding", "same"}}), {7, 6, 2}, 3, 3, 1, 1, 2, 2, 2, 2, 7, 6},
      {conv(2, 3, {{"dilation_rate", 2}}), {8, 8, 1}, 3, 3, 1, 1, 2, 2, 0, 0, 4, 4},
      {conv(3, {3, 2}, {{"strides", {2, 1}}, {"use_bias", false}}), {7, 5, 2}, 3, 2, 2, 1, 1, 1, 0, 0, 3, 4},
  };
  uint64_t seed = 100;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.config.dump());
    LoneLayer l(c.config, c.input, seed);
    const Tensor x = random_tensor(batch_of(2, c.input), seed++);
    Tensor y;
    Rng rng(1);
    l.layer->forward(x, y, Mode::Infer, rng);
    const int64_t f = c.config["filters"].get<int64_t>();
    const size_t kernel_size = static_cast<size_t>(c.kh * c.kw * c.input[2] * f);
    const std::span<const float> k(l.params.data(), kernel_size);
    const std::span<const float> b(l.params.data() + kernel_size, l.params.size() - kernel_size);
    const Tensor ref = reference_conv(x, k, b, c.kh, c.kw, f, c.sh, c.sw, c.dh, c.dw, c.top, c.left, c.oh, c.ow);
    ASSERT_EQ(y.shape(), ref.shape());
    for (int64_t i = 0; i < y.size(); ++i) ASSERT_NEAR(y[i], ref[i], 1e-4) << i;
  }
}

TEST(Pool2DForward, HandComputedValues) {
  Tensor x({1, 3, 3, 1}, {1, 5, 2, 7, 3, 9, 4, 8, 6});
  LoneLayer max_same({{"type", "max_pool2d"}, {"padding", "same"}}, {3, 3, 1}, 1);
  Tensor y;
  Rng rng(1);
  max_same.layer->forward(x, y, Mode::Infer, rng);
  ASSERT_EQ(y.shape(), (Shape{1, 2, 2, 1}));  // windows rows 0-1 / 2, columns 0-1 / 2
  EXPECT_EQ(y.span()[0], 7);
  EXPECT_EQ(y.span()[1], 9);
  EXPECT_EQ(y.span()[2], 8);
  EXPECT_EQ(y.span()[3], 6);
  LoneLayer avg_same({{"type", "average_pool2d"}, {"padding", "same"}}, {3, 3, 1}, 1);
  avg_same.layer->forward(x, y, Mode::Infer, rng);
  EXPECT_FLOAT_EQ(y[0], (1 + 5 + 7 + 3) / 4.0f);
  EXPECT_FLOAT_EQ(y[1], (2 + 9) / 2.0f);  // the padding is not counted, as in Keras
  EXPECT_FLOAT_EQ(y[3], 6);
  LoneLayer max_valid({{"type", "max_pool2d"}}, {3, 3, 1}, 1);
  max_valid.layer->forward(x, y, Mode::Infer, rng);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 1, 1}));
  EXPECT_EQ(y.span()[0], 7);
}

namespace {

// The Keras tutorial's CNN for 28x28 grey images.
Model tutorial_cnn() {
  return Model::from_config({{"input", {28, 28, 1}},
                             {"layers",
                              {conv(32, 3, {{"activation", "relu"}}),
                               {{"type", "max_pool2d"}},
                               conv(64, 3, {{"activation", "relu"}}),
                               {{"type", "max_pool2d"}, {"pool_size", {2, 2}}},
                               {{"type", "flatten"}},
                               {{"type", "dropout"}, {"rate", 0.5}},
                               {{"type", "dense"}, {"units", 10}, {"activation", "softmax"}}}}},
                            7);
}

}  // namespace

TEST(ConvModel, ParameterCountsAndShapesAsKeras) {
  Model m = tutorial_cnn();
  // Keras's summary of the same model: 320, 0, 18,496, 0, 0, 0, 16,010; total 34,826.
  const std::vector<int64_t> params{320, 0, 18496, 0, 0, 0, 16010};
  const std::vector<Shape> shapes{{26, 26, 32}, {13, 13, 32}, {11, 11, 64}, {5, 5, 64}, {1600}, {1600}, {10}};
  ASSERT_EQ(m.num_layers(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_EQ(m.layer_param_count(i), params[i]) << i;
    EXPECT_EQ(m.layer_output_shape(i), shapes[i]) << i;
  }
  EXPECT_EQ(m.param_count(), 34826);
  const std::string s = m.summary();
  EXPECT_TRUE(contains(s, "(None, 26, 26, 32)")) << s;
  EXPECT_TRUE(contains(s, "(None, 5, 5, 64)")) << s;
  EXPECT_TRUE(contains(s, "conv2d_2 (conv2d(64, relu))")) << s;
  EXPECT_TRUE(contains(s, "Total params: 34,826")) << s;
  // Keras's kernel layout on disk: (kernel_h, kernel_w, in_channels, filters).
  bool found = false;
  for (const auto& t : m.named_tensors())
    if (t.name == "conv2d_2.kernel") found = t.shape == Shape{3, 3, 32, 64};
  EXPECT_TRUE(found);
}

TEST(ConvModel, GradientThroughConvPoolFlattenDense) {
  Model m = Model::from_config({{"input", {6, 6, 2}},
                                {"layers",
                                 {conv(3, 3, {{"activation", "tanh"}, {"padding", "same"}}),
                                  {{"type", "max_pool2d"}},
                                  conv(2, 2, {{"strides", 2}, {"padding", "same"}}),
                                  {{"type", "flatten"}},
                                  {{"type", "dense"}, {"units", 3}}}}},
                               5);
  Tensor x = random_tensor({3, 6, 6, 2}, 17);
  const Tensor w = random_tensor({3, 3}, 18);
  auto f = [&] {
    const Tensor& y = m.forward(x, Mode::Train);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  m.backward(w, false);
  const std::vector<float> grads(m.grads().begin(), m.grads().end());
  const auto c = check_gradient(f, m.params(), grads);
  EXPECT_LT(c.max_error, kGradTolerance) << c;
}

class ConvFiles : public nnlab::testing::TempDirTest {};

TEST_F(ConvFiles, SaveAndLoadGiveIdenticalPredictions) {
  Model m = tutorial_cnn();
  const Tensor x = random_tensor({37, 28, 28, 1}, 3, 0.0f, 1.0f);
  const Tensor before = m.predict(x, 16);  // batches of 16, 16 and 5: three plans
  const std::string path = (dir_ / "cnn.safetensors").string();
  save_model(m, path);
  Model loaded = load_model(path);
  EXPECT_EQ(loaded.input_shape(), (Shape{28, 28, 1}));
  const Tensor after = loaded.predict(x, 37);
  ASSERT_EQ(before.shape(), after.shape());
  for (int64_t i = 0; i < before.size(); ++i) ASSERT_FLOAT_EQ(before[i], after[i]) << i;
}

TEST(ConvOptions, BadValuesAreNamed) {
  using nnlab::testing::error_of;
  auto build = [](const json& layer, Shape input) {
    return error_of([&] { Model::from_config({{"input", input}, {"layers", {layer}}}); });
  };
  EXPECT_TRUE(contains(build(conv(4, 5), {4, 4, 1}), "larger than the input's height 4")) << build(conv(4, 5), {4, 4, 1});
  EXPECT_TRUE(contains(build(conv(4, 3, {{"dilation_rate", 2}}), {4, 9, 1}), "a window of 5"));
  EXPECT_TRUE(contains(build(conv(0, 3), {4, 4, 1}), "filters must be at least 1, got 0"));
  EXPECT_TRUE(contains(build(conv(2, -1), {4, 4, 1}), "kernel_size must be positive whole numbers, got -1"));
  EXPECT_TRUE(contains(build(conv(2, {3, 0}), {4, 4, 1}), "got 0"));
  EXPECT_TRUE(contains(build(conv(2, 3, {{"padding", "full"}}), {4, 4, 1}), "padding must be \"valid\" or \"same\", got \"full\""));
  EXPECT_TRUE(contains(build(conv(2, 3, {{"strides", 0}}), {4, 4, 1}), "strides must be positive"));
  EXPECT_TRUE(contains(build(conv(2, 3), {16}), "expects images (height, width, channels), got (16)"));
  EXPECT_TRUE(contains(build({{"type", "conv2d"}, {"filters", 2}}, {4, 4, 1}), "kernel_size"));
  EXPECT_TRUE(contains(build({{"type", "max_pool2d"}, {"pool_size", 5}}, {4, 4, 1}), "max_pool2d 'max_pool2d_1'"));
  EXPECT_TRUE(contains(build({{"type", "max_pool2d"}, {"padding", "SAME"}}, {4, 4, 1}), "got \"SAME\""));
  EXPECT_TRUE(contains(build({{"type", "average_pool2d"}, {"strides", {1, -2}}}, {4, 4, 1}), "got -2"));
}

TEST(ShapeLayers, GlobalAveragePoolAndReshapeGradients) {
  check_layer({{"type", "global_average_pool2d"}}, {3, 4, 2}, random_tensor({3, 3, 4, 2}, 61), 61);
  check_layer({{"type", "reshape"}, {"target_shape", {3, -1, 2}}}, {12}, random_tensor({2, 12}, 62), 62);
}

TEST(ShapeLayers, GlobalAveragePoolMeansEachChannel) {
  LoneLayer l({{"type", "global_average_pool2d"}}, {2, 2, 2}, 1);
  const Tensor x({1, 2, 2, 2}, {1, 10, 2, 20, 3, 30, 4, 40});
  Tensor y;
  Rng rng(1);
  l.layer->forward(x, y, Mode::Infer, rng);
  ASSERT_EQ(y.shape(), (Shape{1, 2}));
  EXPECT_FLOAT_EQ(y[0], 2.5f);
  EXPECT_FLOAT_EQ(y[1], 25.0f);
}

TEST(ShapeLayers, ReshapeTurnsFlatPixelsIntoImages) {
  Model m = Model::from_config({{"input", {784}},
                                {"layers",
                                 {{{"type", "reshape"}, {"target_shape", {28, 28, -1}}},
                                  conv(4, 3, {{"strides", 2}}),
                                  {{"type", "global_average_pool2d"}},
                                  {{"type", "dense"}, {"units", 2}}}}});
  EXPECT_EQ(m.layer_output_shape(0), (Shape{28, 28, 1}));
  EXPECT_EQ(m.layer_output_shape(1), (Shape{13, 13, 4}));
  EXPECT_EQ(m.layer_output_shape(2), (Shape{4}));
  EXPECT_EQ(m.predict(random_tensor({3, 784}, 1)).shape(), (Shape{3, 2}));
  using nnlab::testing::error_of;
  const std::string e = error_of([] {
    Model::from_config({{"input", {10}}, {"layers", {{{"type", "reshape"}, {"target_shape", {3, -1}}}}}});
  });
  EXPECT_TRUE(contains(e, "cannot see the input (10) (10 values) as (3, -1)")) << e;
  EXPECT_TRUE(contains(error_of([] { make_layer({{"type", "reshape"}, {"target_shape", {-1, -1}}}); }), "more than one -1"));
}
