// `nnlab plot filters RUN` (plot_filters): the first conv2d layer's kernels and feature maps for one
// image, as an SVG with one cell per filter in each grid; the command on a run trained from generated
// Kaggle-format MNIST files; the errors for a model without convolutions and a bad image index.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::error_of;
using nnlab::testing::read_bytes;
namespace fs = std::filesystem;

namespace {

int64_t count(const std::string& text, const std::string& what) {
  int64_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

class PlotFilters : public nnlab::testing::TempDirTest {};

TEST_F(PlotFilters, OneCellPerFilterForKernelsAndFeatureMaps) {
  Model m = Model::from_config({{"input", {10, 9, 2}},
                                {"layers",
                                 {{{"type", "batch_norm"}},  // a layer before the convolution, run too
                                  {{"type", "conv2d"}, {"filters", 11}, {"kernel_size", {3, 2}}, {"activation", "relu"}},
                                  {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}},
                                  {{"type", "flatten"}},
                                  {{"type", "dense"}, {"units", 3}}}}},
                               5);
  Tensor image({10 * 9 * 2});
  Rng rng(1);
  for (float& v : image.span()) v = rng.uniform(0.0f, 1.0f);
  const std::string path = (dir_ / "filters.svg").string();
  EXPECT_EQ(plot_filters(m, image, path, "a <title>"), 11);
  ASSERT_TRUE(fs::exists(path));
  const std::string svg = read_bytes(path);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0u);
  EXPECT_TRUE(contains(svg, "</svg>\n"));
  EXPECT_EQ(count(svg, "<g class=\"filter\""), 11);  // the first conv2d's, not the second's 4
  EXPECT_EQ(count(svg, "<g class=\"feature-map\""), 11);
  EXPECT_EQ(count(svg, "<g class=\"input-image\""), 1);
  EXPECT_EQ(count(svg, "<image "), 23);
  EXPECT_EQ(count(svg, "data:image/png;base64,iVBORw0KGgo"), 23);  // PNG signature
  EXPECT_TRUE(contains(svg, "a &lt;title&gt;"));
  EXPECT_TRUE(contains(svg, "conv2d_1 (conv2d(11, relu)), 3x2, mean over 2 input channels"));
  EXPECT_TRUE(contains(svg, "feature maps of conv2d_1 for the image, 8x8 (each black"));
}

TEST_F(PlotFilters, BadModelsAndImagesAreNamed) {
  Model dense = Model::from_config({{"input", {4, 4, 1}}, {"layers", {{{"type", "flatten"}}, {{"type", "dense"}, {"units", 2}}}}});
  const std::string e = error_of([&] { plot_filters(dense, Tensor({16}), (dir_ / "x.svg").string()); });
  EXPECT_TRUE(contains(e, "plot filters: the model has no conv2d layer (its layers: flatten_1, dense_1)")) << e;
  Model cnn = Model::from_config({{"input", {4, 4, 1}}, {"layers", {{{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 2}}}}});
  const std::string f = error_of([&] { plot_filters(cnn, Tensor({15}), (dir_ / "x.svg").string()); });
  EXPECT_TRUE(contains(f, "the image has 15 values, the model takes (4, 4, 1)")) << f;
  EXPECT_FALSE(fs::exists(dir_ / "x.svg"));
}

TEST_F(PlotFilters, TheCommandDrawsARunsFirstConvolution) {
  // Generated MNIST as Kaggle's CSV files, one epoch of experiments/mnist-cnn.toml on them.
  fs::create_directories(dir_ / "mnist");
  for (const auto& [file, rows] : {std::pair{"mnist_train.csv", 64}, std::pair{"mnist_test.csv", 20}}) {
    std::ofstream out(dir_ / "mnist" / file);
    out << "label";
    for (int i = 0; i < 784; ++i) out << ",pixel" << i + 1;
    out << '\n';
    for (int r = 0; r < rows; ++r) {
      out << r % 10;
      for (int i = 0; i < 784; ++i) out << ',' << ((i / 28 + r) % 7 == 0 ? 200 : (i * 7 + r) % 40);
      out << '\n';
    }
  }
  const std::string run = (dir_ / "run").string();
  auto r = nnlab::testing::run_nnlab("train mnist-cnn --epochs 1 --set data.dir=" + dir_.string() + " --out " + run);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = nnlab::testing::run_nnlab("plot filters " + run + " --image 3");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(contains(r.output, run + "/filters.svg")) << r.output;
  const std::string svg = read_bytes(fs::path(run) / "filters.svg");
  EXPECT_EQ(count(svg, "<g class=\"filter\""), 32);
  EXPECT_EQ(count(svg, "<g class=\"feature-map\""), 32);
  EXPECT_TRUE(contains(svg, "mnist-cnn: test image 3 (3)")) << svg.substr(0, 600);
  const std::string out = (dir_ / "mine.svg").string();
  r = nnlab::testing::run_nnlab("plot filters " + run + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(fs::exists(out));
  r = nnlab::testing::run_nnlab("plot filters " + run + " --image 20");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.output, "--image 20 is not an image of mnist's test data (0 to 19)")) << r.output;
}
