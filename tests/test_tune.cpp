// nnlab tune: the search space and its sampling, the rungs of successive halving, a whole search on a
// tiny CSV (table, chart, best.toml), resuming a killed search, and bad tune files refused in one line.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "nnlab/nnlab.hpp"
#include "nnlab/text.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::run_nnlab;
namespace fs = std::filesystem;

namespace {

SearchDimension dim(const std::string& key, SearchDimension::Kind kind, double lo, double hi) {
  SearchDimension d;
  d.key = key;
  d.kind = kind;
  d.lo = lo;
  d.hi = hi;
  return d;
}

TuneSpec space_spec(uint64_t seed, int trials) {
  TuneSpec s;
  s.seed = seed;
  s.trials = trials;
  s.space = {dim("lr", SearchDimension::Kind::LogUniform, 1e-4, 1e-1), dim("units", SearchDimension::Kind::IntUniform, 1, 4),
             dim("decay", SearchDimension::Kind::Uniform, 0.0, 0.01)};
  SearchDimension c;
  c.key = "act";
  c.kind = SearchDimension::Kind::Choice;
  c.choices = nlohmann::json::array({0.1, "relu", {{"a", 1}}, 3});
  s.space.push_back(c);
  return s;
}

// A folder with a tiny two-class CSV (label, then two pixels; class 1 when a + b > 256) and a base
// experiment training on it: a small dense network, Adam, a quarter of the rows as validation.
struct TinyTask {
  fs::path dir;
  explicit TinyTask(const std::string& name) : dir(fs::temp_directory_path() / name) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    std::string csv = "label,a,b\n";
    for (int i = 0; i < 96; ++i) {
      const int a = static_cast<int>(128 + 120 * std::sin(1.7 * i)), b = static_cast<int>(128 + 120 * std::cos(0.9 * i + 0.3));
      csv += std::to_string(a + b > 256 ? 1 : 0) + "," + std::to_string(a) + "," + std::to_string(b) + "\n";
    }
    nnlab::testing::write_file(dir / "d.csv", csv);
    const nlohmann::json base = {
        {"name", "tiny"},
        {"seed", 3},
        {"data", {{"dataset", "file"}, {"train", (dir / "d.csv").string()}}},
        {"model",
         {{"layers",
           {{{"type", "dense"}, {"units", 8}, {"activation", "relu"}}, {{"type", "dense"}, {"units", 2}, {"activation", "softmax"}}}}}},
        {"train", {{"loss", "categorical_crossentropy"}, {"optimizer", "adam"}, {"batch_size", 16}, {"validation_split", 0.25}}},
        {"optimizer", {{"learning_rate", 0.01}}}};
    nnlab::testing::write_file(dir / "base.json", base.dump(2));
  }
  ~TinyTask() { fs::remove_all(dir); }
  // A tune file over the base; extra lines go before [space].
  std::string tune_file(const std::string& name, const std::string& top, const std::string& space) const {
    const fs::path p = dir / name;
    nnlab::testing::write_file(p, "base = \"" + (dir / "base.json").string() + "\"\n" + top + "\n[space]\n" + space);
    return p.string();
  }
  std::string standard_tune(const std::string& name, int seed = 5) const {
    return tune_file(name, "trials = 5\nmin_epochs = 1\nmax_epochs = 4\nreduction = 2\nseed = " + std::to_string(seed),
                     "\"optimizer.learning_rate\" = { log_uniform = [1e-3, 1e-1] }\n"
                     "\"model.layers.0.units\" = { int_uniform = [2, 12] }\n"
                     "\"train.batch_size\" = { choice = [8, 16, 32] }\n");
  }
};

nlohmann::json at_path(const nlohmann::json& config, std::string key) {
  std::replace(key.begin(), key.end(), '.', '/');
  return config.at(nlohmann::json::json_pointer("/" + key));
}

}  // namespace

TEST(Tune, SamplingIsSeededAndStaysInItsRanges) {
  const auto a = sample_trials(space_spec(7, 200)), b = sample_trials(space_spec(7, 200));
  EXPECT_EQ(a, b);
  EXPECT_NE(a, sample_trials(space_spec(8, 200)));
  const auto first = sample_trials(space_spec(7, 5));  // trial i does not depend on the number of trials
  EXPECT_EQ(first, std::vector<nlohmann::json>(a.begin(), a.begin() + 5));
  int decades[3] = {0, 0, 0};
  bool low = false, high = false;
  std::vector<nlohmann::json> seen;
  const std::vector<nlohmann::json> choices = {0.1, "relu", {{"a", 1}}, 3};
  for (const auto& t : a) {
    const double lr = t["lr"].get<double>();
    ASSERT_TRUE(lr >= 1e-4 && lr <= 1e-1) << lr;
    ++decades[std::min(2, static_cast<int>(std::floor(std::log10(lr) + 4)))];
    ASSERT_TRUE(t["units"].is_number_integer()) << t;
    const int64_t u = t["units"].get<int64_t>();
    ASSERT_TRUE(u >= 1 && u <= 4) << u;
    low = low || u == 1;
    high = high || u == 4;
    const double d = t["decay"].get<double>();
    ASSERT_TRUE(d >= 0 && d <= 0.01) << d;
    ASSERT_NE(std::find(choices.begin(), choices.end(), t["act"]), choices.end()) << t["act"];
    if (std::find(seen.begin(), seen.end(), t["act"]) == seen.end()) seen.push_back(t["act"]);
  }
  for (int k = 0; k < 3; ++k) EXPECT_GE(decades[k], 30) << "decade 1e-" << 4 - k;  // log scale: ~67 each
  EXPECT_TRUE(low && high);
  EXPECT_EQ(seen.size(), choices.size());  // every choice comes up, exactly as written
}

// What the tuner relies on: settings paths that index lists, and configs written back as TOML exactly.
TEST(Tune, OverridesIndexListsAndConfigsRoundTripThroughToml) {
  nlohmann::json c = {{"model", {{"layers", {{{"units", 8}}, {{"units", 1}}}}}}};
  apply_override(c, "model.layers.1.units=5");
  EXPECT_EQ(c["model"]["layers"][1]["units"], 5);
  EXPECT_EQ(c["model"]["layers"][0]["units"], 8);
  EXPECT_TRUE(contains(nnlab::testing::error_of([&] { apply_override(c, "model.layers.2.units=5"); }), "list of 2 entries"));
  EXPECT_TRUE(contains(nnlab::testing::error_of([&] { apply_override(c, "model.layers.first.units=5"); }), "'first'"));
  const nlohmann::json config = {
      {"name", "q\"uote's"}, {"seed", 42}, {"early_stopping", nullptr},
      {"optimizer", {{"learning_rate", 0.1}, {"epsilon", 1e-7}, {"beta_1", 0.9000000000000001}}},
      {"train", {{"shuffle", false}, {"epochs", 3}}},
      {"model", {{"input", {28, 28}}, {"layers", {{{"type", "dense"}, {"units", 8}}, {{"type", "dropout"}, {"rate", 0.25}}}}}}};
  const fs::path file = fs::temp_directory_path() / "nnlab_tune_roundtrip.toml";
  nnlab::testing::write_file(file, config_toml(config));
  nlohmann::json expected = config;
  expected.erase("early_stopping");  // TOML has no null: absent, as nnlab reads it
  EXPECT_EQ(parse_config_file(file.string()), expected) << config_toml(config);
  fs::remove(file);
}

TEST(Tune, RungBudgetsAndPromotion) {
  EXPECT_EQ(rung_budgets(1, 9, 3), (std::vector<int>{1, 3, 9}));
  EXPECT_EQ(rung_budgets(1, 10, 3), (std::vector<int>{1, 3, 9, 10}));
  EXPECT_EQ(rung_budgets(1, 8, 2), (std::vector<int>{1, 2, 4, 8}));
  EXPECT_EQ(rung_budgets(2, 2, 3), (std::vector<int>{2}));
  const std::vector<std::pair<size_t, double>> s = {{0, 0.5}, {1, 0.9}, {2, 0.7}, {3, 0.1}, {4, 0.8}, {5, 0.6}};
  EXPECT_EQ(promote(s, 3, false), (std::vector<size_t>{1, 4}));  // floor(6 / 3) = 2 highest
  EXPECT_EQ(promote(s, 3, true), (std::vector<size_t>{3, 0}));   // val_loss: the lowest
  EXPECT_EQ(promote(s, 2, false), (std::vector<size_t>{1, 4, 2}));
  EXPECT_EQ(promote({{0, 0.5}, {1, 0.9}}, 3, false), (std::vector<size_t>{1}));  // at least one
  EXPECT_EQ(promote({{4, 0.5}, {2, 0.5}, {7, 0.5}}, 2, false), (std::vector<size_t>{2}));  // ties: the earlier trial
  TuneSpec loss;
  loss.metric = "val_loss";
  EXPECT_TRUE(loss.minimise());
  EXPECT_FALSE(TuneSpec{}.minimise());
}

TEST(Tune, ASmallSearchRunsToTheEndAndWritesTheBestAsAnExperiment) {
  TinyTask task("nnlab_tune_whole");
  const TuneSpec spec = load_tune(task.standard_tune("t.toml"));
  EXPECT_EQ(spec.base["train"]["validate_on_test"], false);  // scored on the validation split only
  EXPECT_EQ(spec.base["train"]["validation_split"], 0.25);
  TuneOptions o;
  o.verbose = 0;
  std::vector<std::pair<int, size_t>> trained;
  o.on_trained = [&](const TuneTrial& t, size_t rung) { trained.emplace_back(t.id, rung); };
  const TuneResult r = run_tune(spec, (task.dir / "out").string(), o);
  // 5 trials at 1 epoch, floor(5/2) = 2 of them at 2 epochs, 1 at 4.
  EXPECT_EQ(r.budgets, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(r.trained, 8);
  ASSERT_EQ(trained.size(), 8u);
  int at[3] = {0, 0, 0};
  for (const auto& [id, rung] : trained) ++at[rung];
  EXPECT_EQ(at[0], 5);
  EXPECT_EQ(at[1], 2);
  EXPECT_EQ(at[2], 1);
  const TuneTrial& best = r.trials[r.best];
  EXPECT_EQ(best.scores.size(), 3u);
  EXPECT_EQ(best.epochs, 4);
  EXPECT_EQ(History::from_csv(read_file(best.run_dir + "/history.csv"), best.run_dir).logs.size(), 4u);  // continued, not retrained
  // The two promoted at rung 0 were the best two there.
  std::vector<std::pair<size_t, double>> rung0;
  for (size_t i = 0; i < r.trials.size(); ++i) rung0.emplace_back(i, r.trials[i].scores.at(0));
  for (size_t i : promote(rung0, 2, false)) EXPECT_GE(r.trials[i].scores.size(), 2u) << "trial " << i + 1;
  for (const char* f : {"table.md", "table.csv", "scores.svg", "best.json", "best.toml", "tune.json"})
    EXPECT_TRUE(fs::exists(task.dir / "out" / f)) << f;
  const std::string md = read_file((task.dir / "out" / "table.md").string());
  EXPECT_TRUE(contains(md, "| 1 | " + std::to_string(best.id) + " |")) << md;
  EXPECT_TRUE(contains(md, "val_accuracy @4")) << md;
  EXPECT_TRUE(contains(read_file((task.dir / "out" / "scores.svg").string()), "trial " + std::to_string(best.id)));
  // best.toml is an experiment whose settings are the winner's, exactly.
  const Experiment e = Experiment::load((task.dir / "out" / "best.toml").string());
  for (const auto& [key, value] : best.values.items()) EXPECT_EQ(at_path(e.config, key), value) << key;
  EXPECT_EQ(e.train.epochs, 4);
  EXPECT_FALSE(e.train.validate_on_test);
  EXPECT_EQ(e.config, r.best_config);
}

TEST(Tune, AKilledSearchContinuesToTheSameTableWithoutRetraining) {
  TinyTask task("nnlab_tune_resume");
  const TuneSpec spec = load_tune(task.standard_tune("t.toml"));
  TuneOptions quiet;
  quiet.verbose = 0;
  const TuneResult whole = run_tune(spec, (task.dir / "whole").string(), quiet);
  // Killed after the third trial-rung, then run again.
  TuneOptions killed = quiet;
  int n = 0;
  killed.on_trained = [&](const TuneTrial&, size_t) {
    if (++n == 6) throw std::runtime_error("killed");  // after rung 0 and one trial of rung 1
  };
  EXPECT_THROW(run_tune(spec, (task.dir / "part").string(), killed), std::runtime_error);
  EXPECT_FALSE(fs::exists(task.dir / "part" / "table.md"));
  const TuneResult again = run_tune(spec, (task.dir / "part").string(), quiet);
  EXPECT_EQ(again.trained, 8 - 6);  // the finished trial-rungs were not trained again
  EXPECT_EQ(read_file((task.dir / "part" / "table.md").string()), read_file((task.dir / "whole" / "table.md").string()));
  for (size_t i = 0; i < whole.trials.size(); ++i) EXPECT_EQ(again.trials[i].scores, whole.trials[i].scores) << i;
  EXPECT_EQ(run_tune(spec, (task.dir / "part").string(), quiet).trained, 0);  // finished: nothing to train
  // Another search into the same folder is refused.
  const TuneSpec other = load_tune(task.standard_tune("u.toml", 6));
  EXPECT_TRUE(contains(nnlab::testing::error_of([&] { run_tune(other, (task.dir / "part").string(), quiet); }),
                       "belongs to another search"));
}

TEST(Tune, SideBySideTrialsScoreAsOneAfterAnother) {
  TinyTask task("nnlab_tune_parallel");
  TuneSpec spec = load_tune(task.standard_tune("t.toml"));
  TuneOptions quiet;
  quiet.verbose = 0;
  const TuneResult one = run_tune(spec, (task.dir / "one").string(), quiet);
  spec.parallel = 2;
  const TuneResult two = run_tune(spec, (task.dir / "two").string(), quiet);
  EXPECT_EQ(two.best, one.best);
  for (size_t i = 0; i < one.trials.size(); ++i) {
    ASSERT_EQ(two.trials[i].scores.size(), one.trials[i].scores.size()) << i;
    for (size_t r = 0; r < one.trials[i].scores.size(); ++r)
      EXPECT_NEAR(two.trials[i].scores[r], one.trials[i].scores[r], 1e-6) << i << " " << r;
  }
}

TEST(Tune, ADivergingTrialIsDroppedAndTheSearchGoesOn) {
  TinyTask task("nnlab_tune_diverge");
  const std::string file = task.tune_file("t.toml", "trials = 6\nmax_epochs = 2\nreduction = 2\nset = [\"train.optimizer=sgd\"]",
                                          "\"optimizer.learning_rate\" = { choice = [0.05, 1e30] }\n");
  TuneOptions quiet;
  quiet.verbose = 0;
  const TuneResult r = run_tune(load_tune(file), (task.dir / "out").string(), quiet);
  int failed = 0;
  for (const auto& t : r.trials) {
    const bool diverges = t.values["optimizer.learning_rate"] == 1e30;
    ASSERT_EQ(t.scores.size() >= 1, true);
    EXPECT_EQ(std::isnan(t.scores[0]), diverges) << t.values;
    EXPECT_TRUE(!diverges || t.scores.size() == 1) << "a diverged trial goes no further";
    failed += diverges;
  }
  EXPECT_GT(failed, 0);
  EXPECT_LT(failed, 6);
  EXPECT_EQ(r.trials[r.best].values["optimizer.learning_rate"], 0.05);
  EXPECT_TRUE(contains(read_file((task.dir / "out" / "table.md").string()), "failed"));
}

TEST(Tune, TheCommandRunsASearchAndItsBestTrains) {
  TinyTask task("nnlab_tune_cli");
  const std::string file = task.standard_tune("t.toml");
  const std::string out = (task.dir / "out").string();
  auto r = run_nnlab("tune " + file + " --out " + out + " --parallel 2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "validation split")) << r.output;
  EXPECT_TRUE(contains(r.output, "never the test data")) << r.output;
  EXPECT_TRUE(contains(r.output, "best: trial")) << r.output;
  r = run_nnlab("tune " + file + " --out " + out + " -q");  // finished: a rerun only reports
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "0 trial-rung(s) trained now")) << r.output;
  r = run_nnlab("train " + out + "/best.toml --quiet --out " + (task.dir / "best-run").string());
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST(Tune, BadTuneFilesAreRefusedInOneLineNamingFileAndKey) {
  TinyTask task("nnlab_tune_bad");
  const std::string lr = "\"optimizer.learning_rate\" = { log_uniform = [1e-3, 1e-1] }\n";
  struct Case {
    std::string top, space, key, words;
  };
  const std::vector<Case> cases = {
      {"", "\"optimizer.learning_rate\" = { uniform = [0.1, 0.1] }\n", "optimizer.learning_rate", "empty range"},
      {"", "\"optimizer.learning_rate\" = { uniform = [0.2, 0.1] }\n", "optimizer.learning_rate", "empty range"},
      {"", "\"optimizer.learning_rate\" = { log_uniform = [0.0, 0.1] }\n", "optimizer.learning_rate", "lo > 0"},
      {"", "\"optimizer.learning_rate\" = { log_uniform = [-1, 0.1] }\n", "optimizer.learning_rate", "lo > 0"},
      {"", "\"optimizer.learning_rate\" = { normal = [0, 1] }\n", "optimizer.learning_rate", "unknown kind 'normal'"},
      {"", "\"train.batch_size\" = { choice = [] }\n", "train.batch_size", "non-empty list"},
      {"trails = 4", lr, "trails", "unknown key"},
      {"min_epochs = 5\nmax_epochs = 2", lr, "min_epochs", "more than max_epochs"},
      {"reduction = 1", lr, "reduction", "at least 2"},
      {"trials = 0", lr, "trials", "at least 1"},
      {"metric = \"accuracy\"", lr, "metric", "validation"},
      {"", "\"optimizer.learnin_rate\" = { uniform = [0.1, 0.2] }\n", "optimizer.learnin_rate", "learnin_rate"},
      {"", "\"model.layers.5.units\" = { int_uniform = [2, 8] }\n", "model.layers.5.units", "list of 2 entries"},
      {"", "\"model.layers.0.units\" = { int_uniform = [0, 8] }\n", "model.layers.0.units", "units"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::string file = task.tune_file("bad" + std::to_string(i) + ".toml", c.top, c.space);
    SCOPED_TRACE(c.top + " " + c.space);
    const auto r = run_nnlab("tune " + file + " --out " + (task.dir / "out").string());
    EXPECT_EQ(r.exit_code, 1) << r.output;
    const auto at = r.output.find("nnlab: error: ");
    ASSERT_NE(at, std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("nnlab: error: ", at + 1), std::string::npos) << r.output;
    const std::string line = r.output.substr(at, r.output.find('\n', at) - at);
    EXPECT_TRUE(contains(line, file)) << line;
    EXPECT_TRUE(contains(line, c.key)) << line;
    EXPECT_TRUE(contains(line, c.words)) << line;
    EXPECT_FALSE(fs::exists(task.dir / "out")) << "nothing trains before the file is checked";
  }
}
