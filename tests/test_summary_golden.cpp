// nnlab's summary of CNNs against Keras's summary of the same layers (tests/data/summary_golden.json,
// written by tests/golden/make_summary_golden.py): each layer's output shape and parameter count and
// the total, trainable and non-trainable counts, as `nnlab summary` prints them for the experiment
// files and as Model::summary() does for a model with strides, "same" padding, dilation, batch
// normalisation over channels, spatial dropout and global average pooling.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "cli_runner.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
using json = nlohmann::json;

namespace {

json golden() {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/summary_golden.json");
  EXPECT_TRUE(in);
  return json::parse(in);
}

std::string commas(int64_t v) {
  std::string s = std::to_string(v);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string batch_shape(const json& shape) {
  std::string s = "(None";
  for (const auto& d : shape) s += ", " + std::to_string(d.get<int64_t>());
  return s + ")";
}

struct Row {
  std::string shape, params;
};

// The layer rows of a printed summary: "(None, ...)" and the parameter count that ends the line.
std::vector<Row> rows_of(const std::string& summary) {
  std::vector<Row> rows;
  std::istringstream in(summary);
  const std::regex row(R"(.*\)\s+(\(None[^)]*\))\s+([0-9,]+)\s*$)");
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_match(line, m, row)) rows.push_back({m[1], m[2]});
  return rows;
}

// The printed summary says what Keras says, row by row and in its totals.
void expect_as_keras(const std::string& summary, const json& g) {
  const auto rows = rows_of(summary);
  const json& keras = g.at("keras");
  ASSERT_EQ(rows.size(), keras.size()) << summary;
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].shape, batch_shape(keras[i].at("output_shape"))) << "layer " << i << " (Keras's " << keras[i].at("class") << ")\n" << summary;
    EXPECT_EQ(rows[i].params, commas(keras[i].at("params").get<int64_t>())) << "layer " << i << " (Keras's " << keras[i].at("class") << ")\n" << summary;
  }
  EXPECT_NE(summary.find("Total params: " + commas(g.at("total").get<int64_t>()) + "\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Trainable params: " + commas(g.at("trainable").get<int64_t>()) + "\n"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Non-trainable params: " + commas(g.at("non_trainable").get<int64_t>()) + "\n"), std::string::npos) << summary;
}

}  // namespace

TEST(SummaryGolden, ModelsMatchKerasLayerByLayer) {
  const json doc = golden();
  ASSERT_GE(doc.at("models").size(), 2u);
  for (const json& g : doc.at("models")) {
    SCOPED_TRACE(g.at("name").get<std::string>());
    Model m = Model::from_config({{"input", g.at("input_shape")}, {"layers", g.at("layers")}});
    const json& keras = g.at("keras");
    ASSERT_EQ(m.num_layers(), keras.size());
    for (size_t i = 0; i < m.num_layers(); ++i) {
      EXPECT_EQ(m.layer_output_shape(i), keras[i].at("output_shape").get<Shape>()) << i;
      EXPECT_EQ(m.layer_param_count(i), keras[i].at("params").get<int64_t>()) << i;
    }
    EXPECT_EQ(m.param_count(), g.at("total").get<int64_t>());
    EXPECT_EQ(m.trainable_count(), g.at("trainable").get<int64_t>());
    expect_as_keras(m.summary(), g);
  }
}

TEST(SummaryGolden, TheCommandSummarisesTheExperimentFilesAsKeras) {
  const json doc = golden();
  int files = 0;
  for (const json& g : doc.at("models")) {
    if (g.at("source").is_null()) continue;
    const std::string source = g.at("source").get<std::string>();
    SCOPED_TRACE(source);
    ++files;
    // The reference is of the file's model as it is now (else: run make_summary_golden.py again).
    const Experiment e = Experiment::load(std::string(NNLAB_SOURCE_DIR) + "/" + source);
    ASSERT_EQ(e.model.at("layers"), g.at("layers")) << "the golden file is older than " << source;
    EXPECT_EQ(stated_input(e), g.at("input_shape").get<Shape>());
    const auto r = nnlab::testing::run_nnlab("summary " + std::string(NNLAB_SOURCE_DIR) + "/" + source);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    expect_as_keras(r.output, g);
  }
  EXPECT_GE(files, 1);
}
