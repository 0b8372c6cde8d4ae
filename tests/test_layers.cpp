// Finite-difference gradient checks of every layer (see gradcheck.hpp for the error measure and the
// tolerance, kGradTolerance = 1e-2 with central differences of step 1e-3), and of a whole model
// through a fused loss.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gradcheck.hpp"
#include "lone_layer.hpp"
#include "nnlab/kernels/elementwise.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
using nnlab::testing::check_gradient;
using nnlab::testing::kGradTolerance;
using nnlab::testing::random_tensor;

namespace {

// L = sum(w * model(x)) for fixed random weights w, so that dL/dy = w.
struct WeightedSum {
  Model& model;
  Tensor& x;
  Tensor w;
  double operator()() const {
    const Tensor& y = model.forward(x, Mode::Train);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  }
};

// Checks dL/dx and dL/dparams of a model under L = sum(w * y).
void check_model_gradients(Model& model, Tensor x, uint64_t seed) {
  Shape out = model.output_shape();
  out.insert(out.begin(), x.rows());
  WeightedSum f{model, x, random_tensor(out, seed + 7)};
  f();
  // Analytic: backward from dL/dy = w. The input gradient comes from a leading identity layer.
  model.backward(f.w, false);
  std::vector<float> grads(model.grads().begin(), model.grads().end());
  auto c = check_gradient(f, model.params(), grads);
  EXPECT_LT(c.max_error, kGradTolerance) << "parameters: " << c;
}

// dL/dx: wrap the layer after a Flatten, whose backward passes dx through unchanged.
void check_input_gradient(const nlohmann::json& layer_config, Shape input, uint64_t seed) {
  Model m;
  m.add<Flatten>().add(make_layer(layer_config));
  m.build(input, seed);
  Tensor x = random_tensor([&] { Shape s = input; s.insert(s.begin(), 5); return s; }(), seed + 1);
  Shape out = m.output_shape();
  out.insert(out.begin(), 5);
  Tensor w = random_tensor(out, seed + 2);
  auto f = [&] {
    const Tensor& y = m.forward(x, Mode::Train);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  // Recompute dx by hand: run backward through the layer with dx requested.
  Tensor dx;
  Layer& layer = m.layer(1);
  Tensor flat = x;
  flat.resize({5, shape_size(input)});
  std::copy(x.data(), x.data() + x.size(), flat.data());
  Tensor y;
  layer.forward(flat, y, Mode::Train, m.rng());
  layer.backward(flat, y, w, &dx);
  auto c = check_gradient(f, x.span(), dx.span());
  EXPECT_LT(c.max_error, kGradTolerance) << layer_config.dump() << " input: " << c;
}

}  // namespace

TEST(DenseGradient, ParametersAndInputForEachActivation) {
  for (const std::string act : {"linear", "sigmoid", "tanh", "elu", "softmax", "gelu", "swish"}) {
    SCOPED_TRACE(act);
    Model m;
    m.add<Dense>(4, act);
    m.build({3}, 3);
    for (auto& t : m.named_tensors()) // non-zero biases so their gradient matters
      for (float& v : t.value) v += 0.1f;
    check_model_gradients(m, random_tensor({5, 3}, 11), 5);
    check_input_gradient({{"type", "dense"}, {"units", 4}, {"activation", act}}, {3}, 21);
  }
}

TEST(DenseGradient, ReluAwayFromTheKink) {
  Model m;
  m.add<Dense>(6, "relu");
  m.build({4}, 8);
  check_model_gradients(m, random_tensor({7, 4}, 12), 6);
}

TEST(MaxoutGradient, ParametersAndInput) {
  Model m;
  m.add<Maxout>(3, 4);
  m.build({5}, 4);
  check_model_gradients(m, random_tensor({6, 5}, 13), 9);
  check_input_gradient({{"type", "maxout"}, {"units", 3}, {"pieces", 4}}, {5}, 31);
}

TEST(ActivationLayerGradient, Input) {
  for (const std::string act : {"tanh", "softmax", "selu", "softsign"}) {
    SCOPED_TRACE(act);
    check_input_gradient({{"type", "activation"}, {"activation", act}}, {4}, 41);
  }
}

TEST(FlattenGradient, PassesThrough) {
  check_input_gradient({{"type", "dense"}, {"units", 2}}, {2, 3}, 51);
}

// A whole network through a fused softmax + categorical cross-entropy: the loss's gradient with
// respect to the logits, then every layer's backward.
TEST(ModelGradient, WholeNetworkWithFusedLoss) {
  Model m;
  m.add<Dense>(6, "tanh").add<Maxout>(5, 2).add<Dense>(4, "elu").add<Dense>(3, "softmax");
  m.build({4}, 17);
  Tensor x = random_tensor({8, 4}, 3);
  Tensor y({8, 1}, std::vector<float>{0, 1, 2, 0, 1, 2, 2, 1});
  auto loss = make_loss("categorical_crossentropy");
  ASSERT_TRUE(loss->fuses(m.output_activation()));
  Tensor g;
  auto f = [&] {
    m.forward(x, Mode::Train);
    return loss->compute_fused(*m.output_logits(), y, nullptr);
  };
  m.forward(x, Mode::Train);
  loss->compute_fused(*m.output_logits(), y, &g);
  m.backward(g, true);
  std::vector<float> grads(m.grads().begin(), m.grads().end());
  auto c = check_gradient(f, m.params(), grads);
  EXPECT_LT(c.max_error, kGradTolerance) << c;
  // And the unfused path agrees with the fused one.
  const Tensor& p = m.forward(x, Mode::Train);
  Tensor gp;
  loss->compute(p, y, &gp);
  m.backward(gp, false);
  for (size_t i = 0; i < grads.size(); ++i) EXPECT_NEAR(m.grads()[i], grads[i], 1e-4) << i;
}

// The check must be able to fail: a dropped factor and a forgotten bias gradient are caught.
TEST(GradientCheck, CatchesAWrongBackward) {
  Model m;
  m.add<Dense>(3, "sigmoid");
  m.build({2}, 1);
  Tensor x = random_tensor({4, 2}, 2);
  WeightedSum f{m, x, random_tensor({4, 3}, 3)};
  f();
  m.backward(f.w, false);
  std::vector<float> grads(m.grads().begin(), m.grads().end());
  for (size_t i = 0; i < grads.size(); ++i) grads[i] *= 0.5f;  // a dropped factor of 2
  EXPECT_GT(check_gradient(f, m.params(), grads).max_error, kGradTolerance);
  grads.assign(m.grads().begin(), m.grads().end());
  grads.back() = 0;  // a forgotten bias gradient
  EXPECT_GT(check_gradient(f, m.params(), grads).max_error, kGradTolerance);
}

// Dropout with a fixed mask: the model's RNG is reset before every forward pass, so each finite
// difference sees the same mask as the analytic backward.
TEST(DropoutGradient, FixedMaskForwardAndBackward) {
  Model m;
  m.add<Dense>(12, "tanh").add<Dropout>(0.4f).add<Dense>(3);
  m.build({5}, 2);
  Tensor x = random_tensor({6, 5}, 3);
  Tensor w = random_tensor({6, 3}, 4);
  auto f = [&] {
    m.rng() = Rng(99);
    const Tensor& y = m.forward(x, Mode::Train);
    double s = 0;
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  m.backward(w, false);
  std::vector<float> grads(m.grads().begin(), m.grads().end());
  auto c = check_gradient(f, m.params(), grads);
  EXPECT_LT(c.max_error, kGradTolerance) << c;

  // The mask: zeros and 1 / (1 - rate), about 40% dropped, applied identically forward and backward.
  const auto& drop = dynamic_cast<const Dropout&>(m.layer(1));
  const Tensor& mask = drop.mask();
  int zeros = 0;
  for (float v : mask.span()) {
    EXPECT_TRUE(v == 0.0f || std::fabs(v - 1.0f / 0.6f) < 1e-6f) << v;
    zeros += v == 0.0f;
  }
  EXPECT_GT(zeros, 0);
  EXPECT_LT(zeros, mask.size());
  Tensor in({2, 4}, std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8}), out, dx;
  Dropout d(0.5f);
  Rng rng(7);
  d.forward(in, out, Mode::Train, rng);
  Tensor dy({2, 4}, 1.0f);
  d.backward(in, out, dy, &dx, false);
  for (int64_t i = 0; i < in.size(); ++i) {
    EXPECT_FLOAT_EQ(out[i], in[i] * d.mask()[i]);
    EXPECT_FLOAT_EQ(dx[i], d.mask()[i]);  // the backward keeps the 1 / (1 - rate) scale
  }
  // Inference: the identity.
  d.forward(in, out, Mode::Infer, rng);
  for (int64_t i = 0; i < in.size(); ++i) EXPECT_EQ(out[i], in[i]);
}

TEST(Dropout, RateIsTheFractionDroppedAndTheMeanIsKept) {
  Dropout d(0.3f);
  Tensor x({1000, 100}, 1.0f), y;
  Rng rng(1);
  d.forward(x, y, Mode::Train, rng);
  double sum = 0;
  int64_t dropped = 0;
  for (int64_t i = 0; i < y.size(); ++i) {
    sum += y[i];
    dropped += y[i] == 0.0f;
  }
  EXPECT_NEAR(static_cast<double>(dropped) / y.size(), 0.3, 0.01);
  EXPECT_NEAR(sum / y.size(), 1.0, 0.01);
  EXPECT_THROW(Dropout(1.0f), Error);
  EXPECT_THROW(Dropout(-0.1f), Error);
}

// The keep mask is drawn a block at a time; the decisions are those of one 64-bit draw per two units
// in order (low 32 bits, then high), so masks, and runs, stay what they were drawn one at a time, and
// the stream moves on by exactly ceil(count / 2) draws. Counts around the block of 256 draws.
TEST(Dropout, MaskIsTheStreamsDrawsInOrderAcrossBlocks) {
  for (int64_t count : {1, 2, 3, 511, 512, 513, 1025}) {
    SCOPED_TRACE(count);
    Dropout d(0.3f);
    Tensor x({1, count}, 1.0f), y;
    Rng rng(5), ref(5);
    d.forward(x, y, Mode::Train, rng);
    const auto threshold = static_cast<uint64_t>(static_cast<double>(0.3f) * 4294967296.0);
    const float keep = 1.0f / (1.0f - 0.3f);
    for (int64_t i = 0; i < count; i += 2) {
      const uint64_t r = ref.next();
      ASSERT_EQ(d.mask()[i], (r & 0xffffffffu) >= threshold ? keep : 0.0f) << i;
      if (i + 1 < count) ASSERT_EQ(d.mask()[i + 1], (r >> 32) >= threshold ? keep : 0.0f) << i + 1;
    }
    EXPECT_EQ(rng.next(), ref.next());
  }
}

TEST(BatchNormGradient, TrainingAndInference) {
  Model m;
  m.add<Dense>(5, "tanh").add<BatchNorm>().add<Dense>(3, "tanh");
  m.build({4}, 6);
  Tensor x = random_tensor({8, 4}, 5);
  check_model_gradients(m, x, 13);
  check_input_gradient({{"type", "batch_norm"}}, {4}, 61);
  // Inference uses the moving statistics: with fresh ones (mean 0, variance 1) the layer is
  // gamma * x / sqrt(1 + eps) + beta.
  BatchNorm bn;
  Model one;
  one.add<BatchNorm>();
  one.build({3});
  Tensor in({2, 3}, std::vector<float>{1, 2, 3, -1, 0, 4});
  const Tensor& out = one.forward(in, Mode::Infer);
  for (int64_t i = 0; i < in.size(); ++i) EXPECT_NEAR(out[i], in[i] / std::sqrt(1.001f), 1e-6);
  // Training normalises each feature of the batch and moves the statistics by 1 - momentum.
  const Tensor& t = one.forward(in, Mode::Train);
  EXPECT_NEAR(t.at(0, 0), 1.0f / std::sqrt(1.0f + 1e-3f), 1e-5);  // batch mean 0, variance 1
  auto tensors = one.named_tensors();
  EXPECT_EQ(tensors[2].name, "batch_norm_1.moving_mean");
  EXPECT_FALSE(tensors[2].trainable);
  EXPECT_NEAR(tensors[2].value[2], 0.01f * 3.5f, 1e-6);
  EXPECT_EQ(one.trainable_count(), 6);
  EXPECT_EQ(one.param_count(), 12);
}

TEST(Penalties, L1L2GradientAndMaxNorm) {
  DenseOptions o;
  o.units = 4;
  o.activation = "tanh";
  o.penalty.l1 = 0.01f;
  o.penalty.l2 = 0.05f;
  Model m;
  m.add<Dense>(o);
  m.build({3}, 8);
  Tensor x = random_tensor({5, 3}, 9);
  Tensor w = random_tensor({5, 4}, 10);
  auto f = [&] {
    const Tensor& y = m.forward(x, Mode::Train);
    double s = m.penalty();
    for (int64_t i = 0; i < y.size(); ++i) s += static_cast<double>(w[i]) * y[i];
    return s;
  };
  f();
  m.backward(w, false);
  std::vector<float> grads(m.grads().begin(), m.grads().end());
  auto c = check_gradient(f, m.params(), grads);
  EXPECT_LT(c.max_error, kGradTolerance) << c;
  double expected = 0;
  // The view is copied out first: a range-for over a member of the temporary vector would read it
  // after it is destroyed (AddressSanitizer's heap-use-after-free).
  const std::span<float> kernel = m.named_tensors()[0].value;
  for (float v : kernel) expected += 0.01 * std::fabs(v) + 0.05 * v * v;
  EXPECT_NEAR(m.penalty(), expected, 1e-7);

  KernelPenalty mn;
  mn.max_norm = 1.0f;
  std::vector<float> k{3, 0.1f, 4, 0.2f};  // (2, 2): column norms 5 and ~0.22
  mn.constrain(k, 2, 2);
  EXPECT_NEAR(k[0], 0.6f, 1e-5);
  EXPECT_NEAR(k[2], 0.8f, 1e-5);
  EXPECT_NEAR(k[1], 0.1f, 1e-6);  // under the limit: unchanged
  EXPECT_THROW(make_layer({{"type", "dense"}, {"units", 2}, {"l2", -1}}), Error);
}

// The relu mask of backward (kernels::relu_backward_bias_grad) runs on the thread pool above 16,384
// values: split by columns when it also sums them (the bias gradient, the same order whatever the
// thread count), by contiguous ranges when it does not (a conv2d's mask, where rows are narrow).
// Either way every value is dy * (y > 0), on 1 thread or 2, and the sums equal one thread's exactly.
TEST(ReluBackwardKernel, EveryValueOnThePoolAsOnOneThread) {
  const int64_t rows = 128 * 28 * 28 + 3, cols = 32;  // a first conv2d's output, and a ragged end
  const Tensor dy = nnlab::testing::random_tensor({rows, cols}, 5), y = nnlab::testing::random_tensor({rows, cols}, 6);
  auto run = [&](int threads, bool sums, std::vector<float>& dz, std::vector<float>& db) {
    nnlab::kernels::set_num_threads(threads);
    dz.assign(static_cast<size_t>(rows * cols), -7.0f);
    db.assign(static_cast<size_t>(cols), -7.0f);
    nnlab::kernels::relu_backward_bias_grad(dy.data(), y.data(), dz.data(), sums ? db.data() : nullptr, rows, cols, true);
  };
  for (const bool sums : {false, true}) {
    std::vector<float> dz1, db1, dz2, db2;
    run(1, sums, dz1, db1);
    run(2, sums, dz2, db2);
    nnlab::kernels::set_num_threads(1);
    for (int64_t i = 0; i < rows * cols; ++i)
      ASSERT_EQ(dz2[static_cast<size_t>(i)], y[i] > 0.0f ? dy[i] : 0.0f) << "value " << i << (sums ? " (with sums)" : "");
    EXPECT_EQ(dz1, dz2);
    EXPECT_EQ(db1, db2);
    if (!sums) EXPECT_EQ(db2, std::vector<float>(static_cast<size_t>(cols), -7.0f));  // no sums asked: untouched
  }
}
