// Optimizers against an independent double-precision reference written here from Keras 3's update
// rules (keras/src/optimizers/*.py), plus defaults, option checking, lazy state and convergence.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "test_util.hpp"

using nlohmann::json;
using nnlab::make_optimizer;
using nnlab::testing::error_of;

namespace {

using Vec = std::vector<double>;

// The parameters and the gradient fed at step k (0-based): varied signs and sizes, and a changing
// gradient so that momentum and moment estimates matter.
const Vec kStart = {0.5, -1.25, 2.0, 0.0, -0.3, 3.5, 1e-3};
Vec grad_at(int k) {
  const Vec base = {0.1, -0.4, 1.5, 0.0, 2.0, -0.05, 7.0};
  Vec g(base.size());
  for (size_t i = 0; i < g.size(); ++i) g[i] = base[i] * (1.0 + 0.5 * k) * ((k + i) % 3 == 2 ? -1.0 : 1.0);
  return g;
}

// A reference update: advances p (and its own state) by one step with gradient g at step t (1-based).
using Reference = std::function<void(Vec& p, const Vec& g, int t)>;

Reference ref_sgd(double lr, double momentum, bool nesterov, double wd = 0) {
  auto v = std::make_shared<Vec>(kStart.size(), 0.0);
  return [=](Vec& p, const Vec& g, int) {
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= p[i] * wd * lr;
      if (momentum == 0) {
        p[i] -= lr * g[i];
        continue;
      }
      (*v)[i] = momentum * (*v)[i] - lr * g[i];
      p[i] += nesterov ? momentum * (*v)[i] - lr * g[i] : (*v)[i];
    }
  };
}

Reference ref_adam(double lr, double b1, double b2, double eps, double wd) {
  auto m = std::make_shared<Vec>(kStart.size(), 0.0);
  auto v = std::make_shared<Vec>(kStart.size(), 0.0);
  return [=](Vec& p, const Vec& g, int t) {
    const double alpha = lr * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (size_t i = 0; i < p.size(); ++i) {
      p[i] -= p[i] * wd * lr;
      (*m)[i] += (g[i] - (*m)[i]) * (1 - b1);
      (*v)[i] += (g[i] * g[i] - (*v)[i]) * (1 - b2);
      p[i] -= alpha * (*m)[i] / (std::sqrt((*v)[i]) + eps);
    }
  };
}

Reference ref_rmsprop(double lr, double rho, double momentum, double eps, bool centered) {
  auto v = std::make_shared<Vec>(kStart.size(), 0.0);
  auto a = std::make_shared<Vec>(kStart.size(), 0.0);
  auto buf = std::make_shared<Vec>(kStart.size(), 0.0);
  return [=](Vec& p, const Vec& g, int) {
    for (size_t i = 0; i < p.size(); ++i) {
      (*v)[i] = rho * (*v)[i] + (1 - rho) * g[i] * g[i];
      double denom = (*v)[i] + eps;
      if (centered) {
        (*a)[i] = rho * (*a)[i] + (1 - rho) * g[i];
        denom = (*v)[i] - (*a)[i] * (*a)[i] + eps;
      }
      const double inc = lr * g[i] / std::sqrt(denom);
      if (momentum > 0) {
        (*buf)[i] = momentum * (*buf)[i] + inc;
        p[i] -= (*buf)[i];
      } else {
        p[i] -= inc;
      }
    }
  };
}

Reference ref_adagrad(double lr, double init, double eps) {
  auto acc = std::make_shared<Vec>(kStart.size(), init);
  return [=](Vec& p, const Vec& g, int) {
    for (size_t i = 0; i < p.size(); ++i) {
      (*acc)[i] += g[i] * g[i];
      p[i] -= lr * g[i] / std::sqrt((*acc)[i] + eps);
    }
  };
}

// Runs `steps` steps of the optimizer and of the reference side by side, comparing after each.
void expect_matches(const std::string& name, const json& options, Reference ref, int steps = 4) {
  SCOPED_TRACE(name + " " + options.dump());
  auto opt = make_optimizer(name, options);
  std::vector<float> p(kStart.begin(), kStart.end());
  Vec expected = kStart;
  for (int k = 0; k < steps; ++k) {
    const Vec g = grad_at(k);
    const std::vector<float> gf(g.begin(), g.end());
    opt->step(p, gf, static_cast<float>(opt->initial_learning_rate()));
    ref(expected, g, k + 1);
    for (size_t i = 0; i < p.size(); ++i) {
      EXPECT_NEAR(p[i], expected[i], 2e-6 * std::max(1.0, std::abs(expected[i])))
          << "step " << k + 1 << ", parameter " << i;
    }
  }
  EXPECT_EQ(opt->iterations, steps);
}

}  // namespace

TEST(Sgd, MatchesReference) {
  expect_matches("sgd", {}, ref_sgd(0.01, 0, false));
  expect_matches("sgd", {{"learning_rate", 0.1}, {"momentum", 0.9}}, ref_sgd(0.1, 0.9, false));
  expect_matches("sgd", {{"learning_rate", 0.05}, {"momentum", 0.8}, {"nesterov", true}},
                 ref_sgd(0.05, 0.8, true));
  expect_matches("sgd", {{"learning_rate", 0.1}, {"momentum", 0.5}, {"weight_decay", 0.1}},
                 ref_sgd(0.1, 0.5, false, 0.1));
}

TEST(Sgd, HandComputedNumbers) {
  // p = 1, g = 1, lr 0.1, momentum 0.9: v = -0.1, p = 0.9; v = -0.19, p = 0.71; v = -0.271, p = 0.439.
  auto opt = make_optimizer("sgd", {{"learning_rate", 0.1}, {"momentum", 0.9}});
  std::vector<float> p = {1.0f};
  const std::vector<float> g = {1.0f};
  for (float want : {0.9f, 0.71f, 0.439f}) {
    opt->step(p, g, 0.1f);
    EXPECT_NEAR(p[0], want, 1e-6);
  }
  // Nesterov: v = -0.1, p = 1 + 0.9 * -0.1 - 0.1 = 0.81; v = -0.19, p = 0.81 - 0.171 - 0.1 = 0.539.
  auto nes = make_optimizer("sgd", {{"learning_rate", 0.1}, {"momentum", 0.9}, {"nesterov", true}});
  p = {1.0f};
  for (float want : {0.81f, 0.539f}) {
    nes->step(p, g, 0.1f);
    EXPECT_NEAR(p[0], want, 1e-6);
  }
}

TEST(Adam, MatchesReference) {
  expect_matches("adam", {}, ref_adam(0.001, 0.9, 0.999, 1e-7, 0));
  expect_matches("adam", {{"learning_rate", 0.1}, {"beta_1", 0.5}, {"beta_2", 0.9}, {"epsilon", 1e-3}},
                 ref_adam(0.1, 0.5, 0.9, 1e-3, 0), 6);
}

TEST(Adam, HandComputedFirstStep) {
  // t = 1: m = 0.1 g, v = 0.001 g^2, alpha = lr * sqrt(0.001) / 0.1, so p moves by about lr * sign(g).
  auto opt = make_optimizer("adam", {{"learning_rate", 0.01}});
  std::vector<float> p = {1.0f, -2.0f};
  opt->step(p, std::vector<float>{4.0f, -0.5f}, 0.01f);
  const double alpha = 0.01 * std::sqrt(0.001) / 0.1;
  EXPECT_NEAR(p[0], 1.0 - alpha * 0.4 / (std::sqrt(0.016) + 1e-7), 1e-6);
  EXPECT_NEAR(p[1], -2.0 + alpha * 0.05 / (std::sqrt(0.00025) + 1e-7), 1e-6);
  EXPECT_NEAR(p[0], 0.99, 1e-6);
}

TEST(AdamW, MatchesReference) {
  expect_matches("adamw", {}, ref_adam(0.001, 0.9, 0.999, 1e-7, 0.004));
  expect_matches("adamw", {{"learning_rate", 0.05}, {"weight_decay", 0.5}}, ref_adam(0.05, 0.9, 0.999, 1e-7, 0.5));
}

TEST(AdamW, DecayAloneShrinksParameters) {
  // Zero gradients leave m and v at zero, so only p -= p * wd * lr acts: p * (1 - 0.5 * 0.1)^k.
  auto opt = make_optimizer("adamw", {{"learning_rate", 0.1}, {"weight_decay", 0.5}});
  std::vector<float> p = {2.0f, -4.0f};
  const std::vector<float> g = {0.0f, 0.0f};
  for (int k = 1; k <= 3; ++k) {
    opt->step(p, g, 0.1f);
    EXPECT_NEAR(p[0], 2.0 * std::pow(0.95, k), 1e-6);
    EXPECT_NEAR(p[1], -4.0 * std::pow(0.95, k), 1e-6);
  }
}

TEST(Rmsprop, MatchesReference) {
  expect_matches("rmsprop", {}, ref_rmsprop(0.001, 0.9, 0, 1e-7, false));
  expect_matches("rmsprop", {{"learning_rate", 0.01}, {"momentum", 0.9}}, ref_rmsprop(0.01, 0.9, 0.9, 1e-7, false));
  expect_matches("rmsprop", {{"learning_rate", 0.01}, {"rho", 0.5}, {"centered", true}, {"epsilon", 1e-2}},
                 ref_rmsprop(0.01, 0.5, 0, 1e-2, true));
  expect_matches("rmsprop", {{"centered", true}, {"momentum", 0.5}, {"epsilon", 1e-3}},
                 ref_rmsprop(0.001, 0.9, 0.5, 1e-3, true));
}

TEST(Rmsprop, KerasDocstringExample) {
  // keras.optimizers.RMSprop(learning_rate=0.1) on loss var^2 / 2 from var = 10 gives 9.683772.
  auto opt = make_optimizer("rmsprop", {{"learning_rate", 0.1}});
  std::vector<float> p = {10.0f};
  opt->step(p, std::vector<float>{p[0]}, 0.1f);
  EXPECT_NEAR(p[0], 9.683772f, 1e-5);
}

TEST(Adagrad, MatchesReference) {
  expect_matches("adagrad", {}, ref_adagrad(0.001, 0.1, 1e-7));
  expect_matches("adagrad", {{"learning_rate", 0.5}, {"initial_accumulator_value", 0.0}, {"epsilon", 1e-4}},
                 ref_adagrad(0.5, 0.0, 1e-4));
}

TEST(Adagrad, HandComputedNumbers) {
  // acc = 0.1 + 1 = 1.1 -> p = 1 - 0.1 / sqrt(1.1); acc = 2.1 -> p -= 0.1 / sqrt(2.1).
  auto opt = make_optimizer("adagrad", {{"learning_rate", 0.1}, {"epsilon", 1e-7}});
  std::vector<float> p = {1.0f};
  const std::vector<float> g = {1.0f};
  opt->step(p, g, 0.1f);
  EXPECT_NEAR(p[0], 1.0 - 0.1 / std::sqrt(1.1 + 1e-7), 1e-6);
  opt->step(p, g, 0.1f);
  EXPECT_NEAR(p[0], 1.0 - 0.1 / std::sqrt(1.1 + 1e-7) - 0.1 / std::sqrt(2.1 + 1e-7), 1e-6);
}

TEST(Optimizers, KerasDefaults) {
  EXPECT_FLOAT_EQ(make_optimizer("adam", {})->initial_learning_rate(), 0.001f);
  EXPECT_FLOAT_EQ(make_optimizer("sgd", {})->initial_learning_rate(), 0.01f);
  EXPECT_FLOAT_EQ(make_optimizer("rmsprop", {})->initial_learning_rate(), 0.001f);
  EXPECT_FLOAT_EQ(make_optimizer("adagrad", {})->initial_learning_rate(), 0.001f);
  EXPECT_FLOAT_EQ(make_optimizer("adamw", json::object())->initial_learning_rate(), 0.001f);

  const json sgd = make_optimizer("sgd", {})->config();
  EXPECT_EQ(sgd["name"], "sgd");
  EXPECT_EQ(sgd["learning_rate"], 0.01);
  EXPECT_EQ(sgd["momentum"], 0.0);
  EXPECT_EQ(sgd["nesterov"], false);

  const json adam = make_optimizer("adam", {})->config();
  EXPECT_EQ(adam["name"], "adam");
  EXPECT_EQ(adam["learning_rate"], 0.001);
  EXPECT_EQ(adam["beta_1"], 0.9);
  EXPECT_EQ(adam["beta_2"], 0.999);
  EXPECT_EQ(adam["epsilon"], 1e-7);
  EXPECT_EQ(adam["weight_decay"], 0.0);

  const json adamw = make_optimizer("adamw", {})->config();
  EXPECT_EQ(adamw["name"], "adamw");
  EXPECT_EQ(adamw["weight_decay"], 0.004);
  EXPECT_EQ(adamw["beta_2"], 0.999);

  const json rms = make_optimizer("rmsprop", {})->config();
  EXPECT_EQ(rms["rho"], 0.9);
  EXPECT_EQ(rms["momentum"], 0.0);
  EXPECT_EQ(rms["epsilon"], 1e-7);
  EXPECT_EQ(rms["centered"], false);

  const json ada = make_optimizer("adagrad", {})->config();
  EXPECT_EQ(ada["initial_accumulator_value"], 0.1);
  EXPECT_EQ(ada["epsilon"], 1e-7);
}

TEST(Optimizers, ConfigRoundTrips) {
  const json options = {{"learning_rate", 0.02}, {"beta_1", 0.8}, {"weight_decay", 0.01}};
  const json config = make_optimizer("adamw", options)->config();
  EXPECT_EQ(config["learning_rate"], 0.02);  // as written, not widened from float
  json again = config;
  again.erase("name");
  EXPECT_EQ(make_optimizer(config["name"].get<std::string>(), again)->config(), config);
  for (const auto& name : nnlab::optimizer_names()) {
    json c = make_optimizer(name, {})->config();
    c.erase("name");
    EXPECT_EQ(make_optimizer(name, c)->config()["name"], name);
  }
}

// An optimizer keeps no rate: stepping with another one (a schedule's, a plateau's cut) leaves its
// configuration, which the trainer's rate policy starts from, as it was made.
TEST(Optimizers, ConfigKeepsTheConfiguredRate) {
  auto opt = make_optimizer("sgd", {{"learning_rate", 0.1}});
  std::vector<float> p{1.0f}, g{1.0f};
  opt->step(p, g, 0.5f);
  EXPECT_FLOAT_EQ(p[0], 0.5f);
  EXPECT_EQ(opt->config()["learning_rate"], 0.1);
  EXPECT_EQ(opt->initial_learning_rate(), 0.1);
}

TEST(Optimizers, NamesAndCaseInsensitiveLookup) {
  EXPECT_EQ(nnlab::optimizer_names(), (std::vector<std::string>{"sgd", "adam", "adamw", "rmsprop", "adagrad"}));
  EXPECT_EQ(make_optimizer("Adam", {})->name(), "adam");
  EXPECT_EQ(make_optimizer("RMSprop", {})->name(), "rmsprop");
}

TEST(Optimizers, StepUsesTheRatePassedIn) {
  // The member is the base rate; a schedule passes the rate for this step.
  auto opt = make_optimizer("sgd", {{"learning_rate", 0.1}});
  std::vector<float> p = {1.0f};
  opt->step(p, std::vector<float>{1.0f}, 0.25f);
  EXPECT_FLOAT_EQ(p[0], 0.75f);
  opt->step(p, std::vector<float>{1.0f}, 0.0f);
  EXPECT_FLOAT_EQ(p[0], 0.75f);
}

TEST(Optimizers, StateIsAllocatedOnTheFirstStep) {
  const std::vector<std::pair<std::string, json>> cases = {
      {"sgd", {{"momentum", 0.9}}}, {"adam", {}}, {"adamw", {}},
      {"rmsprop", {{"momentum", 0.5}, {"centered", true}}}, {"adagrad", {}}};
  for (const auto& [name, options] : cases) {
    SCOPED_TRACE(name);
    auto opt = make_optimizer(name, options);
    ASSERT_FALSE(opt->state().empty());
    for (auto& [buf_name, buf] : opt->state()) EXPECT_TRUE(buf->empty()) << buf_name;
    std::vector<float> p(5, 1.0f), g(5, 0.5f);
    opt->step(p, g, static_cast<float>(opt->initial_learning_rate()));
    for (auto& [buf_name, buf] : opt->state()) EXPECT_EQ(buf->size(), 5u) << buf_name;
    EXPECT_EQ(opt->iterations, 1);
  }
  // Keras keeps no buffer for SGD without momentum, and only what RMSprop's options need.
  EXPECT_TRUE(make_optimizer("sgd", {})->state().empty());
  EXPECT_EQ(make_optimizer("rmsprop", {})->state().size(), 1u);
  EXPECT_EQ(make_optimizer("rmsprop", {{"momentum", 0.5}, {"centered", true}})->state().size(), 3u);
  // Adagrad's accumulator starts at initial_accumulator_value, then gains g^2 = 0.25.
  auto ada = make_optimizer("adagrad", {{"initial_accumulator_value", 0.3}});
  std::vector<float> p(3, 1.0f), g(3, 0.5f);
  ada->step(p, g, 0.001f);
  EXPECT_FLOAT_EQ((*ada->state().at(0).second)[0], 0.55f);
  EXPECT_EQ(ada->state().at(0).first, "accumulator");
}

TEST(Optimizers, RestoredStateIsUsed) {
  // A checkpoint restores the buffers and the step count before the first step.
  auto a = make_optimizer("adam", {});
  std::vector<float> pa = {1.0f, 2.0f}, g = {0.3f, -0.1f};
  for (int k = 0; k < 3; ++k) a->step(pa, g, 0.001f);
  auto b = make_optimizer("adam", {});
  for (size_t i = 0; i < 2; ++i) *b->state()[i].second = *a->state()[i].second;
  b->iterations = a->iterations;
  std::vector<float> pb = pa;
  a->step(pa, g, 0.001f);
  b->step(pb, g, 0.001f);
  EXPECT_EQ(pa, pb);
}

TEST(Optimizers, MismatchedSizesThrow) {
  auto opt = make_optimizer("adam", {});
  std::vector<float> p(4, 0.0f), g(3, 0.0f);
  EXPECT_NE(error_of([&] { opt->step(p, g, 0.001f); }).find("4 parameters but 3 gradients"), std::string::npos);
  std::vector<float> g4(4, 0.0f), p5(5, 0.0f), g5(5, 0.0f);
  opt->step(p, g4, 0.001f);
  EXPECT_NE(error_of([&] { opt->step(p5, g5, 0.001f); }).find("holds 4 values"), std::string::npos);
  EXPECT_NE(error_of([&] { opt->step(p, g4, -1.0f); }).find("-1"), std::string::npos);
}

TEST(Optimizers, LargeVectorsTakeTheParallelPathWithTheSameResult) {
  const size_t n = (size_t{1} << 16) + 12345;
  std::vector<float> big(n), grad(n);
  for (size_t i = 0; i < n; ++i) {
    big[i] = static_cast<float>(std::sin(0.001 * static_cast<double>(i)));
    grad[i] = static_cast<float>(std::cos(0.37 * static_cast<double>(i)));
  }
  for (const auto& name : nnlab::optimizer_names()) {
    SCOPED_TRACE(name);
    auto whole = make_optimizer(name, {{"learning_rate", 0.01}});
    auto piece = make_optimizer(name, {{"learning_rate", 0.01}});
    std::vector<float> p = big;
    const size_t k = 1000;  // a small copy of the first k values takes the serial path
    std::vector<float> q(big.begin(), big.begin() + k);
    const std::span<const float> gq(grad.data(), k);
    for (int s = 0; s < 3; ++s) {
      whole->step(p, grad, 0.01f);
      piece->step(q, gq, 0.01f);
    }
    for (size_t i = 0; i < k; ++i) ASSERT_FLOAT_EQ(p[i], q[i]) << i;
  }
}

TEST(Optimizers, MinimiseAQuadratic) {
  // f(x) = sum_i c_i (x_i - t_i)^2 / 2, gradient c_i (x_i - t_i): each optimizer reaches t.
  const std::vector<float> c = {1.0f, 4.0f, 0.25f}, t = {3.0f, -1.0f, 0.5f};
  const std::vector<std::pair<std::string, json>> cases = {
      {"sgd", {{"learning_rate", 0.1}}},
      {"sgd", {{"learning_rate", 0.05}, {"momentum", 0.9}, {"nesterov", true}}},
      {"adam", {{"learning_rate", 0.05}}},
      {"adamw", {{"learning_rate", 0.05}, {"weight_decay", 0.0}}},
      {"rmsprop", {{"learning_rate", 0.01}}},
      {"rmsprop", {{"learning_rate", 0.01}, {"momentum", 0.5}, {"centered", true}}},
      {"adagrad", {{"learning_rate", 0.5}}}};
  for (const auto& [name, options] : cases) {
    SCOPED_TRACE(name + " " + options.dump());
    auto opt = make_optimizer(name, options);
    std::vector<float> x = {0.0f, 0.0f, 0.0f}, g(3);
    for (int it = 0; it < 3000; ++it) {
      for (size_t i = 0; i < x.size(); ++i) g[i] = c[i] * (x[i] - t[i]);
      opt->step(x, g, static_cast<float>(opt->initial_learning_rate()));
    }
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(x[i], t[i], 0.02) << i;
  }
}

// Keras 3's use_ema (tests/golden/make_ema_golden.py -> tests/data/ema_golden.json): the weights
// after each step (ema_overwrite_frequency writes the average into them every few steps) and after
// finalize_variable_values, what the end of fit does.
TEST(Optimizers, WeightAverageMatchesKeras) {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/ema_golden.json");
  ASSERT_TRUE(in.good()) << "tests/data/ema_golden.json is missing";
  const json golden = json::parse(in);
  int checked = 0;
  for (const auto& c : golden["cases"]) {
    const std::string label = c["optimizer"].get<std::string>() + " " + c["options"].dump();
    auto opt = make_optimizer(c["optimizer"].get<std::string>(), c["options"]);
    EXPECT_EQ(opt->ema().use_ema, c["options"].value("use_ema", false)) << label;
    std::vector<float> p = c["start"].get<std::vector<float>>();
    const float lr = static_cast<float>(opt->initial_learning_rate());
    for (size_t k = 0; k < c["grads"].size(); ++k) {
      const std::vector<float> g = c["grads"][k].get<std::vector<float>>();
      opt->step(p, g, lr);
      opt->update_average(p);
      const auto want = c["after_each_step"][k].get<std::vector<double>>();
      for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], want[i], 1e-6) << label << " step " << k << " [" << i << "]";
    }
    opt->finalize_average(p);
    const auto fin = c["finalized"].get<std::vector<double>>();
    for (size_t i = 0; i < p.size(); ++i) EXPECT_NEAR(p[i], fin[i], 1e-6) << label << " finalized [" << i << "]";
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(Optimizers, WeightAverageIsCheckpointState) {
  auto plain = make_optimizer("adam", {});
  auto ema = make_optimizer("adam", {{"use_ema", true}});
  std::vector<float> p = {1, 2, 3}, g = {0.1f, -0.2f, 0.3f};
  plain->step(p, g, 0.01f);
  ema->step(p, g, 0.01f);
  ema->update_average(p);
  EXPECT_EQ(plain->checkpoint_state().size(), 2u);  // m, v
  ASSERT_EQ(ema->checkpoint_state().size(), 3u);    // m, v and the average
  EXPECT_EQ(ema->checkpoint_state().back().first, "ema");
  EXPECT_EQ(*ema->checkpoint_state().back().second, p);
}

TEST(Optimizers, BadValuesNameTheKeyAndTheValue) {
  struct Case {
    std::string name;
    json options;
    std::vector<std::string> expect;  // fragments of the message
  };
  const std::vector<Case> cases = {
      {"adam", {{"learning_rate", -0.5}}, {"learning_rate", "-0.5"}},
      {"adam", {{"beta_1", 1.0}}, {"beta_1", "1.0", "[0, 1)"}},
      {"adamw", {{"beta_2", -0.1}}, {"beta_2", "-0.1"}},
      {"adam", {{"epsilon", 0}}, {"epsilon", "0"}},
      {"adamw", {{"weight_decay", -1}}, {"weight_decay", "-1"}},
      {"sgd", {{"momentum", 1.5}}, {"momentum", "1.5"}},
      {"sgd", {{"nesterov", "yes"}}, {"nesterov", "\"yes\""}},
      {"rmsprop", {{"rho", 1.0}}, {"rho", "1.0"}},
      {"rmsprop", {{"epsilon", -1e-7}}, {"epsilon", "-1e-07"}},
      {"rmsprop", {{"centered", 1}}, {"centered", "1"}},
      {"adagrad", {{"initial_accumulator_value", -0.1}}, {"initial_accumulator_value", "-0.1"}},
      {"adagrad", {{"learning_rate", "fast"}}, {"learning_rate", "\"fast\""}},
      {"sgd", json::array({1, 2}), {"options must be a JSON object", "[1,2]"}},
      {"sgd", {{"use_ema", "yes"}}, {"use_ema", "\"yes\""}},
      {"adam", {{"use_ema", true}, {"ema_momentum", 1.5}}, {"ema_momentum", "1.5", "[0, 1]"}},
      {"rmsprop", {{"ema_overwrite_frequency", -2}}, {"ema_overwrite_frequency", "-2"}},
      {"adagrad", {{"ema_overwrite_frequency", 2.5}}, {"ema_overwrite_frequency", "2.5"}},
  };
  for (const auto& c : cases) {
    const std::string msg = error_of([&] { make_optimizer(c.name, c.options); });
    for (const auto& frag : c.expect) EXPECT_NE(msg.find(frag), std::string::npos) << msg << " lacks " << frag;
    EXPECT_NE(msg.find(c.name), std::string::npos) << msg;
  }
}

TEST(Optimizers, UnknownKeysAndNamesAreListed) {
  const std::string key = error_of([] { make_optimizer("adam", {{"lr", 0.1}}); });
  EXPECT_NE(key.find("'lr'"), std::string::npos) << key;
  EXPECT_NE(key.find("learning_rate, beta_1, beta_2, epsilon, weight_decay"), std::string::npos) << key;
  // A key that belongs to another optimizer is still unknown here.
  const std::string rho = error_of([] { make_optimizer("sgd", {{"rho", 0.9}}); });
  EXPECT_NE(rho.find("'rho'"), std::string::npos) << rho;

  const std::string name = error_of([] { make_optimizer("adamax", {}); });
  EXPECT_NE(name.find("'adamax'"), std::string::npos) << name;
  EXPECT_NE(name.find("sgd, adam, adamw, rmsprop, adagrad"), std::string::npos) << name;
}
