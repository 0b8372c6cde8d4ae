// ONNX export and import of the image layers (io/onnx.hpp, src/io/onnx_export_image.cpp and
// onnx_import_image.cpp): CNNs with every image layer and option export, import back to the same
// layers and predictions, and export again to the same graph; the NHWC <-> NCHW Transposes, the
// kernel's layout and the explicit "same" pads are the ones ONNX needs; graphs nnlab cannot read as
// its layers are refused naming the file and the node.
//
// OnnxImageCases.DISABLED_Write writes the cases for tests/onnx_runtime_check.py (the ctest test
// onnx_runtime), which runs them in ONNX Runtime.
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <nlohmann/json.hpp>
#include <random>

#include "nnlab/config_reader.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/layers/layer.hpp"
#include "onnx_cases.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace nnlab;
using nnlab::testing::error_of;
using namespace nnlab::testing::onnx_cases;
using nlohmann::json;

namespace {

Case cnn(std::string name, Shape input, const std::vector<json>& configs, uint32_t seed) {
  std::vector<std::unique_ptr<Layer>> ls;
  for (const json& c : configs) ls.push_back(make_layer(c));
  return make_case(std::move(name), std::move(ls), std::move(input), seed);
}

// Every image layer and option: non-square images and kernels (a height / width swap shows),
// "same" with strides 1 and 2 and pads uneven on both axes, dilation, strides differing per
// axis, no bias, activations fused into conv2d (softmax over the channels too), batch_norm over
// channels, a model's input reshaped into images, and a model whose outputs are images.
std::vector<Case> image_cases() {
  std::vector<Case> cases;
  cases.push_back(cnn("cnn_every_option", {9, 8, 2},
                      {{{"type", "conv2d"}, {"filters", 3}, {"kernel_size", {3, 2}}, {"padding", "same"}, {"activation", "relu"}},
                       {{"type", "batch_norm"}, {"momentum", 0.9}, {"epsilon", 1e-3}},
                       {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"strides", 2}, {"padding", "same"},
                        {"activation", "tanh"}, {"use_bias", false}},
                       {{"type", "spatial_dropout2d"}, {"rate", 0.3}},
                       {{"type", "max_pool2d"}, {"pool_size", 2}, {"strides", 1}, {"padding", "same"}},
                       {{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 2}, {"dilation_rate", 2}, {"activation", "elu(0.7)"}},
                       {{"type", "average_pool2d"}, {"pool_size", 2}, {"strides", 2}, {"padding", "same"}},
                       {{"type", "flatten"}},
                       {{"type", "dense"}, {"units", 5}, {"activation", "softmax"}}},
                      201));
  cases.push_back(cnn("cnn_valid_windows", {10, 7, 3},
                      {{{"type", "conv2d"}, {"filters", 4}, {"kernel_size", {2, 3}}, {"strides", {2, 1}},
                        {"activation", "leaky_relu(0.05)"}},
                       {{"type", "max_pool2d"}, {"pool_size", {2, 3}}, {"strides", {1, 2}}},
                       {{"type", "batch_norm"}},
                       {{"type", "activation"}, {"activation", "gelu"}},
                       {{"type", "average_pool2d"}, {"pool_size", 2}},
                       {{"type", "flatten"}},
                       {{"type", "dense"}, {"units", 3}, {"activation", "sigmoid"}}},
                      202));
  cases.push_back(cnn("cnn_global_pool", {36},
                      {{{"type", "reshape"}, {"target_shape", {6, 6, 1}}},
                       {{"type", "conv2d"}, {"filters", 4}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "swish"}},
                       {{"type", "average_pool2d"}, {"pool_size", 3}, {"strides", 2}, {"padding", "same"}},
                       {{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 1}, {"activation", "softmax"}},
                       {{"type", "global_average_pool2d"}},
                       {{"type", "dense"}, {"units", 2}, {"activation", "softmax"}}},
                      203));
  cases.push_back(cnn("cnn_image_output", {5, 4, 3},
                      {{{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 3}, {"padding", "same"}, {"use_bias", false}},
                       {{"type", "batch_norm"}},
                       {{"type", "activation"}, {"activation", "relu"}}},
                      204));
  cases.push_back(cnn("cnn_reshape_rows", {4, 4, 2},
                      {{{"type", "conv2d"}, {"filters", 3}, {"kernel_size", 2}, {"activation", "sigmoid"}},
                       {{"type", "reshape"}, {"target_shape", {9, -1}}}},
                      205));
  return cases;
}

Case image_case(size_t i) { return std::move(image_cases().at(i)); }

// The image layers' configs, which must come back as they were (dropout, spatial_dropout2d and
// activation layers aside: the identity at inference, or fused into the conv2d before them).
std::vector<json> image_layer_configs(const Model& m) {
  std::vector<json> out;
  for (size_t i = 0; i < m.num_layers(); ++i) {
    json c = m.layer(i).config();
    const std::string type = c["type"];
    if (type == "conv2d") c.erase("activation");
    if (type == "conv2d" || type == "max_pool2d" || type == "average_pool2d" || type == "global_average_pool2d" ||
        type == "reshape" || type == "batch_norm" || type == "flatten")
      out.push_back(c);
  }
  return out;
}

const onnx::NodeProto* find_node(const onnx::GraphProto& g, const std::string& name) {
  for (const auto& n : g.node())
    if (n.name() == name) return &n;
  return nullptr;
}

std::vector<int64_t> ints_attr(const onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return {a.ints().begin(), a.ints().end()};
  return {};
}

// Takes node `name` out of g, its consumers reading its input instead.
void bypass(onnx::GraphProto& g, const std::string& name) {
  for (int i = 0; i < g.node_size(); ++i) {
    if (g.node(i).name() != name) continue;
    const std::string in = g.node(i).input(0), out = g.node(i).output(0);
    g.mutable_node()->DeleteSubrange(i, 1);
    for (auto& n : *g.mutable_node())
      for (auto& x : *n.mutable_input())
        if (x == out) x = in;
    return;
  }
  throw std::runtime_error("no node " + name);
}

}  // namespace

TEST(OnnxImage, EveryImageLayerAndOptionRoundTrips) {
  for (Case& c : image_cases()) {
    SCOPED_TRACE(c.name);
    const std::string first = onnx_export(c.model);
    Model back = onnx_import(first, c.name + ".onnx");
    EXPECT_EQ(back.input_shape(), c.model.input_shape());
    EXPECT_EQ(image_layer_configs(back), image_layer_configs(c.model));
    const Tensor a = c.model.predict(c.x), b = back.predict(c.x);
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a.data()[i], b.data()[i], 1e-5f) << "value " << i;
    EXPECT_EQ(computation(onnx_export(back)), computation(first));
  }
}

// One Transpose to NCHW before the first image operator and one back before the flatten; the
// kernel as ONNX's (filters, in, kh, kw); TensorFlow's "same" pads (the odd one at the end).
TEST(OnnxImage, GraphHasOneTransposeEachWayOnnxLayoutsAndSamePads) {
  Case c = image_case(0);
  const onnx::ModelProto m = parse(onnx_export(c.model));
  const onnx::GraphProto& g = m.graph();
  std::vector<std::vector<int64_t>> perms;
  std::string ops;
  for (const auto& n : g.node()) {
    if (n.op_type() == "Transpose") perms.push_back(ints_attr(n, "perm"));
    ops += n.op_type() + " ";
  }
  EXPECT_EQ(perms, (std::vector<std::vector<int64_t>>{{0, 3, 1, 2}, {0, 2, 3, 1}})) << ops;
  EXPECT_EQ(ops.substr(0, ops.find(" Conv")), "Transpose");
  EXPECT_NE(ops.find("AveragePool Transpose Flatten Gemm"), std::string::npos) << ops;
  const auto& in = g.input(0).type().tensor_type().shape();
  ASSERT_EQ(in.dim_size(), 4);
  EXPECT_EQ(in.dim(1).dim_value(), 9);
  EXPECT_EQ(in.dim(3).dim_value(), 2);

  std::map<std::string, NamedTensor> w;
  for (NamedTensor& t : c.model.named_tensors()) w.emplace(t.name, t);
  const NamedTensor& k = w.at("conv2d_1.kernel");  // (3, 2, 2, 3): kh, kw, in, filters
  ASSERT_EQ(k.shape, (Shape{3, 2, 2, 3}));
  for (const auto& t : g.initializer()) {
    if (t.name() != "conv2d_1.kernel") continue;
    ASSERT_EQ(std::vector<int64_t>(t.dims().begin(), t.dims().end()), (std::vector<int64_t>{3, 2, 3, 2}));
    std::vector<float> v(static_cast<size_t>(3 * 2 * 3 * 2));
    ASSERT_EQ(t.raw_data().size(), v.size() * sizeof(float));
    std::memcpy(v.data(), t.raw_data().data(), t.raw_data().size());
    // ONNX's [o][i][y][z] is nnlab's [y][z][i][o]: filter 2, input channel 1, row 2, column 0.
    EXPECT_EQ(v[((2 * 2 + 1) * 3 + 2) * 2 + 0], k.value[((2 * 2 + 0) * 2 + 1) * 3 + 2]);
  }
  // conv2d_2: 9x8 -> 5x4 with stride 2 and kernel 3: 2 rows of padding (1 + 1), 1 column (0 + 1).
  const onnx::NodeProto* conv = find_node(g, "conv2d_2/Conv");
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(ints_attr(*conv, "pads"), (std::vector<int64_t>{1, 0, 1, 1}));
  EXPECT_EQ(ints_attr(*conv, "strides"), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(conv->input_size(), 2) << "use_bias false: no bias input";
  const onnx::NodeProto* avg = find_node(g, "average_pool2d_1/AveragePool");
  ASSERT_NE(avg, nullptr);
  EXPECT_EQ(ints_attr(*avg, "pads"), (std::vector<int64_t>{0, 0, 1, 0}));
  bool excludes = false;
  for (const auto& a : avg->attribute()) excludes |= a.name() == "count_include_pad" && a.i() == 0;
  EXPECT_TRUE(excludes);
  const onnx::NodeProto* dil = find_node(g, "conv2d_3/Conv");
  ASSERT_NE(dil, nullptr);
  EXPECT_EQ(ints_attr(*dil, "dilations"), (std::vector<int64_t>{2, 2}));
}

// Image graphs nnlab cannot read as its layers: each is refused naming the file and the node.
TEST(OnnxImage, GraphsNnlabCannotReadAreRefusedClearly) {
  Case c = image_case(0);
  const std::string good = onnx_export(c.model);
  auto refused = [&](const std::function<void(onnx::GraphProto&)>& edit) {
    onnx::ModelProto m = parse(good);
    edit(*m.mutable_graph());
    return error_of([&] { onnx_import(m.SerializeAsString(), "cnn.onnx"); });
  };
  auto node = [](onnx::GraphProto& g, const std::string& name) -> onnx::NodeProto& {
    for (auto& n : *g.mutable_node())
      if (n.name() == name) return n;
    throw std::runtime_error("no node " + name);
  };
  auto set = [](onnx::NodeProto& n, const std::string& name, std::vector<int64_t> v) {
    for (auto& a : *n.mutable_attribute())
      if (a.name() == name) {
        a.clear_ints();
        for (int64_t x : v) a.add_ints(x);
        if (v.size() == 1) a.set_i(v[0]);
      }
  };
  // The Transpose to NCHW left out: Conv on NHWC values.
  std::string msg = refused([&](onnx::GraphProto& g) { bypass(g, "conv2d_1/Transpose"); });
  EXPECT_CONTAINS(msg, "cnn.onnx: node 'conv2d_1/Conv' (Conv) reads NCHW images, and the value here is NHWC images");
  msg = refused([&](onnx::GraphProto& g) { set(node(g, "conv2d_2/Conv"), "pads", {1, 1, 1, 1}); });
  EXPECT_CONTAINS(msg, "cnn.onnx: node 'conv2d_2/Conv' (Conv): pads [1, 1, 1, 1]");
  EXPECT_CONTAINS(msg, "TensorFlow's \"same\", which here is [1, 0, 1, 1]");
  msg = refused([&](onnx::GraphProto& g) { set(node(g, "conv2d_1/Conv"), "group", {3}); });
  EXPECT_CONTAINS(msg, "'conv2d_1/Conv' (Conv): group 3");
  msg = refused([&](onnx::GraphProto& g) { set(node(g, "average_pool2d_1/AveragePool"), "count_include_pad", {1}); });
  EXPECT_CONTAINS(msg, "'average_pool2d_1/AveragePool' (AveragePool): count_include_pad 1");
  msg = refused([&](onnx::GraphProto& g) {
    onnx::AttributeProto* a = node(g, "max_pool2d_1/MaxPool").add_attribute();
    a->set_name("ceil_mode");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(1);
  });
  EXPECT_CONTAINS(msg, "'max_pool2d_1/MaxPool' (MaxPool): ceil_mode 1");
  msg = refused([&](onnx::GraphProto& g) { set(node(g, "conv2d_1/Transpose"), "perm", {0, 2, 1, 3}); });
  EXPECT_CONTAINS(msg, "'conv2d_1/Transpose' (Transpose): perm [0, 2, 1, 3]");
  // The Transpose back left out: a Reshape of NCHW images orders values unlike nnlab's.
  {
    Case rows = image_case(4);
    onnx::ModelProto m = parse(onnx_export(rows.model));
    bypass(*m.mutable_graph(), "reshape_1/Transpose");
    EXPECT_CONTAINS(error_of([&] { onnx_import(m.SerializeAsString(), "rows.onnx"); }),
                    "rows.onnx: node 'reshape_1/Reshape' (Reshape) of NCHW images would order the values channel first");
  }
  msg = refused([&](onnx::GraphProto& g) { node(g, "conv2d_3/Conv").mutable_input()->at(1) = "conv2d_2.kernel"; });
  EXPECT_CONTAINS(msg, "'conv2d_3/Conv' (Conv): the weight 'conv2d_2.kernel' has shape [4, 3, 3, 3] for images of 4 channels");

  Case gap = image_case(2);
  const std::string gap_good = onnx_export(gap.model);
  onnx::ModelProto m = parse(gap_good);
  node(*m.mutable_graph(), "global_average_pool2d_1/Flatten").set_op_type("Relu");
  EXPECT_CONTAINS(error_of([&] { onnx_import(m.SerializeAsString(), "gap.onnx"); }),
                  "gap.onnx: node 'global_average_pool2d_1/GlobalAveragePool' (GlobalAveragePool): nnlab reads "
                  "GlobalAveragePool followed by a Flatten");

  Case images = image_case(3);
  m = parse(onnx_export(images.model));
  bypass(*m.mutable_graph(), "output/Transpose");
  EXPECT_CONTAINS(error_of([&] { onnx_import(m.SerializeAsString(), "nchw.onnx"); }),
                  "nchw.onnx: the graph's output is NCHW images");
}

// tests/data/onnx/NAME.onnx (a framework's export, of (12, 10, 1) images) imports as `layers` and gives
// the framework's outputs in NAME.json on the same inputs.
void expect_framework_outputs(const std::string& name, const std::vector<std::string>& layers) {
  SCOPED_TRACE(name);
  const fs::path dir = fs::path(NNLAB_TEST_DATA) / "onnx";
  Model m = load_onnx((dir / (name + ".onnx")).string());
  EXPECT_EQ(m.input_shape(), (Shape{12, 10, 1}));
  std::vector<std::string> kinds;
  for (size_t i = 0; i < m.num_layers(); ++i) kinds.push_back(m.layer(i).describe());
  EXPECT_EQ(kinds, layers);
  const json ref = parse_json(nnlab::testing::read_bytes(dir / (name + ".json")), name + ".json");
  const auto xs = ref.at("input").get<std::vector<std::vector<float>>>();
  const auto ys = ref.at("output").get<std::vector<std::vector<float>>>();
  Tensor x({static_cast<int64_t>(xs.size()), 12, 10, 1});
  for (size_t r = 0; r < xs.size(); ++r) std::copy(xs[r].begin(), xs[r].end(), x.data() + r * 120);
  const Tensor y = m.predict(x);
  ASSERT_EQ(y.cols(), static_cast<int64_t>(ys.at(0).size()));
  for (size_t r = 0; r < ys.size(); ++r)
    for (size_t k = 0; k < ys[r].size(); ++k) EXPECT_NEAR(y.at(static_cast<int64_t>(r), static_cast<int64_t>(k)), ys[r][k], 1e-5f);
}

// Keras 3's model.export(format="onnx") of a CNN (tests/data/onnx/make_keras_cnn.py, torch backend):
// Transposes around each Conv and pooling, the convolution's bias as an Add on NHWC values (folded into
// the conv2d), batch normalisation as Sub, Mul and Add per channel (a batch_norm over channels), Casts,
// and a computed flatten: the same layers as Keras's, and Keras's outputs.
TEST(OnnxImage, ImportsKerassCnn) {
  expect_framework_outputs("keras_cnn", {"conv2d(4, relu)", "batch_norm", "max_pool2d", "conv2d(6, tanh)",
                                         "average_pool2d", "flatten", "dense(5, softmax)"});
}

// A Flatten of NCHW images right before a Gemm (as PyTorch's CNNs end) is read as nnlab's flatten,
// the dense layer's rows reordered from (c, h, w) to (h, w, c): nnlab's export rewritten that way
// (no Transpose back, the Gemm's rows in (c, h, w) order), and a CNN PyTorch exported
// (tests/data/onnx/make_torch_cnn.py: input (N, 1, 12, 10), whose bytes are nnlab's (N, 12, 10, 1))
// give the same outputs.
TEST(OnnxImage, ReadsAChannelFirstFlattenBeforeADenseLayer) {
  Case c = image_case(0);
  onnx::ModelProto m = parse(onnx_export(c.model));
  bypass(*m.mutable_graph(), "flatten_1/Transpose");
  const Shape hwc = c.model.layer_output_shape(c.model.num_layers() - 3);  // flatten's input: (2, 1, 3)
  ASSERT_EQ(hwc, (Shape{2, 1, 3}));
  for (auto& t : *m.mutable_graph()->mutable_initializer()) {
    if (t.name() != "dense_1.kernel") continue;
    const int64_t h = hwc[0], w = hwc[1], ch = hwc[2], units = t.dims(1);
    std::vector<float> in(static_cast<size_t>(h * w * ch * units)), out(in.size());
    ASSERT_EQ(t.raw_data().size(), in.size() * sizeof(float));
    std::memcpy(in.data(), t.raw_data().data(), t.raw_data().size());
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t k = 0; k < ch; ++k)
          std::copy_n(in.begin() + ((y * w + x) * ch + k) * units, units, out.begin() + ((k * h + y) * w + x) * units);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(out.data()), out.size() * sizeof(float)));
  }
  Model back = onnx_import(m.SerializeAsString(), "nchw_flatten.onnx");
  const Tensor want = c.model.predict(c.x), got = back.predict(c.x);
  ASSERT_EQ(got.shape(), want.shape());
  for (int64_t i = 0; i < got.size(); ++i) ASSERT_NEAR(got.data()[i], want.data()[i], 1e-5f) << "value " << i;

  const fs::path dir = fs::path(NNLAB_TEST_DATA) / "onnx";
  expect_framework_outputs("torch_cnn", {"conv2d(4, relu)", "max_pool2d", "conv2d(6, tanh)", "average_pool2d", "flatten",
                                         "dense(5, softmax)"});
  // Its input with more than one channel would need its bytes reordered: refused.
  onnx::ModelProto three = parse(nnlab::testing::read_bytes(dir / "torch_cnn.onnx"));
  three.mutable_graph()->mutable_input(0)->mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(1)->set_dim_value(3);
  EXPECT_CONTAINS(error_of([&] { onnx_import(three.SerializeAsString(), "rgb.onnx"); }),
                  "(Conv) reads NCHW images, and the value here is NHWC images");
}

// Random bytes changed in a CNN's file: a model or an nnlab::Error naming the file, never a crash.
// nnlab's CNN export, Keras's and PyTorch's (the NCHW input and flatten, the per-channel arithmetic).
TEST(OnnxImage, RandomlyDamagedFilesNeverCrash) {
  const fs::path dir = fs::path(NNLAB_TEST_DATA) / "onnx";
  Case c = image_case(0);
  const std::vector<std::string> files{onnx_export(c.model), nnlab::testing::read_bytes(dir / "keras_cnn.onnx"),
                                       nnlab::testing::read_bytes(dir / "torch_cnn.onnx")};
  std::mt19937 rng(23);
  for (const std::string& good : files) {
    int refused = 0;
    for (int trial = 0; trial < 1000; ++trial) {
      std::string bad = good;
      const int changes = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < changes; ++k) bad[rng() % bad.size()] = static_cast<char>(rng());
      std::optional<Model> m;
      try {
        m = onnx_import(bad, "noise.onnx");
      } catch (const Error& e) {
        ASSERT_TRUE(nnlab::testing::contains(e.what(), "noise.onnx")) << e.what();
        ++refused;
        continue;
      }
      const Tensor x = random_input(m->input_shape(), 2, static_cast<uint32_t>(trial));
      if (x.size() <= (1 << 20)) (void)m->predict(x);  // runs: the layers chain as built
    }
    EXPECT_GT(refused, 100);
  }
}

// DISABLED_: run only by tests/onnx_runtime_check.py (--gtest_also_run_disabled_tests).
TEST(OnnxImageCases, DISABLED_Write) {
  const char* out = std::getenv("NNLAB_ONNX_CASES");
  if (!out) GTEST_SKIP() << "NNLAB_ONNX_CASES is not set (tests/onnx_runtime_check.py sets it)";
  for (Case& c : image_cases()) write_case(fs::path(out) / c.name, c.model, c.x);
  // Softmax over all of a sample's image values (an activation layer): exported, not imported.
  Case s = cnn("cnn_softmax_images", {4, 3, 2},
               {{{"type", "conv2d"}, {"filters", 2}, {"kernel_size", 2}, {"padding", "same"}},
                {{"type", "activation"}, {"activation", "softmax"}}},
               206);
  write_case(fs::path(out) / s.name, s.model, s.x);
  // Two CNNs averaged, as one graph (each member's own Transposes).
  std::vector<Case> members;
  for (uint32_t k = 0; k < 2; ++k) members.push_back(image_case(1)), randomise(members.back().model, 300 + k);
  const Tensor x = random_input({10, 7, 3}, 16, 9);
  std::vector<Tensor> outs{members[0].model.predict(x), members[1].model.predict(x)};
  const EnsemblePrediction p = combine_average(outs);
  const fs::path dir = fs::path(out) / "ensemble_cnn_average";
  fs::create_directories(dir);
  nnlab::testing::write_file(dir / "model.onnx",
                             onnx_export_ensemble({&members[0].model, &members[1].model}, "average", nullptr));
  write_floats(dir / "input.f32", x);
  write_floats(dir / "output.f32", p.outputs);
  std::ofstream(dir / "class.i64", std::ios::binary)
      .write(reinterpret_cast<const char*>(p.classes.data()), static_cast<std::streamsize>(p.classes.size() * 8));
  std::ofstream(dir / "shapes.json") << json{{"input", x.shape()}, {"output", p.outputs.shape()}}.dump();
}
