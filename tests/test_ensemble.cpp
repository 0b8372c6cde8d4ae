// Ensembles: the three combination rules on crafted member outputs (exact results, vote ties), the
// stacking combiner, an end-to-end ensemble on a small synthetic Fashion-MNIST-format dataset whose
// artefact reloads with identical predictions, an ensemble evaluated in memory agreeing with its
// saved artefact, members trained side by side matching sequential training, clear errors for
// missing or mismatched members and corrupt files, and the command line.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

#include "cli_runner.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::error_of;
using nnlab::testing::run_nnlab;
namespace fs = std::filesystem;


namespace {

Tensor rows(std::vector<std::vector<float>> r) {
  const auto n = static_cast<int64_t>(r.size()), c = static_cast<int64_t>(r[0].size());
  std::vector<float> v;
  for (const auto& row : r) v.insert(v.end(), row.begin(), row.end());
  return Tensor({n, c}, v);
}

// A small 10-class problem in Fashion-MNIST's IDX layout: 4x4 images around a random centre per
// class, noisy enough that members trained from different seeds disagree.
void write_idx(const fs::path& images, const fs::path& labels, int n, uint32_t seed) {
  std::mt19937 gen(7);  // the class centres: the same for train and test
  std::uniform_real_distribution<float> centre(40, 215);
  std::vector<std::vector<float>> centres(10, std::vector<float>(16));
  for (auto& c : centres)
    for (auto& v : c) v = centre(gen);
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 70);
  auto be32 = [](std::ofstream& f, uint32_t v) {
    const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
    f.write(b, 4);
  };
  std::ofstream im(images, std::ios::binary), lb(labels, std::ios::binary);
  be32(im, 0x803), be32(im, uint32_t(n)), be32(im, 4), be32(im, 4);
  be32(lb, 0x801), be32(lb, uint32_t(n));
  for (int i = 0; i < n; ++i) {
    const int label = static_cast<int>(rng() % 10);
    lb.put(char(label));
    for (int p = 0; p < 16; ++p) im.put(char(static_cast<uint8_t>(std::clamp(centres[label][p] + noise(rng), 0.0f, 255.0f))));
  }
}

// The data folder (tmp/nnlab_ens_data-<pid>/fashion-mnist/...) and a small MLP experiment on it. One
// folder per process: ctest runs these tests as parallel processes, which must not rewrite each
// other's files while they read them.
// Removed when the process ends, so that test runs do not pile folders up in the temporary directory.
fs::path data_dir() {
  static const struct Folder {
    fs::path d = fs::temp_directory_path() / ("nnlab_ens_data-" + std::to_string(getpid()));
    Folder() {
      fs::create_directories(d / "fashion-mnist");
      write_idx(d / "fashion-mnist/train-images-idx3-ubyte", d / "fashion-mnist/train-labels-idx1-ubyte", 1000, 1);
      write_idx(d / "fashion-mnist/t10k-images-idx3-ubyte", d / "fashion-mnist/t10k-labels-idx1-ubyte", 300, 2);
    }
    ~Folder() {
      std::error_code ec;
      fs::remove_all(d, ec);
    }
  } folder;
  return folder.d;
}

nlohmann::json small_experiment(int hidden = 24, int outputs = 10) {
  return {{"name", "tiny"},
          {"seed", 5},
          {"data", {{"dataset", "fashion-mnist"}, {"dir", data_dir().string()}}},
          {"model",
           {{"layers",
             {{{"type", "dense"}, {"units", hidden}, {"activation", "relu"}},
              {{"type", "dense"}, {"units", outputs}, {"activation", "softmax"}}}}}},
          {"train", {{"epochs", 4}, {"batch_size", 32}}},
          {"optimizer", {{"learning_rate", 0.01}}}};
}

std::string write_experiment(const std::string& file, const nlohmann::json& config) {
  const fs::path p = fs::temp_directory_path() / file;
  write_file_atomic(p.string(), config.dump(2));
  return p.string();
}

EnsembleSpec small_spec(int members) {
  EnsembleSpec s = load_ensemble_spec(write_experiment("nnlab_ens_tiny.json", small_experiment()), {});
  s.members = members;
  s.holdout = 0.2;
  return s;
}

}  // namespace

// ---- the combination rules ------------------------------------------------------------------------

TEST(EnsembleRules, VoteCountsTopClassesAndBreaksTiesBySummedProbability) {
  const std::vector<Tensor> three{rows({{0.6f, 0.3f, 0.1f}, {0.4f, 0.6f, 0.0f}, {0.7f, 0.2f, 0.1f}}),
                                  rows({{0.2f, 0.7f, 0.1f}, {0.45f, 0.55f, 0.0f}, {0.1f, 0.8f, 0.1f}}),
                                  rows({{0.5f, 0.4f, 0.1f}, {1.0f, 0.0f, 0.0f}, {0.2f, 0.1f, 0.7f}})};
  const auto v = combine_vote(three);
  // Row 0: 2 votes for class 0. Row 1: 2 votes for class 1, although the average favours class 0.
  // Row 2: one vote each; summed probability 1.0, 1.1, 0.9 -> class 1.
  EXPECT_EQ(v.classes, (std::vector<int64_t>{0, 1, 1}));
  EXPECT_FLOAT_EQ(v.outputs.at(0, 0), 2.0f / 3);
  EXPECT_FLOAT_EQ(v.outputs.at(0, 1), 1.0f / 3);
  EXPECT_FLOAT_EQ(v.outputs.at(2, 2), 1.0f / 3);
  // The average disagrees on rows 0 and 1: (0.43, 0.47, 0.1) and (0.62, 0.38, 0).
  EXPECT_EQ(combine_average(three).classes, (std::vector<int64_t>{1, 0, 1}));

  // Two members, one vote each: the class with more summed probability wins, not the lower index.
  const std::vector<Tensor> two{rows({{0.51f, 0.49f}, {0.9f, 0.1f}}), rows({{0.0f, 1.0f}, {0.45f, 0.55f}})};
  EXPECT_EQ(combine_vote(two).classes, (std::vector<int64_t>{1, 0}));
  // Equal votes and equal summed probability: the lower class.
  EXPECT_EQ(combine_vote({rows({{0.75f, 0.25f}}), rows({{0.25f, 0.75f}})}).classes, std::vector<int64_t>{0});
}

TEST(EnsembleRules, AverageIsTheMeanOfProbabilities) {
  // Binary fractions, so the sums are exact.
  const auto a = combine_average({rows({{0.25f, 0.75f}, {0.5f, 0.5f}}), rows({{0.5f, 0.5f}, {0.25f, 0.75f}}),
                                  rows({{0.75f, 0.25f}, {0.125f, 0.875f}})});
  EXPECT_EQ(a.outputs.at(0, 0), 0.5f);
  EXPECT_EQ(a.outputs.at(0, 1), 0.5f);
  EXPECT_FLOAT_EQ(a.outputs.at(1, 1), 2.125f / 3);
  EXPECT_EQ(a.classes, (std::vector<int64_t>{0, 1}));  // an exact tie: the first class, as argmax
}

TEST(EnsembleRules, OneSigmoidOutputVotesBetweenTwoClasses) {
  const std::vector<Tensor> m{rows({{0.875f}, {0.875f}}), rows({{0.25f}, {0.25f}}), rows({{0.375f}, {0.75f}})};
  const auto v = combine_vote(m);
  EXPECT_EQ(v.classes, (std::vector<int64_t>{0, 1}));
  EXPECT_FLOAT_EQ(v.outputs.at(0, 0), 1.0f / 3);  // the share voting for class 1
  // A tie between two members: P(1) summed 1.2 against P(0) 0.8.
  EXPECT_EQ(combine_vote({rows({{0.9f}}), rows({{0.3f}})}).classes, std::vector<int64_t>{1});
  EXPECT_EQ(combine_average(m).classes, (std::vector<int64_t>{0, 1}));  // mean 0.5 is not above 0.5
}

TEST(EnsembleRules, MembersWithDifferentOutputsAreRefused) {
  const std::string e = error_of([] { combine_average({rows({{0.5f, 0.5f}}), rows({{0.2f, 0.3f, 0.5f}})}); });
  EXPECT_CONTAINS(e, "member 2");
  EXPECT_CONTAINS(e, "(1, 3)");
}

TEST(EnsembleRules, StackingFeedsTheConcatenatedOutputsToTheCombiner) {
  const std::vector<Tensor> m{rows({{0.9f, 0.1f}, {0.3f, 0.7f}}), rows({{0.2f, 0.8f}, {0.6f, 0.4f}})};
  const Tensor f = stack_features(m);
  EXPECT_EQ(f.shape(), (Shape{2, 4}));
  EXPECT_EQ(std::vector<float>(f.span().begin(), f.span().end()),
            (std::vector<float>{0.9f, 0.1f, 0.2f, 0.8f, 0.3f, 0.7f, 0.6f, 0.4f}));
  // A combiner that listens only to member 2: logits = 10 * member 2's probabilities.
  Model c;
  c.add<Dense>(2, "softmax");
  c.build({4});
  for (auto& t : c.named_tensors()) std::fill(t.value.begin(), t.value.end(), 0.0f);
  auto kernel = c.named_tensors()[0];  // (4, 2)
  kernel.value[2 * 2 + 0] = 10;
  kernel.value[3 * 2 + 1] = 10;
  const auto s = combine_stacking(c, m);
  EXPECT_EQ(s.classes, (std::vector<int64_t>{1, 0}));
  EXPECT_NEAR(s.outputs.at(0, 1), 1 / (1 + std::exp(-6.0)), 1e-5);  // softmax(2, 8)
}

TEST(EnsembleRules, TheTrainedCombinerLearnsWhichMemberToTrust) {
  // Member 1 is right but unsure, member 2 confidently wrong: the average follows member 2, the
  // combiner learns to follow member 1.
  const int64_t n = 400, k = 4;
  Tensor m1({n, k}), m2({n, k}), labels({n, 1});
  for (int64_t i = 0; i < n; ++i) {
    const int64_t y = i % k;
    labels[i] = static_cast<float>(y);
    for (int64_t c = 0; c < k; ++c) {
      m1.at(i, c) = c == y ? 0.4f : 0.2f;
      m2.at(i, c) = c == (y + 1) % k ? 0.9f : 0.1f / 3;
    }
  }
  EXPECT_EQ(accuracy_of(combine_average({m1, m2}).classes, labels), 0.0);
  Model c = train_combiner({m1, m2}, labels);
  EXPECT_EQ(c.input_shape(), Shape{8});
  EXPECT_EQ(accuracy_of(combine_stacking(c, {m1, m2}).classes, labels), 1.0);
}

// ---- end to end -----------------------------------------------------------------------------------

TEST(Ensemble, TrainsMembersCombinesAndReloadsWithIdenticalPredictions) {
  kernels::set_num_threads(1);
  const fs::path dir = fs::temp_directory_path() / "nnlab_ens_e2e";
  fs::remove_all(dir);
  const EnsembleResult r = run_ensemble(small_spec(3), dir.string(), 0);
  for (const char* f : {"ensemble.json", "combiner.safetensors", "table.md", "result.json", "compare-val_accuracy.svg",
                        "member-1/model.safetensors", "member-3/history.csv", "member-2/loss.svg"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  // The members trained on the first 800 samples; the combiner on the last 200.
  EXPECT_EQ(r.holdout_samples, 200);
  const auto cfg = nlohmann::json::parse(read_file((dir / "member-2/config.json").string()));
  EXPECT_EQ(cfg["data"]["limit"], 800);
  EXPECT_EQ(cfg["seed"], 6);  // seed 5 + 1
  ASSERT_EQ(r.report.members.size(), 3u);
  ASSERT_EQ(r.report.combinations.size(), 3u);
  EXPECT_EQ(r.report.samples, 300);
  const std::string table = read_file((dir / "table.md").string());
  for (const char* s : {"member-1", "seed 7", "**vote**", "**average**", "**stacking**", "(best member)"})
    EXPECT_CONTAINS(table, s);
  const std::string chart = read_file((dir / "compare-val_accuracy.svg").string());
  for (const char* s : {"member-3", "vote ", "average ", "stacking "}) EXPECT_CONTAINS(chart, s);

  // The average, computed here from the member files alone.
  auto [train, test] = load_builtin("fashion-mnist", data_dir().string());
  Tensor mean(Shape{test.size(), int64_t{10}}, 0.0f);
  for (int i = 1; i <= 3; ++i) {
    Model m = load_model((dir / ("member-" + std::to_string(i)) / "model.safetensors").string());
    const Tensor p = m.predict(test.x());
    for (int64_t j = 0; j < p.size(); ++j) mean[j] += p[j];
  }
  int64_t right = 0;
  for (int64_t j = 0; j < test.size(); ++j) right += argmax_row(mean, j) == std::llround(test.y()[j]);
  EXPECT_DOUBLE_EQ(r.report.combinations[1].accuracy, static_cast<double>(right) / static_cast<double>(test.size()));
  EXPECT_GT(r.report.combinations[1].accuracy, 0.5);  // the members learned something

  // The artefact reloads with the same predictions and the same figures.
  Ensemble en = load_ensemble(dir.string());
  EXPECT_EQ(en.size(), 3u);
  EXPECT_EQ(en.input_shape(), Shape{16});
  EXPECT_EQ(en.class_names().at(0), "T-shirt/top");
  ASSERT_TRUE(en.has_combiner());
  const auto avg = en.predict(test.x(), Combination::Average);
  for (int64_t j = 0; j < mean.size(); ++j) ASSERT_NEAR(avg.outputs[j], mean[j] / 3, 1e-6);
  Ensemble again = load_ensemble((dir / "ensemble.json").string());
  for (Combination c : {Combination::Vote, Combination::Average, Combination::Stacking}) {
    const auto a = en.predict(test.x(), c);
    const auto b = again.predict(test.x(), c);
    EXPECT_EQ(a.classes, b.classes) << combination_name(c);
    EXPECT_EQ(std::vector<float>(a.outputs.span().begin(), a.outputs.span().end()),
              std::vector<float>(b.outputs.span().begin(), b.outputs.span().end()));
  }
  const EnsembleReport rep = evaluate_ensemble(again, test);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(rep.members[i].accuracy, r.report.members[i].accuracy);
    EXPECT_EQ(rep.combinations[i].accuracy, r.report.combinations[i].accuracy);
  }

  // A rerun reuses the finished members.
  const auto before = fs::last_write_time(dir / "member-1/model.safetensors");
  run_ensemble(small_spec(3), dir.string(), 0);
  EXPECT_EQ(fs::last_write_time(dir / "member-1/model.safetensors"), before);
  // ...but never a member trained with another configuration.
  EnsembleSpec changed = small_spec(3);
  changed.base["train"]["epochs"] = 2;
  EXPECT_CONTAINS(error_of([&] { run_ensemble(changed, dir.string(), 0); }), "another configuration");

  // A missing member: a clear error naming it.
  fs::remove(dir / "member-2/model.safetensors");
  const std::string e = error_of([&] { load_ensemble(dir.string()); });
  EXPECT_CONTAINS(e, "member-2");
  EXPECT_CONTAINS(e, "missing");
  fs::remove_all(dir);
}

TEST(Ensemble, MembersTrainedSideBySideMatchSequentialTraining) {
  kernels::set_num_threads(1);
  const fs::path seq = fs::temp_directory_path() / "nnlab_ens_seq", par = fs::temp_directory_path() / "nnlab_ens_par";
  fs::remove_all(seq);
  fs::remove_all(par);
  EnsembleSpec s = small_spec(2);
  s.holdout = 0.1;
  s.parallel = 1;
  run_ensemble(s, seq.string(), 0);
  s.parallel = 2;
  const auto r = run_ensemble(s, par.string(), 0);
  EXPECT_EQ(r.parallel, 2);
  for (const char* m : {"member-1", "member-2"}) {
    Model a = load_model((seq / m / "model.safetensors").string()), b = load_model((par / m / "model.safetensors").string());
    EXPECT_EQ(std::vector<float>(a.params().begin(), a.params().end()), std::vector<float>(b.params().begin(), b.params().end()))
        << m;
  }
  fs::remove_all(seq);
  fs::remove_all(par);
}

// run_ensemble combines and evaluates the models its members trained, in memory (side by side here,
// on their own threads): what it reports is what the saved artefact gives, on a rerun too (the
// members then reused from their run folders), and a RunResult's model is the one its run folder saved.
TEST(Ensemble, EvaluatesInMemoryTheModelsItSaves) {
  kernels::set_num_threads(1);
  const fs::path dir = fs::temp_directory_path() / ("nnlab_ens_memory-" + std::to_string(getpid()));
  fs::remove_all(dir);
  EnsembleSpec s = small_spec(3);
  s.parallel = 2;
  const EnsembleResult r = run_ensemble(s, (dir / "ensemble").string(), 0);
  auto [train, test] = load_builtin("fashion-mnist", data_dir().string());
  Ensemble saved = load_ensemble((dir / "ensemble").string());
  const EnsembleReport rep = evaluate_ensemble(saved, test);
  const EnsembleResult again = run_ensemble(s, (dir / "ensemble").string(), 0);
  ASSERT_EQ(r.report.members.size(), 3u);
  ASSERT_EQ(r.report.combinations.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.report.members[i].accuracy, rep.members[i].accuracy) << r.report.members[i].name;
    EXPECT_EQ(again.report.members[i].accuracy, rep.members[i].accuracy) << r.report.members[i].name;
    EXPECT_EQ(r.report.combinations[i].accuracy, rep.combinations[i].accuracy) << r.report.combinations[i].name;
    EXPECT_EQ(again.report.combinations[i].accuracy, rep.combinations[i].accuracy) << r.report.combinations[i].name;
  }

  // Put together from the saved description and models, an ensemble predicts as the loaded one.
  const auto description = nlohmann::json::parse(read_file((dir / "ensemble/ensemble.json").string()));
  std::vector<std::shared_ptr<Model>> models;
  for (size_t i = 0; i < saved.size(); ++i)
    models.push_back(std::make_shared<Model>(load_model((dir / "ensemble" / saved.member_name(i) / "model.safetensors").string())));
  EXPECT_CONTAINS(error_of([&] { Ensemble::from_models(description, "e.json", {models[0]}, std::nullopt); }),
                  "1 models for the 3 members");
  Ensemble built = Ensemble::from_models(description, "e.json", models,
                                         load_model((dir / "ensemble/combiner.safetensors").string()));
  for (Combination c : {Combination::Vote, Combination::Average, Combination::Stacking}) {
    const auto a = built.predict(test.x(), c), b = saved.predict(test.x(), c);
    EXPECT_EQ(std::vector<float>(a.outputs.span().begin(), a.outputs.span().end()),
              std::vector<float>(b.outputs.span().begin(), b.outputs.span().end()))
        << combination_name(c);
  }

  // run_experiment's result holds the model it saved: the same weights, the same predictions.
  RunOptions ro;
  ro.out_dir = (dir / "run").string();
  ro.verbose = 0;
  const RunResult run = run_experiment(Experiment::from_json(small_experiment(), "tiny.json"), ro);
  ASSERT_NE(run.model, nullptr);
  Model file = load_model((dir / "run/model.safetensors").string());
  EXPECT_EQ(std::vector<float>(run.model->params().begin(), run.model->params().end()),
            std::vector<float>(file.params().begin(), file.params().end()));
  const Tensor p = run.model->predict(test.x()), q = file.predict(test.x());
  EXPECT_EQ(std::vector<float>(p.span().begin(), p.span().end()), std::vector<float>(q.span().begin(), q.span().end()));
  fs::remove_all(dir);
}

TEST(EnsembleMembers, AFileNamedTwiceGivesTwoMembersWithDifferentSeeds) {
  // Files of their own: ctest runs the tests in parallel, and MembersThatDisagreeInShape... writes
  // another nnlab_ens_b.json.
  EnsembleSpec s = load_ensemble_spec(write_experiment("nnlab_ens_twice_a.json", small_experiment()), {});
  const std::string a = write_experiment("nnlab_ens_twice_a.json", small_experiment()),
                    b = write_experiment("nnlab_ens_twice_b.json", small_experiment(32));
  s.architectures = {a, b, a, a};
  const auto members = ensemble_members(s, 1000, {16});
  ASSERT_EQ(members.size(), 4u);
  EXPECT_EQ(members[0].config["seed"], 5);  // small_experiment's own seed, as written
  EXPECT_EQ(members[1].config["seed"], 5);  // another file: its own seed
  EXPECT_EQ(members[2].config["seed"], 6);
  EXPECT_EQ(members[3].config["seed"], 7);
  EXPECT_EQ(members[3].detail, "nnlab_ens_twice_a, seed 7");
}

// ---- errors -----------------------------------------------------------------------------------

TEST(EnsembleErrors, MembersThatDisagreeInShapeAreRefusedBeforeTraining) {
  EnsembleSpec s = load_ensemble_spec(write_experiment("nnlab_ens_a.json", small_experiment()), {});
  s.architectures = {write_experiment("nnlab_ens_a.json", small_experiment()),
                     write_experiment("nnlab_ens_b.json", small_experiment(24, 5))};
  std::string e = error_of([&] { ensemble_members(s, 1000, {16}); });
  EXPECT_CONTAINS(e, "member-2");
  EXPECT_CONTAINS(e, "(5)");
  EXPECT_CONTAINS(e, "(10)");
  auto other_data = small_experiment();
  other_data["data"]["dataset"] = "mnist";
  s.architectures[1] = write_experiment("nnlab_ens_c.json", other_data);
  e = error_of([&] { ensemble_members(s, 1000, {16}); });
  EXPECT_CONTAINS(e, "member-2");
  EXPECT_CONTAINS(e, "'mnist'");
  EXPECT_CONTAINS(e, "same inputs");
  s.architectures = {};
  s.members = 1;
  EXPECT_CONTAINS(error_of([&] { s.validate(); }), "at least 2");
  s.members = 3;
  s.holdout = 1.5;
  EXPECT_CONTAINS(error_of([&] { s.validate(); }), "1.5");
}

TEST(EnsembleErrors, FilesWithMismatchedMembersOrCorruptJsonGetClearErrors) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_ens_bad";
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto model = [&](const std::string& name, int64_t in, int64_t out) {
    Model m;
    m.add<Dense>(out, "softmax");
    m.build({in});
    save_model(m, (dir / name).string());
  };
  model("a.safetensors", 4, 3);
  model("b.safetensors", 5, 3);
  model("c.safetensors", 4, 2);
  auto write_ensemble = [&](const std::string& second) {
    const nlohmann::json j{{"format", "nnlab-ensemble"},
                           {"input_shape", {4}},
                           {"output_shape", {3}},
                           {"members", {{{"name", "first"}, {"model", "a.safetensors"}}, {{"name", "second"}, {"model", second}}}}};
    write_file_atomic((dir / "ensemble.json").string(), j.dump());
  };
  auto ensemble = [&](const std::string& second) {
    write_ensemble(second);
    return error_of([&] { load_ensemble(dir.string()); });
  };
  write_ensemble("a.safetensors");
  EXPECT_NO_THROW(load_ensemble(dir.string()));
  std::string e = ensemble("b.safetensors");
  EXPECT_CONTAINS(e, "member 'second'");
  EXPECT_CONTAINS(e, "inputs of shape (5)");
  e = ensemble("c.safetensors");
  EXPECT_CONTAINS(e, "member 'second'");
  EXPECT_CONTAINS(e, "outputs of shape (2)");
  e = ensemble("gone.safetensors");
  EXPECT_CONTAINS(e, "member 'second' is missing");
  EXPECT_CONTAINS(e, "gone.safetensors");

  write_file_atomic((dir / "ensemble.json").string(), "{\"format\": \"nnlab-ensemble\", \"members\": [");
  EXPECT_CONTAINS(error_of([&] { load_ensemble(dir.string()); }), "corrupt ensemble file");
  write_file_atomic((dir / "ensemble.json").string(), "{\"format\": \"nnlab-ensemble\", \"members\": 3}");
  EXPECT_CONTAINS(error_of([&] { load_ensemble(dir.string()); }), "corrupt ensemble file");
  write_file_atomic((dir / "ensemble.json").string(), "{\"name\": \"x\"}");
  EXPECT_CONTAINS(error_of([&] { load_ensemble((dir / "ensemble.json").string()); }), "not an nnlab ensemble file");
  fs::remove_all(dir);
}

// ---- the command line -----------------------------------------------------------------------------

TEST(EnsembleCli, EnsembleThenEvaluateAndPredictTheFolder) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_ens_cli";
  fs::remove_all(dir);
  auto toml = small_experiment();
  const std::string exp = write_experiment("nnlab_ens_cli.json", toml);
  auto r = run_nnlab("ensemble " + exp + " --members 2 --holdout 0.2 --combination stacking --quiet --out " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* s : {"member-1", "member-2", "**vote**", "**average**", "**stacking**", "best single member", "table.md"})
    EXPECT_CONTAINS(r.output, s);
  EXPECT_TRUE(fs::exists(dir / "table.md"));

  auto e = run_nnlab("evaluate " + dir.string());
  ASSERT_EQ(e.exit_code, 0) << e.output;
  for (const char* s : {"2 members, default combination stacking", "300 test samples", "member-2", "**stacking**",
                        "best single member"})
    EXPECT_CONTAINS(e.output, s);

  const std::string sample = "0,0,0,0,0,0,0,0,1,1,1,1,1,1,1,1";
  auto p = run_nnlab("predict " + (dir / "ensemble.json").string() + " --input " + sample + " --input " + sample +
                     " --combination vote");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_EQ(std::count(p.output.begin(), p.output.end(), '\n'), 2) << p.output;
  EXPECT_CONTAINS(p.output, "class ");

  fs::remove(dir / "member-1/model.safetensors");
  auto bad = run_nnlab("evaluate " + dir.string());
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_CONTAINS(bad.output, "member 'member-1' is missing");
  EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1) << bad.output;
  auto bad_set = run_nnlab("ensemble " + exp + " --members 1 --out " + dir.string());
  EXPECT_EQ(bad_set.exit_code, 1) << bad_set.output;
  EXPECT_CONTAINS(bad_set.output, "--members must be at least 2");
  fs::remove_all(dir);
}

// An ensemble of given models feeds every member the inputs its first member's experiment prepares: a
// model trained on standardized inputs beside one trained on scaled pixels is refused, naming both.
TEST(EnsembleCli, ModelsWhoseInputsArePreparedDifferentlyAreRefused) {
  const fs::path dir = fs::temp_directory_path() / ("nnlab_ens_prep-" + std::to_string(getpid()));
  fs::remove_all(dir);
  const std::string exp = write_experiment("nnlab_ens_prep.json", small_experiment());
  for (const char* run : {"scaled", "scaled2", "standardized"}) {
    const std::string set = std::string(run) == "standardized" ? " --set data.standardize=true" : "";
    auto t = run_nnlab("train " + exp + set + " --quiet --out " + (dir / run).string());
    ASSERT_EQ(t.exit_code, 0) << t.output;
  }
  auto ok = run_nnlab("ensemble --models " + (dir / "scaled").string() + "," + (dir / "scaled2").string() +
                      " --quiet --out " + (dir / "ok").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  auto bad = run_nnlab("ensemble --models " + (dir / "scaled").string() + "," + (dir / "standardized").string() +
                       " --out " + (dir / "bad").string());
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_CONTAINS(bad.output, "standardized/model.safetensors was trained on inputs prepared unlike those of ");
  EXPECT_CONTAINS(bad.output, "scaled/model.safetensors (standardize true vs false)");
  EXPECT_EQ(std::count(bad.output.begin(), bad.output.end(), '\n'), 1) << bad.output;
  EXPECT_FALSE(fs::exists(dir / "bad"));
  fs::remove_all(dir);
}
