#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
namespace fs = std::filesystem;

namespace {

// The course's baseline 4-8-4-1.
nlohmann::json course_base() {
  return {{"name", "course"},
          {"data", {{"dataset", "xor"}}},
          {"model",
           {{"input", {4}},
            {"layers",
             {{{"type", "dense"}, {"units", 8}, {"activation", "relu"}},
              {{"type", "dense"}, {"units", 4}, {"activation", "relu"}},
              {{"type", "dense"}, {"units", 1}, {"activation", "sigmoid"}}}}}},
          {"train", {{"loss", "binary_crossentropy"}}}};
}

std::vector<int64_t> units(const nlohmann::json& layers) {
  std::vector<int64_t> u;
  for (const auto& l : layers) u.push_back(l.at("units").get<int64_t>());
  return u;
}

}  // namespace

TEST(Sweep, TheCoursesFourFamilies) {
  const auto v = family_variants(course_base());
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[0].name, "baseline");
  EXPECT_EQ(units(v[0].patch["model"]["layers"]), (std::vector<int64_t>{8, 4, 1}));      // 4-8-4-1
  EXPECT_EQ(units(v[1].patch["model"]["layers"]), (std::vector<int64_t>{16, 8, 1}));     // 4-16-8-1
  EXPECT_EQ(units(v[2].patch["model"]["layers"]), (std::vector<int64_t>{4, 8, 8, 4, 1}));  // 4-4-8-8-4-1
  EXPECT_EQ(units(v[3].patch["model"]["layers"]), (std::vector<int64_t>{8, 16, 16, 8, 1}));  // 4-8-16-16-8-1
}

TEST(Sweep, AxesMultiplyAndNameTheVariants) {
  SweepAxes axes;
  axes.width = {0.5, 2};
  axes.dropout = {0, 0.3};
  axes.learning_rate = {0.01};
  const auto v = axis_variants(course_base(), axes);
  ASSERT_EQ(v.size(), 4u);
  EXPECT_EQ(v[3].name, "width=2,dropout=0.3,lr=0.01");
  const auto& layers = v[3].patch["model"]["layers"];
  ASSERT_EQ(layers.size(), 5u);  // dense, dropout, dense, dropout, output
  EXPECT_EQ(layers[0]["units"], 16);
  EXPECT_EQ(layers[1]["type"], "dropout");
  EXPECT_EQ(layers[4]["units"], 1);  // the output layer is never scaled
  EXPECT_EQ(v[3].overrides, std::vector<std::string>{"optimizer.learning_rate=0.01"});
  SweepAxes depth;
  depth.depth = {1, 3};
  const auto d = axis_variants(course_base(), depth);
  EXPECT_EQ(units(d[0].patch["model"]["layers"]), (std::vector<int64_t>{8, 1}));
  EXPECT_EQ(units(d[1].patch["model"]["layers"]), (std::vector<int64_t>{8, 4, 4, 1}));
  SweepAxes bad;
  bad.width = {-1};
  EXPECT_THROW(axis_variants(course_base(), bad), Error);
}

TEST(Sweep, RunsWritesTheTableAndResumesSkippingFinishedRuns) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_sweep";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string file = (dir / "s.toml").string();
  write_file_atomic(file, R"(name = "lr-sweep"
base = "xor"
set = ["train.epochs=300", "train.validate_on_test=false", "train.validation_split=0.0"]
metric = "loss"
[[variant]]
name = "slow"
set = ["optimizer.learning_rate=0.001"]
[[variant]]
name = "fast"
set = ["optimizer.learning_rate=0.5"]
)");
  SweepSpec s = load_sweep(file, {}, {});
  ASSERT_EQ(s.variants.size(), 2u);
  auto rows = run_sweep(s, (dir / "out").string(), 0);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].variant, "fast");  // sorted by the lowest loss
  EXPECT_LT(rows[0].best, rows[1].best);
  EXPECT_EQ(rows[0].params, 33);
  for (const char* f : {"table.md", "table.csv"}) EXPECT_TRUE(fs::exists(dir / "out" / f)) << f;
  const std::string md = read_file((dir / "out" / "table.md").string());
  EXPECT_NE(md.find("| fast | 33 |"), std::string::npos) << md;
  // Resuming: both runs are finished, so nothing is retrained (the folders' times stay as they were).
  const auto before = fs::last_write_time(dir / "out" / "fast" / "model.safetensors");
  auto again = run_sweep(s, (dir / "out").string(), 0);
  EXPECT_EQ(fs::last_write_time(dir / "out" / "fast" / "model.safetensors"), before);
  EXPECT_DOUBLE_EQ(again[0].best, rows[0].best);
  fs::remove_all(dir);
}

TEST(Sweep, BadSweepsAreRefusedBeforeTraining) {
  const fs::path dir = fs::temp_directory_path() / "nnlab_sweep_bad";
  fs::create_directories(dir);
  const std::string dup = (dir / "dup.toml").string();
  write_file_atomic(dup, "base = \"xor\"\n[[variant]]\nname = \"a\"\n[[variant]]\nname = \"a\"\n");
  EXPECT_THROW(load_sweep(dup, {}, {}), Error);
  const std::string key = (dir / "key.toml").string();
  write_file_atomic(key, "base = \"xor\"\n[[variant]]\nname = \"a\"\nsett = []\n");
  EXPECT_THROW(load_sweep(key, {}, {}), Error);
  const std::string layer = (dir / "layer.toml").string();
  write_file_atomic(layer, "base = \"xor\"\n[[variant]]\nname = \"a\"\n[variant.config.model]\nlayers = [{type = \"dense\", units = 0}]\n");
  try {
    load_sweep(layer, {}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("variant 'a'"), std::string::npos) << e.what();
  }
  const std::string shape = (dir / "shape.toml").string();
  write_file_atomic(shape, "base = \"xor\"\n[[variant]]\nname = \"three\"\n[variant.config.model]\n"
                           "layers = [{type = \"dense\", units = 3, activation = \"softmax\"}]\n");
  try {
    load_sweep(shape, {}, {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("3 outputs but the base has 1"), std::string::npos) << e.what();
  }
  auto r = nnlab::testing::run_nnlab("sweep xor");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("--width"), std::string::npos) << r.output;
  fs::remove_all(dir);
}
