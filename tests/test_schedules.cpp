// Learning-rate schedules against sequences written out by hand (each expected value computed here
// from the schedule's definition, not from the code under test), the formula schedule's parsing and
// up-front checks, the config factory, and golden sequences computed by Keras 3
// (tests/golden/make_schedule_golden.py -> tests/data/schedule_golden.json).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/training/schedules.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::error_of;
using nlohmann::json;

namespace {

constexpr double kPi = 3.14159265358979323846;

// The schedule's rate at steps 0..n-1 (epoch = step / steps_per_epoch).
std::vector<double> per_step(const Schedule& s, int n, float base, int64_t steps_per_epoch = 1) {
  std::vector<double> out;
  for (int k = 0; k < n; ++k) out.push_back(s.rate(static_cast<int>(k / steps_per_epoch), k, base));
  return out;
}

void expect_rates(const std::vector<double>& got, const std::vector<double>& want, const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-6 * std::abs(want[i]) + 1e-9) << what << " at " << i;
  }
}

}  // namespace

TEST(Schedules, ConstantIsTheBaseRate) {
  auto s = make_constant_schedule();
  EXPECT_FALSE(s->per_step());
  for (int e : {0, 1, 50}) EXPECT_FLOAT_EQ(s->rate(e, e * 10, 0.01f), 0.01f);
}

TEST(Schedules, StepDecayHalvesEveryTwoEpochs) {
  auto s = make_step_decay({.drop = 0.5, .every = 2});
  EXPECT_FALSE(s->per_step());
  std::vector<double> got;
  for (int e = 0; e < 7; ++e) got.push_back(s->rate(e, 999, 0.1f));  // the step does not matter
  expect_rates(got, {0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125}, "step decay");
}

TEST(Schedules, ExponentialDecayContinuousAndStaircase) {
  auto s = make_exponential_decay({.decay_steps = 10, .decay_rate = 0.5});
  EXPECT_TRUE(s->per_step());
  EXPECT_NEAR(s->rate(0, 0, 0.1f), 0.1, 1e-8);
  EXPECT_NEAR(s->rate(0, 5, 0.1f), 0.1 * std::sqrt(0.5), 1e-8);  // 0.5^(5/10)
  EXPECT_NEAR(s->rate(0, 10, 0.1f), 0.05, 1e-8);
  EXPECT_NEAR(s->rate(0, 20, 0.1f), 0.025, 1e-8);
  auto st = make_exponential_decay({.decay_steps = 10, .decay_rate = 0.5, .staircase = true});
  expect_rates({st->rate(0, 9, 0.1f), st->rate(0, 10, 0.1f), st->rate(0, 19, 0.1f), st->rate(0, 20, 0.1f)},
               {0.1, 0.05, 0.05, 0.025}, "staircase");
}

TEST(Schedules, InverseTimeDecay) {
  auto s = make_inverse_time_decay({.decay_steps = 5, .decay_rate = 0.5});
  // 0.1 / (1 + 0.5 * step / 5)
  expect_rates({s->rate(0, 0, 0.1f), s->rate(0, 5, 0.1f), s->rate(0, 7, 0.1f), s->rate(0, 10, 0.1f)},
               {0.1, 0.1 / 1.5, 0.1 / 1.7, 0.05}, "inverse time");
  auto st = make_inverse_time_decay({.decay_steps = 5, .decay_rate = 0.5, .staircase = true});
  expect_rates({st->rate(0, 4, 0.1f), st->rate(0, 7, 0.1f), st->rate(0, 10, 0.1f)}, {0.1, 0.1 / 1.5, 0.05},
               "inverse time staircase");
}

TEST(Schedules, CosineDecayWithAlphaAndWarmup) {
  auto s = make_cosine_decay({.decay_steps = 10, .alpha = 0.0});
  expect_rates({s->rate(0, 0, 1.0f), s->rate(0, 5, 1.0f), s->rate(0, 10, 1.0f), s->rate(0, 15, 1.0f)},
               {1.0, 0.5, 0.0, 0.0}, "cosine");
  auto a = make_cosine_decay({.decay_steps = 10, .alpha = 0.1});
  // (1 - 0.1) * 0.5 * (1 + cos(pi * step / 10)) + 0.1
  expect_rates({a->rate(0, 0, 1.0f), a->rate(0, 5, 1.0f), a->rate(0, 10, 1.0f), a->rate(0, 30, 1.0f)},
               {1.0, 0.55, 0.1, 0.1}, "cosine alpha");
  // Keras's warmup: from the base (0 here) to the target over 5 steps, then the cosine from the target.
  auto w = make_cosine_decay({.decay_steps = 10, .alpha = 0.0, .warmup_target = 0.1, .warmup_steps = 5});
  expect_rates(per_step(*w, 21, 0.0f),
               {0.0, 0.02, 0.04, 0.06, 0.08, 0.1,
                0.1 * 0.5 * (1 + std::cos(kPi * 1 / 10)), 0.1 * 0.5 * (1 + std::cos(kPi * 2 / 10)),
                0.1 * 0.5 * (1 + std::cos(kPi * 3 / 10)), 0.1 * 0.5 * (1 + std::cos(kPi * 4 / 10)), 0.05,
                0.1 * 0.5 * (1 + std::cos(kPi * 6 / 10)), 0.1 * 0.5 * (1 + std::cos(kPi * 7 / 10)),
                0.1 * 0.5 * (1 + std::cos(kPi * 8 / 10)), 0.1 * 0.5 * (1 + std::cos(kPi * 9 / 10)), 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0},
               "cosine warmup");
}

TEST(Schedules, CosineDecayOverTheWholeRun) {
  auto s = make_cosine_decay({});  // decay_steps 0: the run's length
  EXPECT_TRUE(contains(error_of([&] { s->rate(0, 0, 1.0f); }), "not known"));
  s->bind_run(5, 4);  // 20 steps
  EXPECT_NEAR(s->rate(2, 10, 1.0f), 0.5, 1e-7);
  EXPECT_NEAR(s->rate(4, 20, 1.0f), 0.0, 1e-7);
}

TEST(Schedules, CosineRestartsAtTheRestartBoundaries) {
  // first_decay_steps 4, t_mul 2, m_mul 0.5, alpha 0.1: periods [0,4), [4,12), [12,28), [28,60)
  // starting at heights 1, 0.5, 0.25, 0.125 (before the alpha floor).
  auto s = make_cosine_decay_restarts({.first_decay_steps = 4, .t_mul = 2.0, .m_mul = 0.5, .alpha = 0.1});
  auto at = [&](int step) { return static_cast<double>(s->rate(0, step, 1.0f)); };
  auto expected = [](double height, double frac) { return 0.9 * height * 0.5 * (1 + std::cos(kPi * frac)) + 0.1; };
  EXPECT_NEAR(at(0), 1.0, 1e-7);
  EXPECT_NEAR(at(2), 0.55, 1e-7);                     // halfway down the first period
  EXPECT_NEAR(at(3), expected(1.0, 0.75), 1e-7);      // 0.2318019...
  EXPECT_NEAR(at(4), 0.9 * 0.5 + 0.1, 1e-7);          // restart 1: 0.55
  EXPECT_NEAR(at(8), expected(0.5, 0.5), 1e-7);       // halfway through the 8-step period: 0.325
  EXPECT_NEAR(at(11), expected(0.5, 7.0 / 8), 1e-7);  // last step before restart 2
  EXPECT_NEAR(at(12), 0.9 * 0.25 + 0.1, 1e-7);        // restart 2: 0.325
  EXPECT_NEAR(at(27), expected(0.25, 15.0 / 16), 1e-7);
  EXPECT_NEAR(at(28), 0.9 * 0.125 + 0.1, 1e-7);       // restart 3: 0.2125
  EXPECT_NEAR(at(60), 0.9 * 0.0625 + 0.1, 1e-7);      // restart 4

  // t_mul 1: equal periods of 5 steps, each starting at 0.8 times the last.
  auto e = make_cosine_decay_restarts({.first_decay_steps = 5, .t_mul = 1.0, .m_mul = 0.8, .alpha = 0.0});
  EXPECT_NEAR(e->rate(0, 5, 0.1f), 0.08, 1e-8);
  EXPECT_NEAR(e->rate(0, 10, 0.1f), 0.064, 1e-8);
  EXPECT_NEAR(e->rate(0, 7, 0.1f), 0.1 * 0.8 * 0.5 * (1 + std::cos(kPi * 2 / 5)), 1e-8);
}

TEST(Schedules, LinearWarmupInFrontOfAnySchedule) {
  auto c = make_linear_warmup({.warmup_steps = 4}, make_constant_schedule());
  EXPECT_TRUE(c->per_step());
  expect_rates(per_step(*c, 6, 0.1f), {0.0, 0.025, 0.05, 0.075, 0.1, 0.1}, "warmup to constant");

  auto h = make_linear_warmup({.warmup_steps = 4, .start_factor = 0.5}, make_constant_schedule());
  expect_rates(per_step(*h, 5, 0.1f), {0.05, 0.0625, 0.075, 0.0875, 0.1}, "start_factor 0.5");

  // The wrapped per-step schedule starts fresh after the warmup: step 4 is its step 0.
  auto x = make_linear_warmup({.warmup_steps = 4}, make_exponential_decay({.decay_steps = 10, .decay_rate = 0.5}));
  EXPECT_NEAR(x->rate(0, 2, 0.1f), 0.05, 1e-8);
  EXPECT_NEAR(x->rate(0, 4, 0.1f), 0.1, 1e-8);
  EXPECT_NEAR(x->rate(0, 14, 0.1f), 0.05, 1e-8);
  EXPECT_NEAR(x->rate(0, 24, 0.1f), 0.025, 1e-8);

  // A per-epoch schedule keeps its epochs.
  auto d = make_linear_warmup({.warmup_steps = 2}, make_step_decay({.drop = 0.5, .every = 1}));
  EXPECT_NEAR(d->rate(0, 1, 0.1f), 0.05, 1e-8);  // half of epoch 0's 0.1
  EXPECT_NEAR(d->rate(3, 30, 0.1f), 0.0125, 1e-8);
}

TEST(Schedules, OneCycleStartPeakAndEndAsPyTorch) {
  // max_lr 1, 100 steps: initial 1/25 = 0.04, minimum 0.04 / 1e4 = 4e-6; the rise ends at step
  // 0.3 * 100 - 1 = 29, the fall at step 99.
  auto s = make_one_cycle({.max_lr = 1.0, .total_steps = 100});
  EXPECT_NEAR(s->rate(0, 0, 0.5f), 0.04, 1e-7);
  EXPECT_NEAR(s->rate(0, 29, 0.5f), 1.0, 1e-7);
  EXPECT_NEAR(s->rate(0, 99, 0.5f), 4e-6, 1e-10);
  EXPECT_NEAR(s->rate(0, 500, 0.5f), 4e-6, 1e-10);  // past the end: the final rate
  // Cosine annealing: halfway up (step 14.5 is not a step; step 14 is 14/29 of the way).
  const double p = 14.0 / 29;
  EXPECT_NEAR(s->rate(0, 14, 0.5f), 1.0 + (0.04 - 1.0) / 2 * (std::cos(kPi * p) + 1), 1e-7);
  EXPECT_NEAR(s->rate(0, 64, 0.5f), 4e-6 + (1.0 - 4e-6) / 2 * (std::cos(kPi * 0.5) + 1), 1e-7);  // (64-29)/70

  auto lin = make_one_cycle({.max_lr = 1.0, .total_steps = 100, .anneal_strategy = "linear"});
  EXPECT_NEAR(lin->rate(0, 14, 0.5f), 0.04 + (1.0 - 0.04) * p, 1e-7);
  EXPECT_NEAR(lin->rate(0, 64, 0.5f), 1.0 + (4e-6 - 1.0) * 0.5, 1e-7);

  auto three = make_one_cycle({.max_lr = 1.0, .total_steps = 100, .three_phase = true});
  EXPECT_NEAR(three->rate(0, 29, 0.5f), 1.0, 1e-7);
  EXPECT_NEAR(three->rate(0, 58, 0.5f), 0.04, 1e-7);  // back to the start at 2 * 30 - 2
  EXPECT_NEAR(three->rate(0, 99, 0.5f), 4e-6, 1e-10);

  // max_lr 0 takes the base rate; total_steps 0 takes the run's length.
  auto run = make_one_cycle({});
  EXPECT_TRUE(contains(error_of([&] { run->rate(0, 0, 0.1f); }), "total_steps"));
  run->bind_run(10, 10);
  EXPECT_NEAR(run->rate(0, 0, 0.1f), 0.1 / 25, 1e-9);
  EXPECT_NEAR(run->rate(2, 29, 0.1f), 0.1, 1e-8);
  EXPECT_NEAR(run->rate(9, 99, 0.1f), 0.1 / 25 / 1e4, 1e-12);
}

TEST(Schedules, CallableSchedule) {
  auto s = make_callable_schedule([](int epoch, int64_t step, float lr) { return lr / (1.0f + epoch + 0.5f * step); },
                                  true, "mine");
  EXPECT_NEAR(s->rate(1, 2, 1.0f), 1.0 / 3, 1e-7);
  EXPECT_EQ(s->describe(), "mine");
  auto nan_at_7 = make_callable_schedule([](int, int64_t step, float lr) { return step == 7 ? NAN : lr; });
  const std::string e = error_of([&] { nan_at_7->validate(3, 4); });
  EXPECT_TRUE(contains(e, "mine") || contains(e, "user schedule")) << e;
  EXPECT_TRUE(contains(e, "nan") && contains(e, "step 7") && contains(e, "epoch 1")) << e;
}

TEST(Schedules, FormulaMatchesHandValues) {
  auto s = make_formula_schedule("0.001 * 0.95^epoch");
  EXPECT_FALSE(s->per_step());
  const std::vector<double> want = {0.001, 0.00095, 0.0009025, 0.000857375, 0.00081450625, 0.0007737809375};
  std::vector<double> got;
  for (int e = 0; e < 6; ++e) got.push_back(s->rate(e, e * 100, 0.5f));
  expect_rates(got, want, "0.001 * 0.95^epoch");
  EXPECT_NO_THROW(s->validate(100, 10));

  auto lr = make_formula_schedule("lr * 0.5^floor(epoch / 10)");
  EXPECT_NEAR(lr->rate(9, 0, 0.2f), 0.2, 1e-7);
  EXPECT_NEAR(lr->rate(10, 0, 0.2f), 0.1, 1e-7);
  EXPECT_NEAR(lr->rate(25, 0, 0.2f), 0.05, 1e-7);

  auto cond = make_formula_schedule("epoch < 10 ? lr : lr * exp(-0.1)");
  EXPECT_NEAR(cond->rate(3, 0, 0.01f), 0.01, 1e-9);
  EXPECT_NEAR(cond->rate(10, 0, 0.01f), 0.01 * std::exp(-0.1), 1e-9);

  auto st = make_formula_schedule("lr / (1 + step / 100)");
  EXPECT_TRUE(st->per_step());
  EXPECT_NEAR(st->rate(0, 100, 0.1f), 0.05, 1e-8);
}

TEST(Schedules, FormulaErrorsNameTheFormulaAndTheProblem) {
  std::string e = error_of([] { make_formula_schedule("0.001 * foo"); });
  EXPECT_TRUE(contains(e, "'0.001 * foo'") && contains(e, "unknown name 'foo'")) << e;
  e = error_of([] { make_formula_schedule("0.001 *"); });
  EXPECT_TRUE(contains(e, "'0.001 *'") && contains(e, "does not parse")) << e;
  e = error_of([] { make_formula_schedule("0.1, 0.2"); });
  EXPECT_TRUE(contains(e, "2 values")) << e;
  e = error_of([] { make_formula_schedule(""); });
  EXPECT_TRUE(contains(e, "does not parse")) << e;

  // Values are checked up front by validate(): negative, and infinite (division by zero at epoch 2).
  auto neg = make_formula_schedule("-1");
  e = error_of([&] { neg->validate(5, 10); });
  EXPECT_TRUE(contains(e, "'-1'") && contains(e, "gives -1") && contains(e, "epoch 0")) << e;
}

TEST(Schedules, FormulaDivisionByZeroIsCaughtBeforeTraining) {
  // 1/(epoch-2) is -0.5 at epoch 0: negative comes first.
  auto f = make_formula_schedule("1/(epoch-2)");
  std::string e = error_of([&] { f->validate(5, 10); });
  EXPECT_TRUE(contains(e, "'1/(epoch-2)'") && contains(e, "epoch 0")) << e;
  // abs() keeps it positive, so the infinity at epoch 2 is what fails.
  auto g = make_formula_schedule("0.01 * abs(1/(epoch-2))");
  e = error_of([&] { g->validate(5, 10); });
  EXPECT_TRUE(contains(e, "gives inf") && contains(e, "epoch 2") && contains(e, "step 20")) << e;
  EXPECT_NO_THROW(g->validate(2, 10));
}

TEST(Schedules, OptionsAreCheckedWithTheBadValue) {
  std::string e = error_of([] { make_step_decay({.drop = 1.5}); });
  EXPECT_TRUE(contains(e, "drop=1.5")) << e;
  e = error_of([] { make_step_decay({.every = 0}); });
  EXPECT_TRUE(contains(e, "every=0")) << e;
  e = error_of([] { make_exponential_decay({.decay_steps = 0, .decay_rate = 0.5}); });
  EXPECT_TRUE(contains(e, "decay_steps=0")) << e;
  e = error_of([] { make_cosine_decay_restarts({.first_decay_steps = 3, .t_mul = 0.5}); });
  EXPECT_TRUE(contains(e, "t_mul=0.5")) << e;
  e = error_of([] { make_one_cycle({.pct_start = 1.0}); });
  EXPECT_TRUE(contains(e, "pct_start=1")) << e;
  e = error_of([] { make_one_cycle({.anneal_strategy = "cosine"}); });
  EXPECT_TRUE(contains(e, "\"cosine\"")) << e;
  e = error_of([] { make_linear_warmup({.warmup_steps = 0}, make_constant_schedule()); });
  EXPECT_TRUE(contains(e, "warmup_steps=0")) << e;
}

TEST(Schedules, FactoryReadsConfigs) {
  auto s = make_schedule(json{{"type", "step"}, {"drop", 0.5}, {"every", 10}}, "test");
  EXPECT_NEAR(s->rate(10, 0, 0.1f), 0.05, 1e-8);
  EXPECT_NEAR(s->rate(9, 0, 0.1f), 0.1, 1e-8);
  auto f = make_schedule("0.001 * 0.95^epoch", "test");
  EXPECT_NEAR(f->rate(2, 0, 1.0f), 0.0009025, 1e-10);
  auto g = make_schedule(json{{"type", "formula"}, {"formula", "lr * 2"}}, "test");
  EXPECT_NEAR(g->rate(0, 0, 0.1f), 0.2, 1e-7);
  auto w = make_schedule(json::parse(R"({"type": "linear_warmup", "warmup_steps": 4,
                                          "then": {"type": "cosine", "decay_steps": 10}})"),
                         "test");
  EXPECT_NEAR(w->rate(0, 2, 1.0f), 0.5, 1e-7);
  EXPECT_NEAR(w->rate(0, 9, 1.0f), 0.5, 1e-7);  // cosine step 5 of 10
  auto c = make_schedule(json::parse(R"({"type": "cosine_restarts", "first_decay_steps": 4, "m_mul": 0.5,
                                          "alpha": 0.1})"),
                         "test");
  EXPECT_NEAR(c->rate(0, 12, 1.0f), 0.325, 1e-7);
  auto o = make_schedule(json{{"type", "one_cycle"}, {"max_lr", 1.0}, {"total_steps", 100}}, "test");
  EXPECT_NEAR(o->rate(0, 29, 0.1f), 1.0, 1e-7);
  for (const char* t : {"constant", "exponential", "inverse_time", "cosine"}) {
    json cfg{{"type", t}};
    if (std::string(t) == "exponential" || std::string(t) == "inverse_time") {
      cfg["decay_steps"] = 10;
      cfg["decay_rate"] = 0.5;
    }
    EXPECT_NO_THROW(make_schedule(cfg, "test")) << t;
  }
  EXPECT_EQ(schedule_types().size(), 9u);
}

TEST(Schedules, FactoryErrorsSayWhere) {
  std::string e = error_of([] { make_schedule(json{{"type", "stepp"}}, "experiment 'x': schedule"); });
  EXPECT_TRUE(contains(e, "experiment 'x': schedule") && contains(e, "'stepp'") && contains(e, "cosine_restarts")) << e;
  e = error_of([] { make_schedule(json{{"type", "step"}, {"dorp", 0.5}}, "sched"); });
  EXPECT_TRUE(contains(e, "sched") && contains(e, "'dorp'")) << e;
  e = error_of([] { make_schedule(json{{"type", "step"}, {"drop", 2.0}}, "sched"); });
  EXPECT_TRUE(contains(e, "sched") && contains(e, "drop=2")) << e;
  e = error_of([] { make_schedule(json{{"type", "exponential"}, {"decay_rate", 0.5}}, "sched"); });
  EXPECT_TRUE(contains(e, "decay_steps")) << e;
  e = error_of([] { make_schedule("0.1 * bar", "sched"); });
  EXPECT_TRUE(contains(e, "sched") && contains(e, "'bar'")) << e;
  e = error_of([] { make_schedule(json{{"type", "step"}, {"every", "ten"}}, "sched"); });
  EXPECT_TRUE(contains(e, "every")) << e;
}

// Golden sequences computed by Keras 3 (float32), see tests/golden/make_schedule_golden.py.
TEST(Schedules, MatchKerasGoldenSequences) {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/schedule_golden.json");
  ASSERT_TRUE(in.good()) << "tests/data/schedule_golden.json is missing";
  const json golden = json::parse(in);
  int cases = 0;
  for (const auto& c : golden.at("schedules")) {
    json cfg = c.at("options");
    cfg["type"] = c.at("type");
    auto s = make_schedule(cfg, "golden " + cfg.dump());
    const float base = c.at("base_lr").get<float>();
    const auto& rates = c.at("rates");
    for (size_t k = 0; k < rates.size(); ++k) {
      const double want = rates[k].get<double>();
      EXPECT_NEAR(s->rate(0, static_cast<int64_t>(k), base), want, 2e-6 * std::abs(want) + 1e-8)
          << cfg.dump() << " at step " << k;
    }
    ++cases;
  }
  EXPECT_GE(cases, 10);
}
