// Finite-difference gradient checks of every layer (see gradcheck.hpp for the error measure and the
// tolerance, kGradTolerance = 1e-2 with central differences of step 1e-3), and of a whole model
// through a fused loss.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "gradcheck.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
using nnlab::testing::check_gradient;
using nnlab::testing::kGradTolerance;

namespace {

Tensor random_tensor(Shape s, uint64_t seed, float lo = -1.5f, float hi = 1.5f) {
  Tensor t(std::move(s));
  Rng rng(seed);
  for (float& v : t.span()) v = rng.uniform(lo, hi);
  return t;
}

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
