// Losses and metrics: gradients against finite differences, known values, fused against unfused,
// target checks, label smoothing against Keras (tests/golden/make_loss_golden.py ->
// tests/data/loss_golden.json).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "gradcheck.hpp"
#include "nnlab/activations/activation.hpp"
#include "nnlab/error.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/tensor.hpp"

namespace nnlab {
namespace {

using testing::check_gradient;
using testing::kGradTolerance;

Tensor uniform(const Shape& shape, float lo, float hi, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  Tensor t(shape);
  for (int64_t i = 0; i < t.size(); ++i) t[i] = u(rng);
  return t;
}

Tensor class_indices(int64_t batch, int64_t classes, uint32_t seed) {
  std::mt19937 rng(seed);
  Tensor t({batch, 1});
  for (int64_t r = 0; r < batch; ++r) t[r] = static_cast<float>(rng() % classes);
  return t;
}

Tensor one_hot(const Tensor& indices, int64_t classes) {
  Tensor t({indices.rows(), classes}, 0.0f);
  for (int64_t r = 0; r < indices.rows(); ++r) t.at(r, static_cast<int64_t>(indices[r])) = 1.0f;
  return t;
}

Tensor apply(const std::string& activation, const Tensor& x) {
  Tensor y(x.shape());
  make_activation(activation)->forward(x.data(), y.data(), x.rows(), x.cols());
  return y;
}

// A prediction and a target that suit the loss, away from its kinks and clips.
struct Case {
  std::string label;
  Tensor pred, target;
};

// Cases by what the loss's targets hold, so a new loss is covered by its targets() alone.
std::vector<Case> cases_for(const Loss& loss, uint32_t seed) {
  const int64_t batch = 4, out = 5;
  if (loss.targets() == Targets::Values) {
    Tensor pred = uniform({batch, out}, -2.0f, 2.0f, seed);
    Tensor target = uniform({batch, out}, -2.0f, 2.0f, seed + 1);
    for (int64_t i = 0; i < pred.size(); ++i)  // mae has a kink at pred == target
      if (std::fabs(pred[i] - target[i]) < 0.05f) pred[i] = target[i] + 0.1f;
    return {{"real targets", pred, target}};
  }
  if (loss.targets() == Targets::Binary) {
    const Tensor pred = uniform({batch, out}, 0.05f, 0.95f, seed);
    Tensor hard = uniform({batch, out}, 0.0f, 1.0f, seed + 1);
    for (int64_t i = 0; i < hard.size(); ++i) hard[i] = hard[i] > 0.5f ? 1.0f : 0.0f;
    return {{"0/1 targets", pred, hard}, {"soft targets", pred, uniform({batch, out}, 0.0f, 1.0f, seed + 2)}};
  }
  // The categorical losses. Predictions are positive but need not sum to 1: Keras normalises.
  const Tensor pred = uniform({batch, out}, 0.05f, 1.0f, seed);
  const Tensor idx = class_indices(batch, out, seed + 1);
  if (loss.targets() == Targets::ClassIndices) return {{"indices", pred, idx}};
  Tensor soft = uniform({batch, out}, 0.0f, 1.0f, seed + 2);
  return {{"one-hot", pred, one_hot(idx, out)}, {"indices", pred, idx}, {"soft labels", pred, soft}};
}

testing::GradientCheck check_loss_gradient(const Loss& loss, Tensor pred, const Tensor& target, bool fused) {
  const auto value = [&] {
    return fused ? loss.compute_fused(pred, target, nullptr) : loss.compute(pred, target, nullptr);
  };
  Tensor grad;
  if (fused)
    loss.compute_fused(pred, target, &grad);
  else
    loss.compute(pred, target, &grad);
  EXPECT_EQ(grad.shape(), pred.shape());
  return check_gradient(value, pred.span(), grad.span());
}

// Every loss as it is made by default, and with each option it takes set away from its default, so a
// new option is covered by the gradient checks once it is listed here.
std::vector<std::pair<std::string, std::unique_ptr<Loss>>> loss_variants() {
  std::vector<std::pair<std::string, std::unique_ptr<Loss>>> out;
  for (const std::string& name : loss_names()) {
    out.emplace_back(name, make_loss(name));
    for (const nlohmann::json& options : {nlohmann::json{{"label_smoothing", 0.2}}}) {
      try {
        out.emplace_back(name + " " + options.dump(), make_loss(name, options));
      } catch (const Error&) {  // an option this loss does not take
      }
    }
  }
  return out;
}

TEST(Losses, EveryGradientMatchesFiniteDifferences) {
  const auto variants = loss_variants();
  EXPECT_EQ(variants.size(), loss_names().size() + 2);  // label smoothing: binary and categorical
  for (const auto& [name, loss] : variants) {
    for (uint32_t seed : {1u, 2u, 3u}) {
      for (const Case& c : cases_for(*loss, seed)) {
        const auto result = check_loss_gradient(*loss, c.pred, c.target, /*fused=*/false);
        EXPECT_LT(result.max_error, kGradTolerance) << name << ", " << c.label << ": " << result;
      }
    }
  }
}

TEST(Losses, EveryFusedGradientMatchesFiniteDifferences) {
  int fusing = 0;
  for (const auto& [name, loss] : loss_variants()) {
    if (!loss->fuses("sigmoid") && !loss->fuses("softmax")) continue;
    ++fusing;
    for (uint32_t seed : {1u, 2u, 3u}) {
      for (const Case& c : cases_for(*loss, seed)) {
        const Tensor logits = uniform(c.pred.shape(), -4.0f, 4.0f, seed + 10);
        const auto result = check_loss_gradient(*loss, logits, c.target, /*fused=*/true);
        EXPECT_LT(result.max_error, kGradTolerance) << name << ", " << c.label << ": " << result;
      }
    }
  }
  EXPECT_EQ(fusing, 5);  // binary, categorical (each also smoothed) and sparse categorical cross-entropy
}

// Keras 3's CategoricalCrossentropy and BinaryCrossentropy with label_smoothing 0, 0.1 and 0.3, from
// probabilities and from logits: the same loss and gradient (tests/data/loss_golden.json).
TEST(Losses, LabelSmoothingMatchesKeras) {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/loss_golden.json");
  ASSERT_TRUE(in.good()) << "tests/data/loss_golden.json is missing";
  const auto golden = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    const auto loss = make_loss(c["loss"].get<std::string>(), {{"label_smoothing", c["label_smoothing"]}});
    const auto rows = [](const nlohmann::json& m) {
      Tensor t({static_cast<int64_t>(m.size()), static_cast<int64_t>(m[0].size())});
      for (size_t r = 0; r < m.size(); ++r)
        for (size_t k = 0; k < m[r].size(); ++k) t.at(static_cast<int64_t>(r), static_cast<int64_t>(k)) = m[r][k].get<float>();
      return t;
    };
    const Tensor x = rows(c["input"]), target = rows(c["target"]), want = rows(c["grad"]);
    const bool logits = c["from_logits"].get<bool>();
    Tensor grad;
    const double value = logits ? loss->compute_fused(x, target, &grad) : loss->compute(x, target, &grad);
    const std::string label = c["loss"].get<std::string>() + " smoothing " + c["label_smoothing"].dump() +
                              (logits ? " from logits" : " from probabilities");
    EXPECT_NEAR(value, c["value"].get<double>(), 1e-5 * std::max(1.0, std::fabs(c["value"].get<double>()))) << label;
    for (int64_t i = 0; i < grad.size(); ++i) EXPECT_NEAR(grad[i], want[i], 1e-5) << label << ", element " << i;
    ++checked;
  }
  EXPECT_EQ(checked, 12);
}

TEST(Losses, LabelSmoothingMovesTheTargetTowardsUniform) {
  // One sample, two classes, index target 0, smoothing 0.2: the target is (0.9, 0.1), so the loss
  // is least where the prediction is (0.9, 0.1), not (1, 0).
  const auto loss = make_loss("categorical_crossentropy", {{"label_smoothing", 0.2}});
  const Tensor target({1, 1}, 0.0f);
  auto at = [&](float p) {
    Tensor pred({1, 2});
    pred[0] = p;
    pred[1] = 1.0f - p;
    return loss->compute(pred, target, nullptr);
  };
  EXPECT_NEAR(at(0.9f), -(0.9 * std::log(0.9) + 0.1 * std::log(0.1)), 1e-6);
  EXPECT_LT(at(0.9f), at(0.99f));
  EXPECT_LT(at(0.9f), at(0.8f));
  // Without smoothing, the nearer to (1, 0) the better.
  const auto plain = make_loss("categorical_crossentropy");
  Tensor pred({1, 2});
  pred[0] = 0.99f;
  pred[1] = 0.01f;
  EXPECT_NEAR(plain->compute(pred, target, nullptr), -std::log(0.99), 1e-6);
}

TEST(Losses, BadOptionsAreErrorsThatNameTheLossAndTheValue) {
  auto error_of = [](const std::string& name, const nlohmann::json& options) {
    try {
      make_loss(name, options);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  for (double bad : {-0.1, 1.5}) {
    const std::string msg = error_of("categorical_crossentropy", {{"label_smoothing", bad}});
    EXPECT_NE(msg.find("loss 'categorical_crossentropy': label_smoothing must be in [0, 1]"), std::string::npos) << msg;
  }
  EXPECT_NE(error_of("binary_crossentropy", {{"label_smoothing", "lots"}}).find("label_smoothing"), std::string::npos);
  const std::string none = error_of("mse", {{"label_smoothing", 0.1}});
  EXPECT_NE(none.find("loss 'mse': unknown key 'label_smoothing' (it takes no options)"), std::string::npos) << none;
  const std::string typo = error_of("categorical_crossentropy", {{"label_smothing", 0.1}});
  EXPECT_NE(typo.find("unknown key 'label_smothing' (known: label_smoothing)"), std::string::npos) << typo;
  EXPECT_NE(error_of("categorical_crossentropy", nlohmann::json::array()).find("loss 'categorical_crossentropy'"),
            std::string::npos);
}

TEST(Losses, GradientCheckCatchesAWrongGradient) {
  // mse's gradient without its factor 2 must fail the check.
  const auto loss = make_loss("mse");
  Tensor pred = uniform({3, 4}, -2.0f, 2.0f, 5);
  const Tensor target = uniform({3, 4}, -2.0f, 2.0f, 6);
  Tensor grad;
  loss->compute(pred, target, &grad);
  for (int64_t i = 0; i < grad.size(); ++i) grad[i] *= 0.5f;
  const auto result =
      check_gradient([&] { return loss->compute(pred, target, nullptr); }, pred.span(), grad.span());
  EXPECT_GT(result.max_error, 2 * kGradTolerance) << result;
}

TEST(Losses, WhatFusesWithWhat) {
  EXPECT_TRUE(make_loss("binary_crossentropy")->fuses("sigmoid"));
  EXPECT_FALSE(make_loss("binary_crossentropy")->fuses("softmax"));
  EXPECT_TRUE(make_loss("categorical_crossentropy")->fuses("softmax"));
  EXPECT_FALSE(make_loss("categorical_crossentropy")->fuses("sigmoid"));
  EXPECT_TRUE(make_loss("sparse_categorical_crossentropy")->fuses("softmax"));
  for (const std::string name : {"mse", "mae"}) {
    const auto loss = make_loss(name);
    EXPECT_FALSE(loss->fuses("sigmoid"));
    EXPECT_FALSE(loss->fuses("linear"));
    const Tensor x({1, 1}, 0.5f);
    try {
      loss->compute_fused(x, x, nullptr);
      ADD_FAILURE() << name << " fused without error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("loss " + name + " cannot fuse"), std::string::npos) << e.what();
    }
  }
}

TEST(Losses, KnownValues) {
  EXPECT_DOUBLE_EQ(make_loss("mse")->compute(Tensor({1, 2}, {1, 2}), Tensor({1, 2}, 0.0f), nullptr), 2.5);
  EXPECT_DOUBLE_EQ(
      make_loss("mean_squared_error")->compute(Tensor({1, 2}, {1, 2}), Tensor({1, 2}, 0.0f), nullptr), 2.5);
  // Per-sample means 2.5 and 0.5, then the batch mean.
  EXPECT_DOUBLE_EQ(make_loss("mse")->compute(Tensor({2, 2}, {1, 2, 1, 0}), Tensor({2, 2}, 0.0f), nullptr),
                   1.5);
  EXPECT_DOUBLE_EQ(make_loss("mae")->compute(Tensor({1, 2}, {1, -3}), Tensor({1, 2}, 0.0f), nullptr), 2.0);
  EXPECT_DOUBLE_EQ(
      make_loss("mean_absolute_error")->compute(Tensor({2, 1}, {1, -3}), Tensor({2, 1}, 0.0f), nullptr), 2.0);

  const auto bce = make_loss("binary_crossentropy");
  EXPECT_NEAR(bce->compute(Tensor({2, 1}, {0.5f, 0.5f}), Tensor({2, 1}, {0, 1}), nullptr), std::log(2.0),
              1e-7);
  EXPECT_NEAR(bce->compute(Tensor({1, 2}, {0.9f, 0.2f}), Tensor({1, 2}, {1, 0}), nullptr),
              -(std::log(0.9) + std::log(0.8)) / 2, 1e-6);
  // A probability of exactly 0 for the target 1 is clipped to 1e-7, as Keras: finite, no gradient.
  Tensor grad;
  EXPECT_NEAR(bce->compute(Tensor({1, 1}, 0.0f), Tensor({1, 1}, 1.0f), &grad), -std::log(1e-7), 1e-4);
  EXPECT_EQ(grad[0], 0.0f);

  const auto cce = make_loss("categorical_crossentropy");
  EXPECT_NEAR(cce->compute(Tensor({1, 4}, 0.25f), Tensor({1, 4}, {0, 0, 1, 0}), nullptr), std::log(4.0),
              1e-6);
  // Rows are normalised first, as Keras: [2, 2, 2, 2] is the uniform distribution.
  EXPECT_NEAR(cce->compute(Tensor({1, 4}, 2.0f), Tensor({1, 1}, 3.0f), nullptr), std::log(4.0), 1e-6);
  EXPECT_NEAR(cce->compute(Tensor({2, 2}, {0.8f, 0.2f, 0.4f, 0.6f}), Tensor({2, 1}, {0, 1}), nullptr),
              -(std::log(0.8) + std::log(0.6)) / 2, 1e-6);
  EXPECT_NEAR(make_loss("sparse_categorical_crossentropy")
                  ->compute(Tensor({1, 4}, 0.25f), Tensor({1, 1}, 1.0f), nullptr),
              std::log(4.0), 1e-6);
  // From logits: uniform logits are log 4 too.
  EXPECT_NEAR(cce->compute_fused(Tensor({1, 4}, 3.0f), Tensor({1, 1}, 0.0f), nullptr), std::log(4.0), 1e-6);
  EXPECT_NEAR(bce->compute_fused(Tensor({1, 1}, 0.0f), Tensor({1, 1}, 1.0f), nullptr), std::log(2.0), 1e-7);
}

TEST(Losses, FusedAgreesWithActivationThenLoss) {
  struct Pair {
    std::string loss, activation;
    Tensor target;
  };
  const Tensor idx = class_indices(4, 5, 7);
  const std::vector<Pair> pairs = {
      {"binary_crossentropy", "sigmoid", uniform({4, 5}, 0.0f, 1.0f, 8)},
      {"categorical_crossentropy", "softmax", one_hot(idx, 5)},
      {"categorical_crossentropy", "softmax", idx},
      {"sparse_categorical_crossentropy", "softmax", idx},
  };
  for (const Pair& p : pairs) {
    const auto loss = make_loss(p.loss);
    const auto act = make_activation(p.activation);
    const Tensor z = uniform({4, 5}, -4.0f, 4.0f, 9);
    const Tensor y = apply(p.activation, z);
    Tensor grad_y, grad_z_fused;
    const double unfused = loss->compute(y, p.target, &grad_y);
    const double fused = loss->compute_fused(z, p.target, &grad_z_fused);
    EXPECT_NEAR(fused, unfused, 1e-5 * std::max(1.0, unfused)) << p.loss;
    // The unfused gradient with respect to z, through the activation's backward.
    Tensor grad_z(z.shape());
    act->backward(z.data(), y.data(), grad_y.data(), grad_z.data(), z.rows(), z.cols());
    for (int64_t i = 0; i < z.size(); ++i)
      EXPECT_NEAR(grad_z_fused[i], grad_z[i], 1e-5) << p.loss << " element " << i;
  }
}

TEST(Losses, FusedStaysFiniteForHugeLogits) {
  const auto bce = make_loss("binary_crossentropy");
  Tensor grad;
  // Confidently wrong on both samples: loss ~100 each.
  const double wrong = bce->compute_fused(Tensor({2, 1}, {-100.0f, 100.0f}), Tensor({2, 1}, {1, 0}), &grad);
  EXPECT_NEAR(wrong, 100.0, 1e-6);
  EXPECT_FLOAT_EQ(grad[0], -0.5f);  // (sigmoid(-100) - 1) / 2
  EXPECT_FLOAT_EQ(grad[1], 0.5f);   // (sigmoid(100) - 0) / 2
  // Confidently right: loss ~0, gradient ~0, all finite.
  const double right = bce->compute_fused(Tensor({2, 1}, {100.0f, -100.0f}), Tensor({2, 1}, {1, 0}), &grad);
  EXPECT_GE(right, 0.0);
  EXPECT_LT(right, 1e-40);
  EXPECT_TRUE(std::isfinite(grad[0]) && std::isfinite(grad[1]));
  EXPECT_NEAR(grad[0], 0.0f, 1e-30f);

  const auto cce = make_loss("categorical_crossentropy");
  const double huge =
      cce->compute_fused(Tensor({1, 3}, {1000.0f, 0.0f, -1000.0f}), Tensor({1, 1}, 1.0f), &grad);
  EXPECT_NEAR(huge, 1000.0, 1e-3);
  EXPECT_FLOAT_EQ(grad[0], 1.0f);
  EXPECT_FLOAT_EQ(grad[1], -1.0f);
  EXPECT_EQ(grad[2], 0.0f);
}

TEST(Losses, OneHotAndIndexTargetsAgree) {
  const auto cce = make_loss("categorical_crossentropy");
  const auto scce = make_loss("sparse_categorical_crossentropy");
  const Tensor pred = apply("softmax", uniform({6, 4}, -3.0f, 3.0f, 3));
  const Tensor idx = class_indices(6, 4, 4);
  const Tensor hot = one_hot(idx, 4);
  for (bool fused : {false, true}) {
    Tensor g_hot, g_idx, g_sparse;
    const auto run = [&](const Loss& l, const Tensor& t, Tensor* g) {
      return fused ? l.compute_fused(pred, t, g) : l.compute(pred, t, g);
    };
    const double a = run(*cce, hot, &g_hot), b = run(*cce, idx, &g_idx), c = run(*scce, idx, &g_sparse);
    EXPECT_NEAR(a, b, 1e-7) << "fused " << fused;
    EXPECT_DOUBLE_EQ(b, c) << "fused " << fused;
    for (int64_t i = 0; i < pred.size(); ++i) {
      EXPECT_NEAR(g_hot[i], g_idx[i], 1e-7) << "fused " << fused << " element " << i;
      EXPECT_EQ(g_idx[i], g_sparse[i]) << "fused " << fused << " element " << i;
    }
  }
}

// Runs f, which must throw nnlab::Error with every needle in its message.
template <class F>
void expect_error(F f, const std::vector<std::string>& needles) {
  try {
    f();
    ADD_FAILURE() << "no error; wanted one mentioning " << needles.front();
  } catch (const Error& e) {
    const std::string msg = e.what();
    for (const std::string& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << msg << " lacks " << n;
  }
}

TEST(Losses, BadTargetsAreErrorsThatNameTheProblem) {
  const Tensor p23({2, 3}, 0.3f);
  for (const std::string name : {"mse", "mae", "binary_crossentropy", "categorical_crossentropy"})
    expect_error(
        [&] {
          make_loss(name)->compute(p23, Tensor({2, 4}, 0.0f), nullptr);
        },
        {name, "(2, 4)", "(2, 3)"});
  expect_error([&] { make_loss("mse")->compute(p23, Tensor({3, 3}, 0.0f), nullptr); }, {"(3, 3)", "(2, 3)"});
  expect_error(
      [&] {
        make_loss("binary_crossentropy")->compute_fused(p23, Tensor({2, 2}, 0.0f), nullptr);
      },
      {"(2, 2)", "(2, 3)"});
  expect_error(
      [&] {
        make_loss("sparse_categorical_crossentropy")->compute(p23, Tensor({2, 3}, 0.0f), nullptr);
      },
      {"(2, 3)", "class index"});

  for (const std::string name : {"categorical_crossentropy", "sparse_categorical_crossentropy"}) {
    const auto loss = make_loss(name);
    expect_error(
        [&] {
          loss->compute(p23, Tensor({2, 1}, {0, 5}), nullptr);
        },
        {name, "class index 5", "row 1", "[0, 3)"});
    expect_error(
        [&] {
          loss->compute_fused(p23, Tensor({2, 1}, {0, 3}), nullptr);
        },
        {"class index 3", "row 1"});
    expect_error([&] { loss->compute(p23, Tensor({2, 1}, {-1, 0}), nullptr); }, {"class index -1", "row 0"});
    expect_error(
        [&] {
          loss->compute(p23, Tensor({2, 1}, {1.5f, 0}), nullptr);
        },
        {"class index 1.5", "row 0"});
    expect_error([&] { loss->compute(p23, Tensor({2, 1}, {0, NAN}), nullptr); }, {"nan", "row 1"});
  }
  expect_error(
      [&] {
        make_loss("mse")->compute(p23, Tensor({2, 3}, {0, 0, 0, 0, NAN, 0}), nullptr);
      },
      {"nan", "row 1", "column 1"});
  expect_error(
      [&] {
        make_loss("binary_crossentropy")->compute(p23, Tensor({2, 3}, {0, 0, INFINITY, 0, 0, 0}), nullptr);
      },
      {"inf", "row 0", "column 2"});
  expect_error([&] { make_loss("mse")->compute(Tensor({0, 3}), Tensor({0, 3}), nullptr); }, {"empty batch"});
  expect_error([] { make_loss("cross_entropy"); },
               {"'cross_entropy'", "mse", "mae", "binary_crossentropy", "sparse_categorical_crossentropy"});
}

TEST(Losses, NamesAreCanonical) {
  EXPECT_EQ(make_loss("mean_squared_error")->name(), "mse");
  EXPECT_EQ(make_loss("mean_absolute_error")->name(), "mae");
  for (const std::string& name : loss_names())
    EXPECT_EQ(make_loss(make_loss(name)->name())->name(), make_loss(name)->name());
}

TEST(Metrics, AccuracyAppliesToClassificationLosses) {
  EXPECT_TRUE(accuracy_applies("binary_crossentropy"));
  EXPECT_TRUE(accuracy_applies("categorical_crossentropy"));
  EXPECT_TRUE(accuracy_applies("sparse_categorical_crossentropy"));
  EXPECT_FALSE(accuracy_applies("mse"));
  EXPECT_FALSE(accuracy_applies("mae"));
  expect_error([] { count_correct("mse", Tensor({1, 1}), Tensor({1, 1})); }, {"'mse'"});
}

TEST(Metrics, BinaryAccuracyThresholdsAtHalf) {
  // One output: element-wise.
  EXPECT_EQ(count_correct("binary_crossentropy", Tensor({4, 1}, {0.2f, 0.7f, 0.6f, 0.4f}),
                          Tensor({4, 1}, {0, 1, 0, 0})),
            3);
  EXPECT_EQ(count_correct("binary_crossentropy", Tensor({2, 1}, {0.5f, 0.51f}), Tensor({2, 1}, {0, 1})), 2);
  // Several outputs: a sample counts when all of them are right.
  EXPECT_EQ(count_correct("binary_crossentropy", Tensor({3, 2}, {0.9f, 0.1f, 0.9f, 0.9f, 0.1f, 0.1f}),
                          Tensor({3, 2}, {1, 0, 1, 0, 1, 1})),
            1);
  expect_error(
      [] {
        count_correct("binary_crossentropy", Tensor({2, 1}), Tensor({2, 2}));
      },
      {"(2, 2)", "(2, 1)"});
}

TEST(Metrics, CategoricalAccuracyComparesArgmax) {
  const Tensor pred({3, 3}, {0.1f, 0.7f, 0.2f, 0.5f, 0.3f, 0.2f, 0.2f, 0.3f, 0.5f});  // argmax 1, 0, 2
  const Tensor idx({3, 1}, {1, 0, 1});
  EXPECT_EQ(count_correct("categorical_crossentropy", pred, idx), 2);
  EXPECT_EQ(count_correct("categorical_crossentropy", pred, one_hot(idx, 3)), 2);
  EXPECT_EQ(count_correct("sparse_categorical_crossentropy", pred, idx), 2);
  EXPECT_EQ(count_correct("sparse_categorical_crossentropy", pred, Tensor({3, 1}, {1, 0, 2})), 3);
  expect_error(
      [&] {
        count_correct("sparse_categorical_crossentropy", pred, Tensor({3, 1}, {1, 0, 3}));
      },
      {"class index 3", "row 2"});
  expect_error(
      [&] {
        count_correct("categorical_crossentropy", pred, Tensor({2, 3}));
      },
      {"(2, 3)", "(3, 3)"});
}

TEST(Metrics, ArgmaxRowTakesTheFirstOfEqualMaxima) {
  const Tensor t({2, 4}, {1, 3, 3, 2, -5, -1, -2, -1});
  EXPECT_EQ(argmax_row(t, 0), 1);
  EXPECT_EQ(argmax_row(t, 1), 1);
  EXPECT_THROW(argmax_row(t, 2), Error);
}

}  // namespace
}  // namespace nnlab
