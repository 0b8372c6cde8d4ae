// The course's week-4 CNN experiments (experiments/mnist-cnn.toml, experiments/sign-mnist-cnn.toml):
// each file parses, states its input, builds the model its comment describes (parameter counts; Keras's
// own counts are in tests/data/summary_golden.json, checked by test_summary_golden), and trains an
// epoch, saving a model that loads back, on small generated data in the real files' formats (Kaggle's
// CSV files). The real data is a held-out check of its own.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "nnlab/experiment.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

using namespace nnlab;
namespace fs = std::filesystem;

namespace {

struct Case {
  const char* name;
  const char* dataset;
  int64_t classes, params;
};
const Case kCases[] = {{"mnist-cnn", "mnist", 10, 422026}, {"sign-mnist-cnn", "sign-mnist", 24, 423832}};

// A Kaggle-style CSV file: a header, then label and 784 pixels (0-255) per row; labels cycle through
// `labels`, each drawing its own stripes so that the classes differ.
void write_csv(const fs::path& file, const std::string& header_prefix, const std::vector<int>& labels, int rows,
               uint64_t seed) {
  std::ofstream out(file);
  out << "label";
  for (int i = 0; i < 784; ++i) out << ',' << header_prefix << i + 1;
  out << '\n';
  Rng rng(seed);
  for (int r = 0; r < rows; ++r) {
    const int label = labels[static_cast<size_t>(r) % labels.size()];
    out << label;
    for (int i = 0; i < 784; ++i) {
      const bool on = ((i / 28 + 2 * (i % 28) + 7 * label) / 5) % 3 == 0;
      out << ',' << std::min<uint64_t>(255, (on ? 160 : 20) + rng.next() % 80);
    }
    out << '\n';
  }
}

}  // namespace

TEST(CnnExperiments, ParseAndBuildTheDescribedModel) {
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Experiment e = Experiment::load(c.name);
    EXPECT_EQ(e.data.dataset, c.dataset);
    EXPECT_EQ(stated_input(e), (Shape{28, 28, 1}));
    Model m = build_model(e, stated_input(e));
    EXPECT_EQ(m.param_count(), c.params);
    EXPECT_EQ(m.output_shape(), (Shape{c.classes}));
    int conv = 0, norm = 0, dropout = 0;
    for (size_t i = 0; i < m.num_layers(); ++i) {
      const nlohmann::json cfg = m.layer(i).config();
      conv += m.layer(i).type() == "conv2d";
      norm += m.layer(i).type() == "batch_norm";
      if (m.layer(i).type() == "dropout") {
        ++dropout;
        EXPECT_FLOAT_EQ(cfg.at("rate").get<float>(), 0.3f);
      }
    }
    EXPECT_EQ(conv, 2);
    EXPECT_EQ(norm, 2);
    EXPECT_EQ(dropout, 2);
    // The course's augmentation: rotation 10, zoom 0.1, shifts 0.1.
    const nlohmann::json a = e.augment;
    EXPECT_EQ(a.at("rotation_range"), 10);
    EXPECT_EQ(a.at("zoom_range"), 0.1);
    EXPECT_EQ(a.at("width_shift_range"), 0.1);
    EXPECT_EQ(a.at("height_shift_range"), 0.1);
  }
}

class CnnExperimentRun : public nnlab::testing::TempDirTest {};

TEST_F(CnnExperimentRun, EachTrainsAnEpochOnItsFileFormat) {
  fs::create_directories(dir_ / "mnist");
  const std::vector<int> digits{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  write_csv(dir_ / "mnist" / "mnist_train.csv", "", digits, 320, 1);  // Kaggle mnist-in-csv
  write_csv(dir_ / "mnist" / "mnist_test.csv", "", digits, 100, 2);
  fs::create_directories(dir_ / "sign-mnist");
  std::vector<int> letters;  // 0-24 without 9 (J)
  for (int l = 0; l <= 24; ++l)
    if (l != 9) letters.push_back(l);
  write_csv(dir_ / "sign-mnist" / "sign_mnist_train.csv", "pixel", letters, 336, 3);
  write_csv(dir_ / "sign-mnist" / "sign_mnist_test.csv", "pixel", letters, 96, 4);
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    const Experiment e = Experiment::load(c.name, {"data.dir=" + dir_.string(), "train.epochs=1"});
    RunOptions ro;
    ro.out_dir = (dir_ / c.name).string();
    ro.verbose = 0;
    const RunResult r = run_experiment(e, ro);
    EXPECT_EQ(r.params, c.params);
    ASSERT_EQ(r.history.logs.size(), 1u);
    EXPECT_TRUE(std::isfinite(r.history.logs[0].at("loss")));
    EXPECT_EQ(r.evaluated_on, "test");
    EXPECT_EQ(r.confusion.total(), c.classes == 10 ? 100 : 96);
    Model loaded = load_model((dir_ / c.name / "model.safetensors").string());
    EXPECT_EQ(loaded.input_shape(), (Shape{28, 28, 1}));
    EXPECT_EQ(loaded.param_count(), c.params);
  }
}
