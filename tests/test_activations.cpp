// Activations: gradients against finite differences, known values, spec parsing.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "gradcheck.hpp"
#include "nnlab/activations/activation.hpp"
#include "nnlab/error.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {
namespace {

using testing::check_gradient;
using testing::kGradTolerance;

// Inputs in [-5, 5], at least 0.05 away from the kinks at 0 (relu, leaky_relu, elu, selu) and +-3
// (hard_sigmoid), so the central difference (step 1e-3) never straddles one.
Tensor smooth_inputs(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-5.0f, 5.0f);
  Tensor x({rows, cols});
  for (int64_t i = 0; i < x.size(); ++i) {
    float v;
    do v = u(rng);
    while (std::fabs(v) < 0.05f || std::fabs(std::fabs(v) - 3.0f) < 0.05f);
    x[i] = v;
  }
  return x;
}

Tensor random_weights(const Shape& shape, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  Tensor w(shape);
  for (int64_t i = 0; i < w.size(); ++i) w[i] = u(rng);
  return w;
}

Tensor forward(const Activation& act, const Tensor& x) {
  Tensor y(x.shape());
  act.forward(x.data(), y.data(), x.rows(), x.cols());
  return y;
}

// Checks act's backward against finite differences of L = sum(w * f(x)) with random w, so every
// output matters with its own weight (a plain sum would make softmax's gradient zero).
testing::GradientCheck check_activation(const Activation& act, uint32_t seed) {
  Tensor x = smooth_inputs(4, 5, seed);
  const Tensor w = random_weights(x.shape(), seed + 1);
  const auto loss = [&] {
    const Tensor y = forward(act, x);
    double sum = 0.0;
    for (int64_t i = 0; i < y.size(); ++i) sum += static_cast<double>(w[i]) * y[i];
    return sum;
  };
  const Tensor y = forward(act, x);
  Tensor dx(x.shape());
  act.backward(x.data(), y.data(), w.data(), dx.data(), x.rows(), x.cols());
  return check_gradient(loss, x.span(), dx.span());
}

float apply(const std::string& spec, float v) {
  const auto act = make_activation(spec);
  float y = 0.0f;
  act->forward(&v, &y, 1, 1);
  return y;
}

TEST(Activations, EveryBackwardMatchesFiniteDifferences) {
  for (const std::string& name : activation_names()) {
    for (const std::string& spec : {name, name + "(0.3)"}) {
      std::unique_ptr<Activation> act;
      try {
        act = make_activation(spec);
      } catch (const Error&) {
        continue;  // name(0.3) for an activation without a parameter
      }
      for (uint32_t seed : {1u, 2u, 3u}) {
        const auto result = check_activation(*act, seed);
        EXPECT_LT(result.max_error, kGradTolerance) << spec << " seed " << seed << ": " << result;
      }
    }
  }
}

TEST(Activations, EveryBackwardWorksInPlace) {
  // dx may alias dy.
  for (const std::string& name : activation_names()) {
    const auto act = make_activation(name);
    const Tensor x = smooth_inputs(3, 7, 11);
    const Tensor y = forward(*act, x);
    const Tensor dy = random_weights(x.shape(), 12);
    Tensor dx(x.shape());
    act->backward(x.data(), y.data(), dy.data(), dx.data(), x.rows(), x.cols());
    Tensor inplace = dy;
    act->backward(x.data(), y.data(), inplace.data(), inplace.data(), x.rows(), x.cols());
    for (int64_t i = 0; i < x.size(); ++i) EXPECT_EQ(inplace[i], dx[i]) << name << " element " << i;
  }
}

TEST(Activations, LargeTensorsTakeTheParallelPathWithTheSameResult) {
  // 300 x 300 = 90000 elements, above the parallel threshold; each row alone is below it.
  for (const std::string& name : activation_names()) {
    const auto act = make_activation(name);
    const Tensor x = smooth_inputs(300, 300, 21);
    const Tensor dy = random_weights(x.shape(), 22);
    const Tensor y = forward(*act, x);
    Tensor dx(x.shape());
    act->backward(x.data(), y.data(), dy.data(), dx.data(), x.rows(), x.cols());
    for (int64_t r = 0; r < x.rows(); r += 37) {
      const int64_t c = x.cols();
      std::vector<float> yr(c), dxr(c);
      act->forward(x.data() + r * c, yr.data(), 1, c);
      act->backward(x.data() + r * c, yr.data(), dy.data() + r * c, dxr.data(), 1, c);
      for (int64_t j = 0; j < c; ++j) {
        EXPECT_FLOAT_EQ(y[r * c + j], yr[j]) << name << " row " << r;
        EXPECT_FLOAT_EQ(dx[r * c + j], dxr[j]) << name << " row " << r;
      }
    }
  }
}

// A sigmoid whose backward forgets the (1 - y) factor: the checker must catch it.
class WrongSigmoid final : public Activation {
 public:
  std::string name() const override { return "wrong_sigmoid"; }
  void forward(const float* x, float* y, int64_t rows, int64_t cols) const override {
    for (int64_t i = 0; i < rows * cols; ++i) y[i] = 1.0f / (1.0f + std::exp(-x[i]));
  }
  void backward(const float*, const float* y, const float* dy, float* dx, int64_t rows,
                int64_t cols) const override {
    for (int64_t i = 0; i < rows * cols; ++i) dx[i] = dy[i] * y[i];  // should be y (1 - y)
  }
};

TEST(Activations, GradientCheckCatchesAWrongBackward) {
  const auto result = check_activation(WrongSigmoid(), 1);
  EXPECT_GT(result.max_error, 10 * kGradTolerance) << result;
}

TEST(Activations, KnownValues) {
  EXPECT_FLOAT_EQ(apply("sigmoid", 0.0f), 0.5f);
  EXPECT_LT(apply("sigmoid", -6.0f), 0.0025f);
  EXPECT_GT(apply("sigmoid", 6.0f), 0.9975f);
  EXPECT_GE(apply("sigmoid", -100.0f), 0.0f);  // exp(-100) is denormal in float, not NaN
  EXPECT_LT(apply("sigmoid", -100.0f), 1e-40f);
  EXPECT_EQ(apply("sigmoid", 100.0f), 1.0f);
  EXPECT_FLOAT_EQ(apply("tanh", 0.5f), std::tanh(0.5f));
  EXPECT_EQ(apply("linear", -1.5f), -1.5f);
  EXPECT_EQ(apply("relu", -2.0f), 0.0f);
  EXPECT_EQ(apply("relu", 2.5f), 2.5f);
  EXPECT_FLOAT_EQ(apply("leaky_relu(0.1)", -2.0f), -0.2f);
  EXPECT_FLOAT_EQ(apply("leaky_relu", -1.0f), -0.2f);  // Keras's default slope 0.2
  EXPECT_EQ(apply("leaky_relu(0.1)", 3.0f), 3.0f);
  EXPECT_FLOAT_EQ(apply("elu", -1.0f), std::expm1(-1.0f));
  EXPECT_FLOAT_EQ(apply("elu(0.5)", -1.0f), 0.5f * std::expm1(-1.0f));
  EXPECT_EQ(apply("elu", 2.0f), 2.0f);
  EXPECT_NEAR(apply("selu", 1.0f), 1.0507009873554805, 1e-6);
  EXPECT_NEAR(apply("selu", -1.0f), 1.0507009873554805 * 1.6732632423543772 * std::expm1(-1.0), 1e-6);
  EXPECT_NEAR(apply("gelu", 1.0f), 0.8413447460685429, 1e-6);
  EXPECT_NEAR(apply("gelu", -1.0f), -0.15865525393145707, 1e-6);
  EXPECT_NEAR(apply("swish", 1.0f), 0.7310585786300049, 1e-6);
  EXPECT_EQ(apply("silu", 1.0f), apply("swish", 1.0f));
  EXPECT_NEAR(apply("softplus", 0.0f), std::log(2.0), 1e-6);
  EXPECT_EQ(apply("softplus", 100.0f), 100.0f);
  EXPECT_GE(apply("softplus", -100.0f), 0.0f);
  EXPECT_LT(apply("softplus", -100.0f), 1e-40f);
  EXPECT_FLOAT_EQ(apply("softsign", 1.0f), 0.5f);
  EXPECT_FLOAT_EQ(apply("softsign", -3.0f), -0.75f);
  EXPECT_FLOAT_EQ(apply("hard_sigmoid", 0.0f), 0.5f);
  EXPECT_FLOAT_EQ(apply("hard_sigmoid", 1.5f), 0.75f);
  EXPECT_EQ(apply("hard_sigmoid", 3.5f), 1.0f);
  EXPECT_EQ(apply("hard_sigmoid", -3.5f), 0.0f);
}

TEST(Activations, SoftmaxRowsSumToOneAndStayFinite) {
  const auto act = make_activation("softmax");
  const Tensor x({3, 4}, {1, 2, 3, 4, -1, 0, 1, 0, 5, 5, 5, 5});
  const Tensor y = forward(*act, x);
  for (int64_t r = 0; r < 3; ++r) {
    float sum = 0.0f;
    for (int64_t c = 0; c < 4; ++c) sum += y.at(r, c);
    EXPECT_NEAR(sum, 1.0f, 1e-6f) << "row " << r;
  }
  EXPECT_NEAR(y.at(0, 3), std::exp(3.0) / (1 + std::exp(1.0) + std::exp(2.0) + std::exp(3.0)), 1e-6);
  EXPECT_FLOAT_EQ(y.at(2, 0), 0.25f);

  const Tensor big = forward(*act, Tensor({1, 2}, {1000.0f, 0.0f}));
  EXPECT_EQ(big[0], 1.0f);
  EXPECT_EQ(big[1], 0.0f);
  const Tensor low = forward(*act, Tensor({1, 2}, {-1000.0f, -1000.0f}));
  EXPECT_FLOAT_EQ(low[0], 0.5f);
}

TEST(Activations, SpecRoundTrips) {
  for (const std::string& name : activation_names()) {
    const auto act = make_activation(name);
    EXPECT_EQ(make_activation(act->name())->name(), act->name()) << name;
  }
  EXPECT_EQ(make_activation("leaky_relu")->name(), "leaky_relu(0.2)");
  EXPECT_EQ(make_activation("leaky_relu(0.1)")->name(), "leaky_relu(0.1)");
  EXPECT_EQ(make_activation(" elu( 0.5 ) ")->name(), "elu(0.5)");
  EXPECT_EQ(make_activation("elu")->name(), "elu(1)");
  EXPECT_EQ(make_activation("silu")->name(), "swish");
  // A parameter that needs every digit of a float still reads back the same.
  const std::string odd = make_activation("leaky_relu(0.123456789)")->name();
  EXPECT_EQ(make_activation(odd)->name(), odd);
  EXPECT_FLOAT_EQ(apply(odd, -1.0f), -0.123456789f);
}

void expect_error(const std::string& spec, const std::vector<std::string>& needles) {
  try {
    make_activation(spec);
    ADD_FAILURE() << "no error for '" << spec << "'";
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg << " lacks " << n;
  }
}

TEST(Activations, BadSpecsNameTheSpecAndTheKnownNames) {
  expect_error("relux", {"'relux'", "relu", "leaky_relu", "softmax", "gelu"});
  expect_error("", {"''", "sigmoid"});
  expect_error("leaky_relu(abc)", {"leaky_relu(abc)", "abc", "known"});
  expect_error("leaky_relu()", {"leaky_relu()"});
  expect_error("leaky_relu(0.1", {"leaky_relu(0.1"});
  expect_error("leaky_relu(0.1)x", {"leaky_relu(0.1)x"});
  expect_error("leaky_relu(-1)", {"leaky_relu(-1)", ">= 0"});
  expect_error("elu(nan)", {"elu(nan)"});
  expect_error("elu(1e40)", {"elu(1e40)"});
  expect_error("relu(0.1)", {"relu(0.1)", "no parameter"});
  expect_error("Relu", {"'Relu'"});
}

}  // namespace
}  // namespace nnlab
