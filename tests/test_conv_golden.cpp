// The image layers against Keras (TensorFlow, float64) and PyTorch on the same weights: the outputs
// and the gradients of L = sum(y * r) with respect to the input, the kernel and the bias, for
// conv2d (strides 2 with "same" padding of odd total, an even kernel under "same", dilation 2, a
// non-square kernel, no bias, fused activations), max_pool2d, average_pool2d (valid, same,
// overlapping windows) and global_average_pool2d. The references are tests/data/conv_golden.json,
// written by tests/golden/make_conv_golden.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "lone_layer.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
using nnlab::testing::LoneLayer;
using json = nlohmann::json;

namespace {

// float32 against float64 references: within 1e-5 of the reference's size (at least 1).
constexpr double kTolerance = 1e-5;

json golden(const char* file) {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/" + file);
  EXPECT_TRUE(in) << file;
  return json::parse(in);
}

Tensor tensor_of(const json& values, Shape shape) {
  return Tensor(std::move(shape), values.get<std::vector<float>>());
}

// The largest |got - want| / max(1, |want|), and where.
void expect_close(std::span<const float> got, const json& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double w = want[i].get<double>();
    const double err = std::fabs(got[i] - w) / std::max(1.0, std::fabs(w));
    if (!(err <= worst)) worst = err, at = i;
  }
  EXPECT_LE(worst, kTolerance) << what << ": element " << at << " is " << got[at] << ", reference "
                               << want[at].get<double>();
}

Shape with_batch(int64_t n, Shape s) {
  s.insert(s.begin(), n);
  return s;
}

}  // namespace

TEST(ConvGolden, OutputsAndGradientsMatchKerasAndPyTorch) {
  const json doc = golden("conv_golden.json");
  const int64_t n = doc.at("batch").get<int64_t>();
  ASSERT_GE(doc.at("cases").size(), 15u);
  for (const json& c : doc.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>() + " " + c.at("layer").dump());
    const Shape in = c.at("input_shape").get<Shape>();
    LoneLayer l(c.at("layer"), in, 1);
    ASSERT_EQ(l.out, c.at("output_shape").get<Shape>());
    const auto specs = l.layer->param_specs();
    ASSERT_EQ(specs.size(), static_cast<size_t>(c.contains("kernel")) + static_cast<size_t>(c.contains("bias")));
    if (c.contains("kernel")) {
      const auto k = c.at("kernel").get<std::vector<float>>();
      ASSERT_EQ(specs[0].name, "kernel");
      ASSERT_EQ(k.size(), l.size(0));
      std::copy(k.begin(), k.end(), l.value(0).begin());
    }
    if (c.contains("bias")) {
      const auto b = c.at("bias").get<std::vector<float>>();
      ASSERT_EQ(specs[1].name, "bias");
      ASSERT_EQ(b.size(), l.size(1));
      std::copy(b.begin(), b.end(), l.value(1).begin());
    }
    const Tensor x = tensor_of(c.at("x"), with_batch(n, in));
    const Tensor r = tensor_of(c.at("r"), with_batch(n, l.out));
    Tensor y, dx;
    Rng rng(1);
    l.layer->forward(x, y, Mode::Train, rng);
    ASSERT_EQ(y.shape(), r.shape());
    expect_close(y.span(), c.at("y"), "output");
    l.layer->backward(x, y, r, &dx, false);
    ASSERT_EQ(dx.shape(), x.shape());
    expect_close(dx.span(), c.at("dx"), "input gradient");
    if (c.contains("kernel")) expect_close(l.grad(0), c.at("dkernel"), "kernel gradient");
    if (c.contains("bias")) expect_close(l.grad(1), c.at("dbias"), "bias gradient");
    // Inference gives the same outputs (no layer here behaves differently in training).
    Tensor y2;
    l.layer->forward(x, y2, Mode::Infer, rng);
    expect_close(y2.span(), c.at("y"), "inference output");
  }
}
