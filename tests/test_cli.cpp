// The command line end to end: the XOR lesson, the linearity lesson, a training run folder, and
// one-line errors with a non-zero exit for input that makes no sense.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.hpp"
#include <nlohmann/json.hpp>
#include "nnlab/nnlab.hpp"

using nnlab::testing::run_nnlab;
namespace fs = std::filesystem;

static int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(Cli, XorLessonShowsLogisticFailureAndMlpSuccess) {
  const fs::path svg = fs::temp_directory_path() / "nnlab_cli_xor_regions.svg";
  auto r = run_nnlab("xor --seeds 10 --plot " + svg.string());
  EXPECT_TRUE(fs::exists(svg));
  fs::remove(svg);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("logistic  and"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("logistic  xor  seed 1   outputs"), std::string::npos) << r.output;
  // 9 or 10 of 10 seeds.
  EXPECT_TRUE(r.output.find("solved XOR with 10 of 10 seeds") != std::string::npos ||
              r.output.find("solved XOR with 9 of 10 seeds") != std::string::npos)
      << r.output;
}

TEST(Cli, LinearityLessonCollapsesTheStack) {
  auto r = run_nnlab("linearity");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("W (4 x 3)"), std::string::npos) << r.output;
  const nnlab::LinearityReport rep = nnlab::linearity_demo(42);
  EXPECT_LT(rep.max_diff_linear, 1e-4);
  EXPECT_GT(rep.max_diff_relu, 0.1);
}

TEST(Cli, TrainWritesARunFolderThatEvaluateAndPredictRead) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_cli_run";
  fs::remove_all(dir);
  auto r = run_nnlab("train xor --quiet --out " + dir.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("accuracy 100.00%"), std::string::npos) << r.output;
  for (const char* f : {"config.json", "history.csv", "model.safetensors", "summary.txt"})
    EXPECT_TRUE(fs::exists(dir / f)) << f;
  const auto history = nnlab::History::from_csv(nnlab::read_file((dir / "history.csv").string()), "history.csv");
  EXPECT_EQ(history.logs.size(), 1000u);

  auto e = run_nnlab("evaluate " + dir.string());
  ASSERT_EQ(e.exit_code, 0) << e.output;
  EXPECT_NE(e.output.find("accuracy 100.00%"), std::string::npos) << e.output;

  auto p = run_nnlab("predict " + dir.string() + " --input 0,1 --input 1,1");
  ASSERT_EQ(p.exit_code, 0) << p.output;
  EXPECT_EQ(count_lines(p.output), 2) << p.output;
  // The config the run used trains again.
  auto again = run_nnlab("train " + (dir / "config.json").string() + " --quiet --epochs 3 --out " + (dir / "again").string());
  EXPECT_EQ(again.exit_code, 0) << again.output;
  fs::remove_all(dir);
}

// Numbers reach the run's settings without loss from --lr and --set (issue 14: std::to_string once
// saved --lr 0.0000001 as 0).
TEST(Cli, NumbersFromTheCommandLineReachTheConfigExactly) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_cli_numbers";
  fs::remove_all(dir);
  auto r = run_nnlab("train xor --quiet --epochs 1 --lr 0.0000001 --set optimizer.weight_decay=123456.789 --out " +
                     (dir / "a").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto a = nlohmann::json::parse(nnlab::read_file((dir / "a" / "config.json").string()));
  EXPECT_EQ(a["optimizer"]["learning_rate"].get<double>(), 1e-7) << a.dump();
  EXPECT_EQ(a["optimizer"]["weight_decay"].get<double>(), 123456.789) << a.dump();
  r = run_nnlab("train xor --quiet --epochs 1 --set optimizer.learning_rate=3e-10 --out " + (dir / "b").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto b = nlohmann::json::parse(nnlab::read_file((dir / "b" / "config.json").string()));
  EXPECT_EQ(b["optimizer"]["learning_rate"].get<double>(), 3e-10) << b.dump();
  r = run_nnlab("train xor --quiet --epochs 1 --lr 123456.789 --set optimizer.weight_decay=0 --out " +
                (dir / "c").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto c = nlohmann::json::parse(nnlab::read_file((dir / "c" / "config.json").string()));
  EXPECT_EQ(c["optimizer"]["learning_rate"].get<double>(), 123456.789) << c.dump();
  fs::remove_all(dir);
}

TEST(Cli, SummaryPrintsTheParameterCount) {
  auto r = run_nnlab("summary xor");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Total params: 33"), std::string::npos) << r.output;
}

// Each bad input: non-zero exit, one line naming the bad value, no stack trace or crash.
struct BadInput {
  std::string args;
  std::string expected;  // a fragment the message must contain
};

TEST(Cli, BadInputGetsOneClearLine) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_cli_bad";
  fs::create_directories(dir);
  auto write = [&](const char* name, const char* text) {
    nnlab::write_file_atomic((dir / name).string(), text);
    return (dir / name).string();
  };
  const std::string bad_toml = write("bad.toml", "name = \"x\"\n[model\nlayers = []\n");
  const std::string bad_key = write("key.toml", "[model]\nlayers = [{type = \"dense\", units = 1}]\n[train]\nepoch = 3\n");
  const std::string bad_act = write("act.toml", "[model]\nlayers = [{type = \"dense\", units = 1, activation = \"relux\"}]\n");
  const std::string bad_units = write("units.toml", "[model]\nlayers = [{type = \"dense\", units = -4}]\n");
  const std::string bad_opt = write("opt.toml", "[model]\nlayers = [{type = \"dense\", units = 1}]\n[optimizer]\nlearning_rate = -1\n");
  const std::string bad_shape = write("shape.toml", "[data]\ndataset = \"xor\"\n[model]\nlayers = [{type = \"dense\", units = 3, activation = \"softmax\"}]\n[train]\nloss = \"binary_crossentropy\"\n");
  const std::string not_model = write("garbage.safetensors", "this is not a model");
  const std::vector<BadInput> cases{
      {"train no-such-experiment", "no-such-experiment"},
      {("train " + bad_toml), "bad.toml:2"},
      {("train " + bad_key), "'epoch'"},
      {("train " + bad_act), "relux"},
      {("train " + bad_units), "-4"},
      {("train " + bad_opt), "-1"},
      {("train " + bad_shape + " --quiet --out " + (dir / "shape-run").string()), "3 outputs"},
      {"train xor --epochs 0", "--epochs"},
      {"train xor --epochs abc", "abc"},
      {"train xor --set train.batch_size=0", "batch_size"},
      {"train xor --set nonsense", "nonsense"},
      {"train xor --bogus-flag", "--bogus-flag"},
      {("evaluate " + not_model), "garbage.safetensors"},
      {"evaluate /no/such/model.safetensors", "/no/such/model.safetensors"},
      {"predict /no/such/model.safetensors --input 1,2", "/no/such/model.safetensors"},
      {"xor --seeds -3", "-3"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.args);
    auto r = run_nnlab(c.args);
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_LT(r.exit_code, 128) << "crashed: " << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << r.output;
    EXPECT_LE(count_lines(r.output), 2) << r.output;
  }
  EXPECT_FALSE(fs::exists(dir / "shape-run")) << "a refused experiment left a run folder";
  fs::remove_all(dir);
}

TEST(Cli, DownloadOfAnotherDatasetSaysWhereItIsOrHowToGetIt) {
  auto r = run_nnlab("data download fashion-mnist");
  EXPECT_NE(r.exit_code, 0) << r.output;
  const bool present = r.output.find("fashion-mnist is already present in /") != std::string::npos;
  const bool hint = r.output.find("apt install dataset-fashion-mnist") != std::string::npos;
  EXPECT_TRUE(present || hint) << r.output;
  EXPECT_EQ(count_lines(r.output), 1) << r.output;
}

TEST(Cli, GradcheckPassesForTheCourseNetworks) {
  for (const char* e : {"xor", "fashion-small"}) {
    auto r = run_nnlab(std::string("gradcheck ") + e + " --per-tensor 10");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("PASSED"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("dense_1.kernel"), std::string::npos) << r.output;
  }
}

// An experiment trains from nnlab's binary files (streamed from disk) with dataset = "file".
TEST(Cli, ExperimentTrainsFromBinaryFiles) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_cli_file";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string train = (dir / "train.nnds").string(), test = (dir / "test.nnds").string();
  ASSERT_EQ(run_nnlab("data synth --samples 4000 --features 8 --classes 3 --out " + train).exit_code, 0);
  ASSERT_EQ(run_nnlab("data synth --samples 500 --features 8 --classes 3 --first 4000 --out " + test).exit_code, 0);
  const std::string exp = (dir / "e.toml").string();
  nnlab::write_file_atomic(exp, "[data]\ndataset = \"file\"\ntrain = \"" + train + "\"\ntest = \"" + test +
                                    "\"\n[model]\nlayers = [{type = \"dense\", units = 16, activation = \"relu\"}, "
                                    "{type = \"dense\", units = 3, activation = \"softmax\"}]\n[train]\nepochs = 3\n");
  auto r = run_nnlab("train " + exp + " --quiet --out " + (dir / "run").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto result = nlohmann::json::parse(nnlab::read_file((dir / "run" / "result.json").string()));
  EXPECT_GT(result.at("test_accuracy").get<double>(), 0.6) << "chance is 1/3";
  const std::string missing = (dir / "missing.toml").string();
  nnlab::write_file_atomic(missing, "[data]\ndataset = \"file\"\n[model]\nlayers = [{type = \"dense\", units = 3}]\n");
  auto m = run_nnlab("train " + missing);
  EXPECT_NE(m.exit_code, 0);
  EXPECT_NE(m.output.find("train = \"PATH\""), std::string::npos) << m.output;
  fs::remove_all(dir);
}
