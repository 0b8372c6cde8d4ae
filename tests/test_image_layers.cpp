// Layers that act on images per channel: batch_norm over the channels of NHWC input (Keras's
// BatchNormalization, axis=-1) and spatial_dropout2d (Keras's SpatialDropout2D). Finite-difference
// gradients, the per-channel arithmetic, Keras's values on the same weights (tests/data/conv_golden.json,
// tests/golden/make_conv_golden.py), parameter counts, save and load, and the errors for bad options.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <nlohmann/json.hpp>

#include "gradcheck.hpp"
#include "lone_layer.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::check_gradient;
using nnlab::testing::contains;
using nnlab::testing::error_of;
using nnlab::testing::kGradTolerance;
using nnlab::testing::LoneLayer;
using nnlab::testing::batch_of;
using nnlab::testing::random_tensor;
using json = nlohmann::json;

namespace {

// L = sum(w * model(x)) and its gradients against central differences, for the parameters and the
// input. The model's random stream is reset before each pass, so dropout masks stay fixed.
void check_model(Model& m, Tensor x, uint64_t seed, Mode mode = Mode::Train) {
  const Tensor w = random_tensor(batch_of(x.rows(), m.output_shape()), seed);
  auto f = [&] {
    m.rng() = Rng(seed);
    const Tensor& y = m.forward(x, mode);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  m.backward(w, false);
  const std::vector<float> grads(m.grads().begin(), m.grads().end());
  const auto c = check_gradient(f, m.params(), grads);
  EXPECT_LT(c.max_error, kGradTolerance) << "parameters: " << c;
}

// dL/dx of one layer under L = sum(w * layer(x)) against central differences (fixed random stream).
void check_input_gradient(const json& config, const Shape& input, uint64_t seed, Mode mode = Mode::Train) {
  SCOPED_TRACE(config.dump());
  LoneLayer l(config, input, seed);
  const auto specs = l.layer->param_specs();
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == "moving_variance")
      for (float& v : l.value(i)) v = std::fabs(v) + 0.5f;
  Tensor x = random_tensor(batch_of(3, input), seed + 1);
  const Tensor w = random_tensor(batch_of(3, l.out), seed + 2);
  Tensor y, dx;
  auto f = [&] {
    Rng rng(seed);
    l.layer->forward(x, y, mode, rng);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  l.layer->backward(x, y, w, &dx, false);
  ASSERT_EQ(dx.shape(), x.shape());
  const std::vector<float> dxv(dx.span().begin(), dx.span().end());
  const std::vector<float> grads = l.grads;
  const auto c = check_gradient(f, x.span(), dxv);
  EXPECT_LT(c.max_error, kGradTolerance) << "input: " << c;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!specs[i].trainable) continue;  // state (moving statistics) has no gradient
    const std::vector<float> g(grads.begin() + static_cast<std::ptrdiff_t>(l.offsets[i]),
                               grads.begin() + static_cast<std::ptrdiff_t>(l.offsets[i] + l.size(i)));
    const auto p = check_gradient(f, l.value(i), g);
    EXPECT_LT(p.max_error, kGradTolerance) << specs[i].name << ": " << p;
  }
}

json golden() {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/conv_golden.json");
  EXPECT_TRUE(in);
  return json::parse(in);
}

void expect_close(std::span<const float> got, const json& want, const std::string& what, double tol = 1e-5) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = want[i].get<double>();
    ASSERT_LE(std::fabs(got[i] - w) / std::max(1.0, std::fabs(w)), tol)
        << what << "[" << i << "] is " << got[i] << ", reference " << w;
  }
}

json bn(json extra = json::object()) {
  json c{{"type", "batch_norm"}};
  for (auto& [k, v] : extra.items()) c[k] = v;
  return c;
}

}  // namespace

// --- batch_norm over channels ---

TEST(BatchNormChannels, GradientsInTrainingAndInference) {
  check_input_gradient(bn(), {3, 4, 2}, 11, Mode::Train);
  check_input_gradient(bn(), {3, 4, 2}, 12, Mode::Infer);
  check_input_gradient(bn({{"momentum", 0.5}}), {2, 1, 5}, 13, Mode::Train);
  // Inside a model: conv -> batch_norm -> relu -> pool -> dense, every parameter.
  Model m = Model::from_config({{"input", {6, 6, 2}},
                                {"layers",
                                 {{{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", "same"}},
                                  bn(),
                                  {{"type", "activation"}, {"activation", "tanh"}},
                                  {{"type", "average_pool2d"}},
                                  {{"type", "flatten"}},
                                  {{"type", "dense"}, {"units", 2}}}}},
                               3);
  check_model(m, random_tensor({4, 6, 6, 2}, 14), 15);
}

TEST(BatchNormChannels, NormalisesEachChannelOverTheBatchAndItsPixels) {
  LoneLayer l(bn(), {3, 5, 4}, 1);
  ASSERT_EQ(l.out, (Shape{3, 5, 4}));
  // gamma 1, beta 0, fresh moving statistics.
  std::fill(l.value(0).begin(), l.value(0).end(), 1.0f);
  std::fill(l.value(1).begin(), l.value(1).end(), 0.0f);
  std::fill(l.value(2).begin(), l.value(2).end(), 0.0f);
  std::fill(l.value(3).begin(), l.value(3).end(), 1.0f);
  Tensor x = random_tensor({6, 3, 5, 4}, 2);
  for (int64_t i = 0; i < x.size(); ++i) x[i] = x[i] * static_cast<float>(1 + i % 4) + 3.0f * static_cast<float>(i % 4);
  Tensor y;
  Rng rng(1);
  l.layer->forward(x, y, Mode::Train, rng);
  const int64_t rows = 6 * 3 * 5;
  for (int64_t c = 0; c < 4; ++c) {
    double mean = 0, var = 0, in_mean = 0, in_var = 0;
    for (int64_t r = 0; r < rows; ++r) mean += y[r * 4 + c], in_mean += x[r * 4 + c];
    mean /= rows, in_mean /= rows;
    for (int64_t r = 0; r < rows; ++r) {
      var += (y[r * 4 + c] - mean) * (y[r * 4 + c] - mean);
      in_var += (x[r * 4 + c] - in_mean) * (x[r * 4 + c] - in_mean);
    }
    var /= rows, in_var /= rows;
    EXPECT_NEAR(mean, 0.0, 1e-5) << c;
    EXPECT_NEAR(var, in_var / (in_var + 1e-3), 1e-4) << c;  // epsilon 1e-3 inside the square root
    // The moving statistics moved by 1 - momentum towards this channel's batch mean and variance.
    EXPECT_NEAR(l.value(2)[static_cast<size_t>(c)], 0.01 * in_mean, 1e-5) << c;
    EXPECT_NEAR(l.value(3)[static_cast<size_t>(c)], 0.99 + 0.01 * in_var, 1e-5) << c;
  }
}

// After a relu, batch_norm applies relu's derivative to its dx itself (Layer::fuse_input_relu), and the
// layer before skips its own pass over the mask. Alone: dx is zero exactly where the input (a relu's
// output) is not positive, and elsewhere what it is without the fusion, in training and at inference.
TEST(BatchNormChannels, TakesTheReluMaskOfTheLayerBefore) {
  const Shape image{5, 5, 3};
  Tensor x = random_tensor(batch_of(4, image), 51);
  for (float& v : x.span()) v = std::max(v, 0.0f);  // a relu's output: a third of it is zero
  const Tensor dy = random_tensor(batch_of(4, image), 52);
  for (Mode mode : {Mode::Train, Mode::Infer}) {
    LoneLayer plain(bn(), image, 7), fused(bn(), image, 7);
    for (LoneLayer* l : {&plain, &fused})
      for (float& v : l->value(3)) v = 0.5f + std::abs(v);  // moving variance: positive
    EXPECT_TRUE(fused.layer->fuse_input_relu());
    Tensor y, dx_plain, dx_fused;
    Rng rng(1);
    plain.layer->forward(x, y, mode, rng);
    plain.layer->backward(x, y, dy, &dx_plain, false);
    fused.layer->forward(x, y, mode, rng);
    fused.layer->backward(x, y, dy, &dx_fused, false);
    int64_t zeros = 0;
    for (int64_t i = 0; i < x.size(); ++i) {
      zeros += x[i] <= 0.0f;
      ASSERT_EQ(dx_fused[i], x[i] > 0.0f ? dx_plain[i] : 0.0f) << "element " << i;
    }
    EXPECT_GT(zeros, x.size() / 5);
    EXPECT_EQ(plain.grads, fused.grads);  // gamma's and beta's gradients do not change
  }
}

// In a model: conv2d(relu) -> batch_norm and dense(relu) -> batch_norm give the parameter gradients of
// the same model without the fusion, where relu is leaky_relu(0) (the same function under another
// name, so the model does not fuse it), and the fused model's gradients match central differences.
TEST(BatchNormChannels, ReluBeforeItGivesTheSameGradientsFused) {
  auto model = [](const std::string& act) {
    const bool plain = act == "relu";
    json layers = json::array();
    layers.push_back({{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 3}, {"padding", "same"}});
    if (plain) layers.back()["activation"] = "relu";
    else layers.push_back({{"type", "activation"}, {"activation", act}});
    layers.push_back(bn());
    layers.push_back({{"type", "flatten"}});
    layers.push_back({{"type", "dense"}, {"units", 4}});
    if (plain) layers.back()["activation"] = "relu";
    else layers.push_back({{"type", "activation"}, {"activation", act}});
    layers.push_back(bn());
    layers.push_back({{"type", "dense"}, {"units", 2}});
    return Model::from_config({{"input", {5, 5, 2}}, {"layers", layers}}, 3);
  };
  Model fused = model("relu"), unfused = model("leaky_relu(0)");
  ASSERT_EQ(fused.params().size(), unfused.params().size());
  std::copy(fused.params().begin(), fused.params().end(), unfused.params().begin());
  const Tensor x = random_tensor({6, 5, 5, 2}, 81), w = random_tensor({6, 2}, 54);
  for (Mode mode : {Mode::Train, Mode::Infer}) {
    for (Model* m : {&fused, &unfused}) {
      m->forward(x, mode);
      m->backward(w, false);
    }
    for (size_t i = 0; i < fused.grads().size(); ++i)
      ASSERT_FLOAT_EQ(fused.grads()[i], unfused.grads()[i]) << "gradient " << i << (mode == Mode::Train ? " (training)" : " (inference)");
  }
  // Central differences straddle relu's kink wherever a conv output lies within a step of zero, which
  // inputs 61, 71 and 91 do (the unfused model fails there alike); input 81 keeps every output clear.
  check_model(fused, x, 55);
}

TEST(BatchNormChannels, ParameterCountIsFourPerChannelAsKeras) {
  Model m = Model::from_config(
      {{"input", {8, 8, 1}},
       {"layers", {{{"type", "conv2d"}, {"filters", 16}, {"kernel_size", 3}}, bn(), {{"type", "flatten"}}}}});
  EXPECT_EQ(m.layer_output_shape(1), (Shape{6, 6, 16}));
  EXPECT_EQ(m.layer_param_count(1), 64);  // gamma, beta, moving mean and variance: 16 each
  EXPECT_EQ(m.trainable_count(), 160 + 32);
  EXPECT_EQ(m.param_count(), 160 + 64);
  const std::string s = m.summary();
  EXPECT_TRUE(contains(s, "Non-trainable params: 32")) << s;
  for (const auto& t : m.named_tensors())
    if (t.name.rfind("batch_norm_1.", 0) == 0) EXPECT_EQ(t.shape, Shape{16}) << t.name;
}

TEST(BatchNormChannels, MatchesKerasInInferenceAndTraining) {
  const json doc = golden();
  const int64_t n = doc.at("batch").get<int64_t>();
  ASSERT_EQ(doc.at("batch_norm").size(), 2u);
  for (const json& c : doc.at("batch_norm")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    const Shape in = c.at("input_shape").get<Shape>();
    LoneLayer l(c.at("layer"), in, 1);
    const char* names[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    for (size_t i = 0; i < 4; ++i) {
      ASSERT_EQ(l.layer->param_specs()[i].name, names[i]);
      const auto v = c.at(names[i]).get<std::vector<float>>();
      ASSERT_EQ(v.size(), l.size(i));
      std::copy(v.begin(), v.end(), l.value(i).begin());
    }
    const Tensor x(batch_of(n, in), c.at("x").get<std::vector<float>>());
    const Tensor r(batch_of(n, in), c.at("r").get<std::vector<float>>());
    Tensor y, dx;
    Rng rng(1);
    const bool training = c.at("training").get<bool>();
    l.layer->forward(x, y, training ? Mode::Train : Mode::Infer, rng);
    expect_close(y.span(), c.at("y"), "output");
    l.layer->backward(x, y, r, &dx, false);
    expect_close(dx.span(), c.at("dx"), "input gradient");
    expect_close(l.grad(0), c.at("dgamma"), "gamma gradient");
    expect_close(l.grad(1), c.at("dbeta"), "beta gradient");
    if (training) {
      expect_close(l.value(2), c.at("moving_mean_after"), "moving mean");
      expect_close(l.value(3), c.at("moving_variance_after"), "moving variance");
    }
  }
}

TEST(BatchNormChannels, BadInputIsNamed) {
  const std::string e = error_of([] {
    Model::from_config({{"input", {4, 4}}, {"layers", {bn()}}});
  });
  EXPECT_TRUE(contains(e, "batch_norm 'batch_norm_1' expects flat input (features) or images (height, width, channels), got (4, 4)")) << e;
  EXPECT_TRUE(contains(error_of([] { make_layer(bn({{"momentum", 1.0}})); }), "momentum must be in [0, 1)"));
  // (ONNX export of batch_norm over image channels: tests/test_onnx_image.cpp.)
}

// Over images the statistics are sums of fixed chunks of rows, and the passes run on the thread pool:
// a batch of 16 images of 28 x 28 x 8 gives the same outputs, gradients and moving statistics to the
// last bit on 1 thread and on 2, in training and at inference.
TEST(BatchNormChannels, SameOnOneThreadAndTwo) {
  const Shape image{28, 28, 8};
  const Tensor x = random_tensor(batch_of(16, image), 41, -2.0f, 3.0f), dy = random_tensor(batch_of(16, image), 42);
  struct Out {
    Tensor y, dx, yi, dxi;
    std::vector<float> params, grads;
  };
  auto run = [&](int threads) {
    kernels::set_num_threads(threads);
    LoneLayer l(bn(), image, 7);
    for (float& v : l.value(3)) v = 0.5f + std::abs(v);  // moving variance: positive
    Out o;
    Rng rng(1);
    l.layer->forward(x, o.y, Mode::Train, rng);
    l.layer->backward(x, o.y, dy, &o.dx, false);
    l.layer->forward(x, o.yi, Mode::Infer, rng);
    l.layer->backward(x, o.yi, dy, &o.dxi, false);
    o.params = l.params;  // moving statistics included
    o.grads = l.grads;
    kernels::set_num_threads(1);
    return o;
  };
  const Out one = run(1), two = run(2);
  auto same = [](const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && std::equal(a.span().begin(), a.span().end(), b.span().begin());
  };
  EXPECT_TRUE(same(one.y, two.y));
  EXPECT_TRUE(same(one.dx, two.dx));
  EXPECT_TRUE(same(one.yi, two.yi));
  EXPECT_TRUE(same(one.dxi, two.dxi));
  EXPECT_EQ(one.params, two.params);
  EXPECT_EQ(one.grads, two.grads);
  // The statistics are the batch's: each channel of the output has mean beta, whatever the chunks.
  const float beta = one.params[8];  // gamma (8 values), then beta
  double sum = 0;
  for (int64_t r = 0; r < one.y.size() / 8; ++r) sum += one.y[r * 8];
  EXPECT_NEAR(sum / static_cast<double>(one.y.size() / 8), beta, 1e-4);
}

// The sums behind the statistics go a block of 16 channels (32 with AVX-512) at a time, the last
// block narrower, and a pass takes several short rows at once. For 7 to 72 channels (a narrow block
// alone, one whole block, a whole and a narrow, two whole and a narrow, for either width) over 3
// chunks of rows, the moving statistics, y and dx (with the relu mask) match a plain row-by-row
// computation in double.
TEST(BatchNormChannels, EveryChannelBlockMatchesARowByRowReference) {
  for (int64_t c : {7, 16, 20, 32, 40, 72}) {
    SCOPED_TRACE(c);
    const Shape image{5, 6, c};
    const int64_t batch = 22, rows = batch * 30;  // 660 rows: chunks of 256, 256 and 148
    Tensor x = random_tensor(batch_of(batch, image), 61, -1.0f, 3.0f);
    for (float& v : x.span()) v = std::max(v, 0.0f);  // a relu's output
    const Tensor dy = random_tensor(batch_of(batch, image), 62);
    LoneLayer l(bn({{"momentum", 0.0}}), image, 7);  // momentum 0: the moving statistics are the batch's
    for (float& v : l.value(0)) v = 0.5f + std::abs(v);
    ASSERT_TRUE(l.layer->fuse_input_relu());
    Tensor y, dx;
    Rng rng(1);
    l.layer->forward(x, y, Mode::Train, rng);
    l.layer->backward(x, y, dy, &dx, false);
    for (int64_t k = 0; k < c; ++k) {
      double mean = 0, var = 0, sdy = 0, sdyx = 0;
      for (int64_t r = 0; r < rows; ++r) mean += x[r * c + k];
      mean /= static_cast<double>(rows);
      for (int64_t r = 0; r < rows; ++r) var += (x[r * c + k] - mean) * (x[r * c + k] - mean);
      var /= static_cast<double>(rows);
      const double inv_std = 1.0 / std::sqrt(var + 1e-3), gamma = l.value(0)[static_cast<size_t>(k)];
      const double beta = l.value(1)[static_cast<size_t>(k)];
      ASSERT_NEAR(l.value(2)[static_cast<size_t>(k)], mean, 1e-5);
      ASSERT_NEAR(l.value(3)[static_cast<size_t>(k)], var, 1e-5);
      for (int64_t r = 0; r < rows; ++r) {
        const double xh = (x[r * c + k] - mean) * inv_std;
        sdy += dy[r * c + k];
        sdyx += dy[r * c + k] * xh;
        ASSERT_NEAR(y[r * c + k], gamma * xh + beta, 1e-4) << "row " << r << ", channel " << k;
      }
      ASSERT_NEAR(l.grad(1)[static_cast<size_t>(k)], sdy, 1e-3);
      ASSERT_NEAR(l.grad(0)[static_cast<size_t>(k)], sdyx, 1e-3);
      for (int64_t r = 0; r < rows; ++r) {
        const double xh = (x[r * c + k] - mean) * inv_std;
        const double want = x[r * c + k] > 0.0f
                                ? gamma * inv_std * (dy[r * c + k] - sdy / rows - xh * sdyx / rows)
                                : 0.0;
        ASSERT_NEAR(dx[r * c + k], want, 1e-4) << "row " << r << ", channel " << k;
      }
    }
  }
}

// batch_norm's backward writes its dx over its dy inside a model (backward_in_place). The gradients
// must be those of the same layers run one by one with a buffer each, bit for bit, with the relu
// mask fused (conv2d's relu) and without (after a tanh layer).
TEST(BatchNormChannels, BackwardInPlaceGivesTheSameBitsAsSeparateBuffers) {
  for (const std::string before : {"relu", "tanh"}) {
    SCOPED_TRACE(before);
    json layers{{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}},
                bn(),
                {{"type", "max_pool2d"}},
                {{"type", "flatten"}},
                {{"type", "dense"}, {"units", 3}}};
    if (before == "tanh") {
      layers[0]["activation"] = "linear";
      layers.insert(layers.begin() + 1, json{{"type", "activation"}, {"activation", "tanh"}});
    }
    Model m = Model::from_config({{"input", {8, 6, 2}}, {"layers", layers}}, 4);
    const Tensor x = random_tensor({5, 8, 6, 2}, 21);
    const Tensor& y = m.forward(x, Mode::Train);
    const Tensor dy = random_tensor(y.shape(), 22);
    m.backward(dy, false);
    const std::vector<float> fused(m.grads().begin(), m.grads().end());
    // The same forward again (the random stream is not used), then each layer's backward by hand.
    const size_t n = m.num_layers();
    std::vector<Tensor> acts(n), grads(n + 1);
    const Tensor* in = &x;
    Rng rng(1);
    for (size_t i = 0; i < n; ++i) {
      m.layer(i).forward(*in, acts[i], Mode::Train, rng);
      in = &acts[i];
    }
    grads[n] = dy;
    for (size_t k = n; k-- > 0;) {
      const bool relu_fused = before == "relu" && k == 0;  // batch_norm applied conv2d's relu mask
      m.layer(k).backward(k ? acts[k - 1] : x, acts[k], grads[k + 1], k ? &grads[k] : nullptr, relu_fused);
    }
    const std::vector<float> separate(m.grads().begin(), m.grads().end());
    ASSERT_EQ(fused.size(), separate.size());
    EXPECT_EQ(std::memcmp(fused.data(), separate.data(), sizeof(float) * fused.size()), 0);
    EXPECT_GT(*std::max_element(fused.begin(), fused.end()), 0.0f);
  }
}

// Model::infer pools before a batch_norm that a max pooling follows, when every gamma is positive:
// the outputs must be those of forward(Mode::Infer), bit for bit, for "valid" 2x2 pooling over an odd
// size, "same" 3x3 pooling with stride 2, any batch and thread count. With a gamma at or below zero
// the pair runs in order; either way predict and evaluation give what forward gives.
TEST(BatchNormChannels, InferencePoolsFirstAndGivesTheSameBits) {
  const json config{{"input", {11, 9, 2}},
                    {"layers",
                     {{{"type", "conv2d"}, {"filters", 6}, {"kernel_size", 3}, {"activation", "relu"}},
                      bn(),
                      {{"type", "max_pool2d"}, {"pool_size", 2}},
                      {{"type", "conv2d"}, {"filters", 5}, {"kernel_size", 2}, {"padding", "same"}},
                      bn(),
                      {{"type", "max_pool2d"}, {"pool_size", 3}, {"strides", 2}, {"padding", "same"}},
                      {{"type", "flatten"}},
                      {{"type", "dense"}, {"units", 4}, {"activation", "softmax"}}}}};
  Model m = Model::from_config(config, 3);
  Rng rng(5);
  for (auto& t : m.named_tensors()) {
    const std::string& n = t.name;
    for (float& v : t.value) {
      if (n.ends_with(".gamma")) v = rng.uniform(0.2f, 2.0f);
      else if (n.ends_with(".moving_variance")) v = rng.uniform(0.1f, 3.0f);
      else if (n.ends_with(".moving_mean") || n.ends_with(".beta")) v = rng.uniform(-1.0f, 1.0f);
    }
  }
  auto gamma = [&](const std::string& layer) {
    for (auto& t : m.named_tensors())
      if (t.name == layer + ".gamma") return t.value;
    return std::span<float>{};
  };
  auto same_as_forward = [&](int64_t batch, int threads, bool fused) {
    SCOPED_TRACE("batch " + std::to_string(batch) + ", threads " + std::to_string(threads));
    kernels::set_num_threads(threads);
    const Tensor x = random_tensor(batch_of(batch, m.input_shape()), 70 + batch, -1.0f, 2.0f);
    const Tensor want = m.forward(x, Mode::Infer);
    const Tensor& got = m.infer(x);
    ASSERT_EQ(got.shape(), want.shape());
    EXPECT_EQ(std::memcmp(want.data(), got.data(), sizeof(float) * static_cast<size_t>(want.size())), 0);
    // Only a fused pass skips an output that backward needs.
    const Tensor dy = random_tensor(got.shape(), 9);
    if (fused) {
      EXPECT_TRUE(contains(error_of([&] { m.backward(dy, false); }), "backward() after infer()"));
    } else {
      EXPECT_NO_THROW(m.backward(dy, false));
    }
    const Tensor p = m.predict(x, 3);  // in batches of 3, through infer
    EXPECT_EQ(std::memcmp(want.data(), p.data(), sizeof(float) * static_cast<size_t>(want.size())), 0);
    m.forward(x, Mode::Infer);
    EXPECT_NO_THROW(m.backward(dy, false));
    kernels::set_num_threads(1);
  };
  EXPECT_TRUE(m.layer(1).commutes_with_max_pool());
  EXPECT_TRUE(m.layer(4).commutes_with_max_pool());
  for (int64_t batch : {1, 7, 64})
    for (int threads : {1, 2}) same_as_forward(batch, threads, true);
  for (float bad : {0.0f, -0.5f, std::nanf("")}) {
    gamma("batch_norm_1")[1] = bad;
    gamma("batch_norm_2")[4] = bad;
    EXPECT_FALSE(m.layer(1).commutes_with_max_pool()) << bad;
    EXPECT_FALSE(m.layer(4).commutes_with_max_pool()) << bad;
    same_as_forward(7, 1, false);
  }
}

// --- spatial_dropout2d ---

namespace {
json sd(double rate) { return {{"type", "spatial_dropout2d"}, {"rate", rate}}; }
}  // namespace

TEST(SpatialDropout2D, DropsWholeChannelsPerSampleAndScalesTheRest) {
  LoneLayer l(sd(0.4), {5, 6, 8}, 1);
  ASSERT_EQ(l.out, (Shape{5, 6, 8}));
  EXPECT_TRUE(l.layer->param_specs().empty());
  const Tensor x = random_tensor({10, 5, 6, 8}, 3, 0.1f, 2.0f);  // no zeros of its own
  Tensor y;
  Rng rng(5);
  l.layer->forward(x, y, Mode::Train, rng);
  const auto& layer = dynamic_cast<const SpatialDropout2D&>(*l.layer);
  ASSERT_EQ(layer.mask().shape(), (Shape{10, 8}));
  int dropped = 0;
  std::set<std::vector<float>> patterns;  // each sample's own channels
  for (int64_t s = 0; s < 10; ++s) {
    std::vector<float> pattern;
    for (int64_t c = 0; c < 8; ++c) {
      const float m = layer.mask()[s * 8 + c];
      ASSERT_TRUE(m == 0.0f || std::fabs(m - 1.0f / 0.6f) < 1e-6f) << m;
      dropped += m == 0.0f;
      pattern.push_back(m);
      for (int64_t p = 0; p < 30; ++p) {  // every pixel of the channel alike
        const int64_t i = (s * 30 + p) * 8 + c;
        ASSERT_FLOAT_EQ(y[i], x[i] * m) << "sample " << s << " pixel " << p << " channel " << c;
      }
    }
    patterns.insert(pattern);
  }
  EXPECT_GT(dropped, 10);
  EXPECT_LT(dropped, 60);
  EXPECT_GT(patterns.size(), 5u) << "each sample draws its own channels";
}

TEST(SpatialDropout2D, KeepsTheMeanAndTheRateIsTheFractionDropped) {
  LoneLayer l(sd(0.3), {2, 2, 50}, 1);
  const Tensor x({2000, 2, 2, 50}, 1.0f);
  Tensor y;
  Rng rng(9);
  l.layer->forward(x, y, Mode::Train, rng);
  double sum = 0;
  int64_t dropped = 0;
  for (int64_t i = 0; i < y.size(); ++i) {
    sum += y[i];
    dropped += y[i] == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(y.size()), 0.3, 0.01);
  EXPECT_NEAR(sum / static_cast<double>(y.size()), 1.0, 0.02);
}

TEST(SpatialDropout2D, GradientMasksTheSameChannels) {
  LoneLayer l(sd(0.5), {3, 3, 4}, 1);
  const Tensor x = random_tensor({4, 3, 3, 4}, 4);
  const Tensor dy = random_tensor({4, 3, 3, 4}, 5);
  Tensor y, dx;
  Rng rng(6);
  l.layer->forward(x, y, Mode::Train, rng);
  l.layer->backward(x, y, dy, &dx, false);
  const auto& mask = dynamic_cast<const SpatialDropout2D&>(*l.layer).mask();
  for (int64_t s = 0; s < 4; ++s)
    for (int64_t p = 0; p < 9; ++p)
      for (int64_t c = 0; c < 4; ++c) {
        const int64_t i = (s * 9 + p) * 4 + c;
        ASSERT_FLOAT_EQ(dx[i], dy[i] * mask[s * 4 + c]);
        ASSERT_EQ(dx[i] == 0.0f, y[i] == 0.0f);
      }
  // And against central differences, alone and inside a model (fixed mask: a reset random stream).
  check_input_gradient(sd(0.5), {3, 3, 4}, 21);
  Model m = Model::from_config({{"input", {5, 5, 2}},
                                {"layers",
                                 {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"activation", "tanh"}},
                                  sd(0.5),
                                  {{"type", "global_average_pool2d"}},
                                  {{"type", "dense"}, {"units", 3}}}}},
                               4);
  check_model(m, random_tensor({5, 5, 5, 2}, 22), 23);
}

TEST(SpatialDropout2D, IdentityAtInferenceAndSeededInTraining) {
  LoneLayer l(sd(0.5), {4, 4, 6}, 1);
  const Tensor x = random_tensor({3, 4, 4, 6}, 7);
  Tensor y, dx;
  Rng rng(1);
  l.layer->forward(x, y, Mode::Infer, rng);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], x[i]);
  l.layer->backward(x, y, x, &dx, false);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(dx[i], x[i]);
  // The same seed gives the same channels; another seed other ones.
  Tensor a, b, c;
  Rng r1(42), r2(42), r3(43);
  l.layer->forward(x, a, Mode::Train, r1);
  l.layer->forward(x, b, Mode::Train, r2);
  l.layer->forward(x, c, Mode::Train, r3);
  EXPECT_EQ(std::vector<float>(a.span().begin(), a.span().end()), std::vector<float>(b.span().begin(), b.span().end()));
  EXPECT_NE(std::vector<float>(a.span().begin(), a.span().end()), std::vector<float>(c.span().begin(), c.span().end()));
  // Rate 0: the identity in training too.
  LoneLayer none(sd(0.0), {4, 4, 6}, 1);
  none.layer->forward(x, y, Mode::Train, r1);
  for (int64_t i = 0; i < x.size(); ++i) ASSERT_EQ(y[i], x[i]);
}

TEST(SpatialDropout2D, BadOptionsAreNamed) {
  EXPECT_TRUE(contains(error_of([] { make_layer(sd(1.0)); }), "spatial_dropout2d: rate must be in [0, 1), got 1"));
  EXPECT_TRUE(contains(error_of([] { make_layer(sd(-0.2)); }), "got -0.2"));
  EXPECT_TRUE(contains(error_of([] { make_layer({{"type", "spatial_dropout2d"}}); }), "rate"));
  const std::string e = error_of([] {
    Model::from_config({{"input", {16}}, {"layers", {sd(0.2)}}});
  });
  EXPECT_TRUE(contains(e, "spatial_dropout2d 'spatial_dropout2d_1' expects images (height, width, channels), got (16)")) << e;
  // The identity at inference, so ONNX export leaves it out.
  Model m = Model::from_config({{"input", {4, 4, 2}}, {"layers", {sd(0.2), {{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}}});
  EXPECT_FALSE(onnx_export(m).empty());
}

// --- both in a saved model ---

class ImageLayerFiles : public nnlab::testing::TempDirTest {};

TEST_F(ImageLayerFiles, SaveAndLoadKeepConfigStateAndPredictions) {
  Model m = Model::from_config({{"input", {8, 8, 1}},
                                {"layers",
                                 {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"padding", "same"}},
                                  bn({{"momentum", 0.9}}),
                                  {{"type", "activation"}, {"activation", "relu"}},
                                  sd(0.25),
                                  {{"type", "max_pool2d"}},
                                  {{"type", "flatten"}},
                                  {{"type", "dense"}, {"units", 3}, {"activation", "softmax"}}}}},
                               11);
  const Tensor x = random_tensor({6, 8, 8, 1}, 12, 0.0f, 1.0f);
  for (int i = 0; i < 3; ++i) m.forward(x, Mode::Train);  // moving statistics away from 0 and 1
  const Tensor before = m.predict(x);
  const std::string path = (dir_ / "m.safetensors").string();
  save_model(m, path);
  Model loaded = load_model(path);
  EXPECT_EQ(loaded.config(), m.config());
  EXPECT_EQ(loaded.config()["layers"][3]["type"], "spatial_dropout2d");
  EXPECT_FLOAT_EQ(loaded.config()["layers"][3]["rate"].get<float>(), 0.25f);
  const std::vector<float> state_a(m.state().begin(), m.state().end()), state_b(loaded.state().begin(), loaded.state().end());
  EXPECT_EQ(state_a, state_b);
  EXPECT_EQ(state_a.size(), 8u);
  const Tensor after = loaded.predict(x);
  for (int64_t i = 0; i < before.size(); ++i) ASSERT_EQ(before[i], after[i]) << i;
  EXPECT_TRUE(contains(m.summary(), "spatial_dropout2d_1 (spatial_dropout2d(0.25))")) << m.summary();
}
