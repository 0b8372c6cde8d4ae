// ONNX export and import (io/onnx.hpp): every layer and activation exports, imports back to the
// same predictions, and a second export is the same graph; damaged files are refused with a clear
// nnlab::Error, never a crash; a model PyTorch exported imports and gives PyTorch's outputs.
//
// With NNLAB_ONNX_CASES set to a folder, OnnxCases.DISABLED_Write writes every case there (model.onnx, the
// inputs and nnlab's outputs) for tests/onnx_runtime_check.py, which runs them in ONNX Runtime (the
// ctest test onnx_runtime). With NNLAB_ONNX_RUN set to a run folder too, it adds that run's model on
// its whole test set (the course MLP, or a CNN, on Fashion-MNIST's 10,000 test images).
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <type_traits>

#include "nnlab/activations/activation.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/layers/activation_layer.hpp"
#include "nnlab/layers/batch_norm.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/layers/dropout.hpp"
#include "nnlab/layers/flatten.hpp"
#include "nnlab/layers/maxout.hpp"
#include "cli_runner.hpp"
#include "onnx_cases.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace nnlab;
using nnlab::testing::error_of;
using namespace nnlab::testing::onnx_cases;

namespace {

DenseOptions dense_options(int64_t units, const std::string& act, bool bias) {
  DenseOptions o;
  o.units = units;
  o.activation = act;
  o.use_bias = bias;
  return o;
}

// Every layer and every activation (with a parameter other than its default where it takes one).
std::vector<Case> all_cases() {
  std::vector<Case> cases;
  uint32_t seed = 1;
  std::vector<std::string> acts = activation_names();
  acts.push_back("leaky_relu(0.05)");
  acts.push_back("elu(0.7)");
  for (const std::string& a : acts) {
    const std::string id = a.substr(0, a.find('(')) + (a.find('(') != std::string::npos ? "_param" : "");
    cases.push_back(make_case("dense_" + id, layers(std::make_unique<Dense>(dense_options(5, a, true))), {6}, seed++));
    cases.push_back(make_case("activation_" + id,
                              layers(std::make_unique<Dense>(dense_options(5, "linear", true)),
                                     std::make_unique<Dropout>(0.3f), std::make_unique<ActivationLayer>(a)),
                              {6}, seed++));
  }
  cases.push_back(make_case("dense_no_bias", layers(std::make_unique<Dense>(dense_options(4, "tanh", false))), {6}, seed++));
  cases.push_back(make_case("maxout", layers(std::make_unique<Maxout>(4, 3), std::make_unique<Dense>(3, "softmax")), {6}, seed++));
  cases.push_back(make_case("batch_norm",
                            layers(std::make_unique<Dense>(5, "linear"), std::make_unique<BatchNorm>(0.9f, 1e-3f),
                                   std::make_unique<ActivationLayer>("relu")),
                            {6}, seed++));
  cases.push_back(make_case("flatten_mlp",
                            layers(std::make_unique<Flatten>(), std::make_unique<Dense>(8, "relu"),
                                   std::make_unique<Dropout>(0.5f), std::make_unique<Dense>(4, "softmax")),
                            {3, 4}, seed++));
  return cases;
}

}  // namespace

TEST(Onnx, EveryLayerAndActivationRoundTrips) {
  for (Case& c : all_cases()) {
    SCOPED_TRACE(c.name);
    const std::string first = onnx_export(c.model, {{"nnlab.experiment_name", c.name}});
    std::map<std::string, std::string> meta;
    Model back = onnx_import(first, c.name + ".onnx", &meta);
    EXPECT_EQ(meta["nnlab.experiment_name"], c.name);
    EXPECT_FALSE(meta["nnlab.version"].empty());
    const Tensor a = c.model.predict(c.x), b = back.predict(c.x);
    ASSERT_EQ(a.shape(), b.shape());
    for (int64_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a.data()[i], b.data()[i], 1e-6f) << "value " << i;
    // export -> import -> export gives the same graph.
    EXPECT_EQ(computation(onnx_export(back)), computation(first));
  }
}

TEST(Onnx, GraphHasNamedInputOutputAndAnyBatch) {
  Case c = make_case("mlp", layers(std::make_unique<Dense>(3, "relu"), std::make_unique<Dense>(2, "softmax")), {4}, 9);
  const onnx::ModelProto m = parse(onnx_export(c.model, {{"nnlab.class_names", "[\"a\",\"b\"]"}}));
  EXPECT_EQ(m.opset_import(0).version(), kOnnxOpset);
  ASSERT_EQ(m.graph().input_size(), 1);
  ASSERT_EQ(m.graph().output_size(), 1);
  EXPECT_EQ(m.graph().input(0).name(), "input");
  EXPECT_EQ(m.graph().output(0).name(), "output");
  const auto& in = m.graph().input(0).type().tensor_type().shape();
  ASSERT_EQ(in.dim_size(), 2);
  EXPECT_EQ(in.dim(0).dim_param(), "N");
  EXPECT_EQ(in.dim(1).dim_value(), 4);
  EXPECT_EQ(m.graph().output(0).type().tensor_type().shape().dim(1).dim_value(), 2);
  std::map<std::string, std::string> props;
  for (const auto& p : m.metadata_props()) props[p.key()] = p.value();
  EXPECT_EQ(props["nnlab.class_names"], "[\"a\",\"b\"]");
  EXPECT_TRUE(props.count("nnlab.version"));
}

// Damaged files: every truncation, a missing initializer, shapes that do not chain, an operator
// nnlab has no layer for. Each is an nnlab::Error naming the file (and the node), never a crash.
TEST(Onnx, DamagedFilesAreRefusedClearly) {
  Case c = make_case("mlp", layers(std::make_unique<Dense>(3, "relu"), std::make_unique<Dense>(2, "softmax")), {4}, 3);
  const std::string good = onnx_export(c.model);
  // A cut after the graph and the opset (in the metadata) still parses: then the model read must be
  // the whole model. Every other cut is refused naming the file.
  const Tensor want = c.model.predict(c.x);
  size_t refused = 0, whole = 0;
  for (size_t len = 0; len < good.size(); ++len) {
    try {
      Model m = onnx_import(good.substr(0, len), "cut.onnx");
      const Tensor got = m.predict(c.x);
      ASSERT_EQ(got.shape(), want.shape()) << "length " << len;
      for (int64_t i = 0; i < got.size(); ++i) ASSERT_EQ(got.data()[i], want.data()[i]) << "length " << len;
      ++whole;
    } catch (const Error& e) {
      ASSERT_TRUE(nnlab::testing::contains(e.what(), "cut.onnx")) << "length " << len << ": " << e.what();
      ++refused;
    }
  }
  EXPECT_GT(refused, good.size() * 9 / 10) << "cuts refused, of " << good.size() << " (" << whole << " whole models)";
  {
    onnx::ModelProto m = parse(good);
    m.mutable_graph()->mutable_initializer()->DeleteSubrange(0, 1);  // dense_1.kernel
    const std::string msg = error_of([&] { onnx_import(m.SerializeAsString(), "missing.onnx"); });
    EXPECT_CONTAINS(msg, "missing.onnx: node 'dense_1/Gemm' (Gemm)");
    EXPECT_CONTAINS(msg, "'dense_1.kernel' must be an initializer");
  }
  {
    onnx::ModelProto m = parse(good);
    onnx::TensorProto* w = m.mutable_graph()->mutable_initializer(2);  // dense_2.kernel (3, 2) -> (4, 2)
    ASSERT_EQ(w->name(), "dense_2.kernel");
    w->set_dims(0, 4);
    w->set_raw_data(std::string(4 * 2 * sizeof(float), '\0'));
    const std::string msg = error_of([&] { onnx_import(m.SerializeAsString(), "chain.onnx"); });
    EXPECT_CONTAINS(msg, "chain.onnx: node 'dense_2/Gemm' (Gemm): kernel has shape [4, 2]");
    EXPECT_CONTAINS(msg, "do not chain");
  }
  {
    onnx::ModelProto m = parse(good);
    m.mutable_graph()->mutable_node(1)->set_op_type("LRN");
    const std::string msg = error_of([&] { onnx_import(m.SerializeAsString(), "lrn.onnx"); });
    EXPECT_CONTAINS(msg, "lrn.onnx: node 'dense_1/Relu' (LRN) is not an operator nnlab can represent");
  }
  {
    onnx::ModelProto m = parse(good);
    m.mutable_graph()->mutable_initializer(0)->set_raw_data("abc");
    EXPECT_CONTAINS(error_of([&] { onnx_import(m.SerializeAsString(), "short.onnx"); }), "holds 3 bytes");
  }
  EXPECT_CONTAINS(error_of([] { load_onnx("/nonexistent/model.onnx"); }), "/nonexistent/model.onnx");
  {  // a node without outputs inside swish's Sigmoid + Mul (found by a sanitized fuzzing run)
    Case s = make_case("swish", layers(std::make_unique<Dense>(3, "swish")), {4}, 8);
    onnx::ModelProto m = parse(onnx_export(s.model));
    ASSERT_EQ(m.graph().node(2).op_type(), "Mul");
    m.mutable_graph()->mutable_node(2)->clear_output();
    EXPECT_CONTAINS(error_of([&] { onnx_import(m.SerializeAsString(), "nooutput.onnx"); }), "nooutput.onnx");
  }
}

// Random bytes changed in a good file, many times: each result is a model or an nnlab::Error naming
// the file, never a crash or another exception (scripts/fuzz.sh's fuzz_onnx goes further).
TEST(Onnx, RandomlyDamagedFilesNeverCrash) {
  Case c = make_case("mlp",
                     layers(std::make_unique<Dense>(3, "leaky_relu(0.1)"), std::make_unique<BatchNorm>(),
                            std::make_unique<Maxout>(2, 2), std::make_unique<Dense>(2, "softmax")),
                     {4}, 5);
  const std::string good = onnx_export(c.model);
  std::mt19937 rng(17);
  int refused = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::string bad = good;
    const int changes = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < changes; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    try {
      Model m = onnx_import(bad, "damaged.onnx");
      m.predict(c.x);
    } catch (const Error& e) {
      ASSERT_TRUE(nnlab::testing::contains(e.what(), "damaged.onnx")) << e.what();
      ++refused;
    }
  }
  EXPECT_GT(refused, 100);
}

// tests/data/onnx/torch_mlp.onnx and torch_dynamo_mlp.onnx: MLPs exported by torch.onnx.export (the
// TorchScript exporter, opset 17, and the torch.export-based one, PyTorch's default, opset 20);
// keras_mlp.onnx and keras_tf_mlp.onnx: exported by Keras 3's model.export(format="onnx") on the
// torch and the tensorflow backends; each with inputs and its framework's outputs beside it
// (tests/data/onnx/make_*.py made them).
TEST(Onnx, ImportsPyTorchsAndKerassExports) {
  const fs::path dir = fs::path(NNLAB_TEST_DATA) / "onnx";
  for (const std::string name : {"torch_mlp", "torch_dynamo_mlp", "keras_mlp", "keras_tf_mlp"}) {
    SCOPED_TRACE(name);
    Model m = load_onnx((dir / (name + ".onnx")).string());
    const nlohmann::json ref = parse_json(nnlab::testing::read_bytes(dir / (name + ".json")), name + ".json");
    const auto xs = ref.at("input").get<std::vector<std::vector<float>>>();
    const auto ys = ref.at("output").get<std::vector<std::vector<float>>>();
    Tensor x({static_cast<int64_t>(xs.size()), static_cast<int64_t>(xs[0].size())});
    for (size_t r = 0; r < xs.size(); ++r) std::copy(xs[r].begin(), xs[r].end(), x.data() + r * xs[0].size());
    const Tensor y = m.predict(x);
    ASSERT_EQ(y.cols(), static_cast<int64_t>(ys[0].size()));
    for (size_t r = 0; r < ys.size(); ++r)
      for (size_t k = 0; k < ys[r].size(); ++k)
        EXPECT_NEAR(y.at(static_cast<int64_t>(r), static_cast<int64_t>(k)), ys[r][k], 1e-5f);
  }
}

void add_node(onnx::GraphProto& g, const std::string& op, std::vector<std::string> in, const std::string& out,
              std::optional<std::pair<std::string, int64_t>> attr = std::nullopt) {
  onnx::NodeProto* n = g.add_node();
  n->set_op_type(op);
  n->set_name(out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  if (attr) {
    auto* a = n->add_attribute();
    a->set_name(attr->first);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(attr->second);
  }
}

template <class T>
void add_initializer(onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims, std::vector<T> values) {
  onnx::TensorProto* t = g.add_initializer();
  t->set_name(name);
  for (int64_t d : dims) t->add_dims(d);
  t->set_data_type(std::is_same_v<T, float> ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT64);
  t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

// What exporters write around the layers (Keras's, through torch.onnx.export): Casts to float, the
// flatten as a Reshape to a computed (batch, -1), an initializer shared through Identity, and
// per-feature affine maps as constant Mul, Sub, Div and Add. Right after a dense layer the map is
// folded into it; after an activation it is a batch_norm. Checked against the same arithmetic by hand.
TEST(Onnx, ImportsShapeArithmeticCastsAndConstantArithmetic) {
  Case whole = make_case("whole", layers(std::make_unique<Flatten>(), std::make_unique<Dense>(4, "relu"),
                                         std::make_unique<Dense>(3, "softmax")), {2, 3}, 33);
  Case last = make_case("last", layers(std::make_unique<Dense>(3, "softmax")), {4}, 34);
  std::map<std::string, NamedTensor> w;
  for (NamedTensor& t : whole.model.named_tensors()) w.emplace(t.name, t);
  for (NamedTensor& t : last.model.named_tensors()) {
    const auto& from = w.at("dense_2." + t.name.substr(t.name.find('.') + 1)).value;
    std::copy(from.begin(), from.end(), t.value.begin());
  }
  const std::vector<float> scale{0.5f, -2.0f, 1.5f, 3.0f}, mean{0.1f, -0.2f, 0.3f, 0.0f}, shift{1.0f, 0.5f, -0.5f, 2.0f};
  const int64_t n = whole.x.shape()[0];
  Tensor h({n, 4});
  for (int64_t r = 0; r < n; ++r)
    for (int64_t j = 0; j < 4; ++j) {
      float z = w.at("dense_1.bias").value[static_cast<size_t>(j)];
      for (int64_t i = 0; i < 6; ++i) z += whole.x.data()[r * 6 + i] * w.at("dense_1.kernel").value[static_cast<size_t>(i * 4 + j)];
      const float a = std::max(0.0f, z * scale[static_cast<size_t>(j)]);
      h.at(r, j) = (a - mean[static_cast<size_t>(j)]) / 2.0f + shift[static_cast<size_t>(j)];
    }
  const Tensor want = last.model.predict(h);

  onnx::ModelProto m = parse(onnx_export(whole.model));
  const onnx::GraphProto old = m.graph();
  onnx::GraphProto& g = *m.mutable_graph();
  g.clear_node();
  const std::string in = old.input(0).name();
  add_initializer<int64_t>(g, "zero", {}, {0});
  add_initializer<int64_t>(g, "axes", {1}, {0});
  add_initializer<int64_t>(g, "minus_one", {1}, {-1});
  add_initializer<float>(g, "scale", {4}, scale);
  add_initializer<float>(g, "mean", {1, 4}, mean);
  add_initializer<float>(g, "two", {}, {2.0f});
  add_initializer<float>(g, "shift", {4}, shift);
  add_node(g, "Identity", {"shift"}, "shift_again");
  add_node(g, "Cast", {in}, "x", std::pair<std::string, int64_t>{"to", onnx::TensorProto::FLOAT});
  add_node(g, "Shape", {"x"}, "shape");
  add_node(g, "Gather", {"shape", "zero"}, "batch", std::pair<std::string, int64_t>{"axis", 0});
  add_node(g, "Unsqueeze", {"batch", "axes"}, "batch_list");
  add_node(g, "Concat", {"batch_list", "minus_one"}, "target", std::pair<std::string, int64_t>{"axis", 0});
  add_node(g, "Reshape", {"x", "target"}, "flat");
  std::string cur = "flat";
  for (const auto& node : old.node()) {
    if (node.op_type() == "Flatten") continue;
    onnx::NodeProto* copy = g.add_node();
    *copy = node;
    copy->set_input(0, cur);
    cur = node.output(0);
    if (node.op_type() == "Gemm" && node.name().find("dense_1") != std::string::npos) {
      add_node(g, "Mul", {"scale", cur}, cur + "_scaled");  // the constant first: Mul commutes
      cur += "_scaled";
    }
    if (node.op_type() == "Relu") {
      add_node(g, "Sub", {cur, "mean"}, "centred");
      add_node(g, "Div", {"centred", "two"}, "halved");
      add_node(g, "Add", {"shift_again", "halved"}, "shifted");
      cur = "shifted";
    }
  }
  ASSERT_EQ(cur, old.output(0).name()) << "the exported graph ends where it did";
  Model back = onnx_import(m.SerializeAsString(), "keras-like.onnx");
  ASSERT_EQ(back.num_layers(), 4u) << back.config().dump();
  EXPECT_EQ(back.layer(1).config()["activation"], "relu") << "the scale folded into the dense layer";
  EXPECT_EQ(back.layer(2).config()["type"], "batch_norm") << "the map after the activation";
  const Tensor got = back.predict(whole.x);
  for (int64_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6f) << i;

  // Refused, naming the node: a Reshape to another shape, a Cast to int, constant - x.
  auto node_named = [](onnx::ModelProto& model, const std::string& name) -> onnx::NodeProto& {
    for (auto& node : *model.mutable_graph()->mutable_node())
      if (node.name() == name) return node;
    throw std::runtime_error("no node " + name);
  };
  onnx::ModelProto bad = m;
  add_initializer<int64_t>(*bad.mutable_graph(), "three", {1}, {3});
  node_named(bad, "target").set_input(1, "three");
  EXPECT_CONTAINS(error_of([&] { onnx_import(bad.SerializeAsString(), "b.onnx"); }),
                  "b.onnx: node 'flat' (Reshape): shape [batch, 3]; nnlab reads a Reshape as a flatten, to (-1, 6) "
                  "or (batch, -1), as its reshape layer");
  bad = m;
  node_named(bad, "x").mutable_attribute(0)->set_i(onnx::TensorProto::INT64);
  EXPECT_CONTAINS(error_of([&] { onnx_import(bad.SerializeAsString(), "b.onnx"); }),
                  "b.onnx: node 'x' (Cast): a cast to type 7; nnlab computes in float32");
  bad = m;
  onnx::NodeProto& sub = node_named(bad, "centred");
  sub.set_input(1, sub.input(0));
  sub.set_input(0, "mean");
  EXPECT_CONTAINS(error_of([&] { onnx_import(bad.SerializeAsString(), "b.onnx"); }),
                  "b.onnx: node 'centred' (Sub): nnlab reads Sub only with a constant after the value");
  // An Add of three inputs (a damaged file fuzz_onnx found, which once made the import loop forever).
  bad = m;
  node_named(bad, "shifted").add_input("shift");
  node_named(bad, "shifted").set_input(0, "halved");
  node_named(bad, "shifted").set_input(1, "shift_again");
  EXPECT_CONTAINS(error_of([&] { onnx_import(bad.SerializeAsString(), "b.onnx"); }),
                  "b.onnx: node 'shifted' (Add): nnlab reads Add only of the value and a constant (two inputs");
}

// Ensembles of three members (softmax outputs, and single sigmoid outputs) for each combination:
// ONNX Runtime's "output" and "class" must be nnlab's combine_* outputs and decisions.
void write_ensemble_cases(const fs::path& out) {
  for (const int64_t cols : {4, 1}) {
    const std::string act = cols == 1 ? "sigmoid" : "softmax";
    std::vector<Case> members;
    for (uint32_t k = 0; k < 3; ++k)
      members.push_back(make_case("m", layers(std::make_unique<Dense>(6, "relu"), std::make_unique<Dense>(cols, act)), {5},
                                  100 + k * 7 + static_cast<uint32_t>(cols)));
    Tensor x = random_input({5}, 64, 7);
    std::vector<Tensor> outs;
    std::vector<Model*> ptrs;
    for (Case& m : members) {
      outs.push_back(m.model.predict(x));
      ptrs.push_back(&m.model);
    }
    Case combiner = make_case("c", layers(std::make_unique<Dense>(cols, act)), {3 * cols}, 55);
    for (const std::string comb : {"vote", "average", "stacking"}) {
      const EnsemblePrediction p = comb == "vote"      ? combine_vote(outs)
                                   : comb == "average" ? combine_average(outs)
                                                       : combine_stacking(combiner.model, outs);
      const fs::path dir = out / ("ensemble_" + comb + (cols == 1 ? "_sigmoid" : ""));
      fs::create_directories(dir);
      nnlab::testing::write_file(dir / "model.onnx", onnx_export_ensemble(ptrs, comb, &combiner.model));
      write_floats(dir / "input.f32", x);
      write_floats(dir / "output.f32", p.outputs);
      std::ofstream(dir / "class.i64", std::ios::binary)
          .write(reinterpret_cast<const char*>(p.classes.data()), static_cast<std::streamsize>(p.classes.size() * 8));
      std::ofstream(dir / "shapes.json") << nlohmann::json{{"input", x.shape()}, {"output", p.outputs.shape()}}.dump();
    }
  }
}

TEST(Onnx, EnsembleNeedsAKnownCombinationAndMatchingMembers) {
  Case a = make_case("a", layers(std::make_unique<Dense>(3, "softmax")), {4}, 1);
  Case b = make_case("b", layers(std::make_unique<Dense>(2, "softmax")), {4}, 2);
  EXPECT_CONTAINS(error_of([&] { onnx_export_ensemble({&a.model, &b.model}, "average", nullptr); }),
                  "ensemble member 2 has shapes");
  EXPECT_CONTAINS(error_of([&] { onnx_export_ensemble({&a.model}, "median", nullptr); }), "'median' is not vote");
  EXPECT_CONTAINS(error_of([&] { onnx_export_ensemble({&a.model}, "stacking", nullptr); }), "stacking needs");
}

// Keras's exporters (tf2onnx) write a dense layer as MatMul + Add; the bias may come first.
TEST(Onnx, ImportsMatMulAndAddAsDense) {
  Case c = make_case("mlp", layers(std::make_unique<Dense>(5, "relu"), std::make_unique<Dense>(3, "softmax")), {4}, 21);
  onnx::ModelProto m = parse(onnx_export(c.model));
  onnx::GraphProto g = m.graph();
  m.mutable_graph()->clear_node();
  for (const auto& n : g.node()) {
    if (n.op_type() != "Gemm") {
      *m.mutable_graph()->add_node() = n;
      continue;
    }
    onnx::NodeProto* mm = m.mutable_graph()->add_node();
    mm->set_op_type("MatMul");
    mm->add_input(n.input(0));
    mm->add_input(n.input(1));
    mm->add_output(n.output(0) + "_mm");
    onnx::NodeProto* add = m.mutable_graph()->add_node();
    add->set_op_type("Add");
    add->add_input(n.input(2));
    add->add_input(n.output(0) + "_mm");
    add->add_output(n.output(0));
  }
  Model back = onnx_import(m.SerializeAsString(), "matmul.onnx");
  ASSERT_EQ(back.num_layers(), 2u);
  EXPECT_EQ(back.layer(0).config()["activation"], "relu");
  const Tensor a = c.model.predict(c.x), b = back.predict(c.x);
  for (int64_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a.data()[i], b.data()[i], 1e-6f);
  // An Add of two computed values is no bias.
  m.mutable_graph()->mutable_node(1)->set_input(0, m.graph().node(0).output(0));
  EXPECT_CONTAINS(error_of([&] { onnx_import(m.SerializeAsString(), "add.onnx"); }),
                  "nnlab reads an Add only as a dense layer's bias");
}

// The commands: a run folder exports with its experiment's name, imports into a run folder that
// evaluate reads with the same figures, and an operator nnlab has no layer for is one line and exit 1.
class OnnxCli : public nnlab::testing::TempDirTest {};

TEST_F(OnnxCli, ExportImportEvaluate) {
  using nnlab::testing::run_nnlab;
  auto r = run_nnlab("train xor --epochs 3 --quiet --out '" + path("run") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_nnlab("export '" + path("run") + "' --format onnx --out '" + path("xor.onnx") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "(ONNX, opset 17)");
  onnx::ModelProto m = parse(nnlab::testing::read_bytes(path("xor.onnx")));
  std::map<std::string, std::string> props;
  for (const auto& p : m.metadata_props()) props[p.key()] = p.value();
  EXPECT_EQ(props["nnlab.experiment_name"], "xor");
  EXPECT_TRUE(props.count("nnlab.experiment"));
  r = run_nnlab("import '" + path("xor.onnx") + "' --out '" + path("back") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto a = run_nnlab("evaluate '" + path("run") + "'"), b = run_nnlab("evaluate '" + path("back") + "'");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  ASSERT_EQ(b.exit_code, 0) << b.output;
  EXPECT_CONTAINS(b.output, "accuracy");
  EXPECT_EQ(a.output.substr(a.output.find(" on ")), b.output.substr(b.output.find(" on ")));

  // A model from elsewhere carries no experiment: evaluate asks for --dataset, and with it uses the
  // loss the output implies (a sigmoid unit: binary cross-entropy, as xor trains with).
  onnx::ModelProto foreign = m;
  foreign.clear_metadata_props();
  nnlab::testing::write_file(path("foreign.onnx"), foreign.SerializeAsString());
  r = run_nnlab("import '" + path("foreign.onnx") + "' --out '" + path("foreign") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_nnlab("evaluate '" + path("foreign") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "pass --dataset");
  r = run_nnlab("evaluate '" + path("foreign") + "' --dataset xor");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(a.output.substr(a.output.find(" on ")), r.output.substr(r.output.find(" on ")));

  m.mutable_graph()->mutable_node(0)->set_op_type("Conv");
  nnlab::testing::write_file(path("conv.onnx"), m.SerializeAsString());
  r = run_nnlab("import '" + path("conv.onnx") + "' --out '" + path("conv") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  EXPECT_CONTAINS(r.output, "nnlab: error: " + path("conv.onnx") + ": node 'dense_1/Gemm' (Conv) reads NCHW images, "
                           "and the value here is of rank 2");
  EXPECT_FALSE(fs::exists(path("conv"))) << "a refused import leaves no folder";
  r = run_nnlab("export '" + path("run") + "' --format tflite --out '" + path("x") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "--format must be onnx, got 'tflite'");
}

// Imported models (one of them stripped of nnlab's metadata, as a model from elsewhere) make an
// ensemble that evaluate, predict and export take; bad combinations of models are refused.
TEST_F(OnnxCli, ImportedModelsMakeAnEnsemble) {
  using nnlab::testing::run_nnlab;
  std::vector<std::string> imported;
  for (int k : {1, 2}) {
    const std::string run = path("run" + std::to_string(k)), file = path("m" + std::to_string(k) + ".onnx");
    auto r = run_nnlab("train xor --epochs 40 --seed " + std::to_string(k) + " --quiet --out '" + run + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    r = run_nnlab("export '" + run + "' --format onnx --out '" + file + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    if (k == 2) {  // from elsewhere: no experiment, no class names
      onnx::ModelProto m = parse(nnlab::testing::read_bytes(file));
      m.clear_metadata_props();
      nnlab::testing::write_file(file, m.SerializeAsString());
    }
    imported.push_back(path("imported" + std::to_string(k)));
    r = run_nnlab("import '" + file + "' --out '" + imported.back() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  auto r = run_nnlab("ensemble --models '" + imported[0] + "','" + imported[1] + "' --combination vote --out '" + path("ens") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "2 members");

  // The members are the imported models, unchanged; the default combination is the one asked for.
  Ensemble en = load_ensemble(path("ens"));
  ASSERT_EQ(en.size(), 2u);
  EXPECT_EQ(en.default_combination(), Combination::Vote);
  EXPECT_EQ(en.experiment().value("name", ""), "xor") << "the first member's experiment gives the test data";
  Tensor x({4, 2});
  for (int i = 0; i < 4; ++i) {
    x.at(i, 0) = static_cast<float>(i / 2);
    x.at(i, 1) = static_cast<float>(i % 2);
  }
  std::vector<Tensor> outs;
  for (size_t k = 0; k < 2; ++k) {
    Model original = load_model(path("run" + std::to_string(k + 1)) + "/model.safetensors");
    outs.push_back(original.predict(x));
    const Tensor got = en.member(k).predict(x);
    for (int64_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], outs.back()[i]) << "member " << k + 1;
  }
  const EnsemblePrediction avg = en.predict(x, Combination::Average), want = combine_average(outs);
  for (int64_t i = 0; i < avg.outputs.size(); ++i) EXPECT_EQ(avg.outputs[i], want.outputs[i]);

  r = run_nnlab("evaluate '" + path("ens") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "2 members, default combination vote");
  EXPECT_CONTAINS(r.output, "| **average** |");
  EXPECT_EQ(r.output.find("stacking"), std::string::npos) << r.output;
  r = run_nnlab("export '" + path("ens") + "' --format onnx --out '" + path("ens.onnx") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(parse(nnlab::testing::read_bytes(path("ens.onnx"))).graph().output_size(), 2) << "output and class";

  // Led by the model without an experiment, evaluate needs --dataset.
  r = run_nnlab("ensemble --models '" + imported[1] + "','" + imported[0] + "' --out '" + path("ens2") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(load_ensemble(path("ens2")).experiment().value("name", ""), "xor") << "the first member that has one";
  r = run_nnlab("ensemble --models '" + imported[1] + "' --out '" + path("ens3") + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "evaluate with --dataset");
  r = run_nnlab("evaluate '" + path("ens3") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "names no experiment to take its test data from; pass --dataset");
  r = run_nnlab("evaluate '" + path("ens3") + "' --dataset xor");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "on xor (4 train samples)");

  // Refused: a member whose shapes differ (named), stacking, an experiment as well, no --out.
  Case other = make_case("other", layers(std::make_unique<Dense>(3, "softmax")), {2}, 5);
  save_model(other.model, path("other.safetensors"));
  r = run_nnlab("ensemble --models '" + imported[0] + "','" + path("other.safetensors") + "' --out '" + path("bad") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "member 'member-2'");
  EXPECT_CONTAINS(r.output, "every member must give the same outputs");
  EXPECT_FALSE(fs::exists(path("bad"))) << "a refused ensemble writes nothing";
  r = run_nnlab("ensemble --models '" + imported[0] + "' --combination stacking --out '" + path("bad") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "stacking needs a holdout");
  r = run_nnlab("ensemble xor --models '" + imported[0] + "' --out '" + path("bad") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "not both");
  r = run_nnlab("ensemble --models '" + imported[0] + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, "--out names the ensemble folder");
  r = run_nnlab("ensemble --models '" + path("nothing") + "' --out '" + path("bad") + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_CONTAINS(r.output, path("nothing"));
}

// DISABLED_: run only by tests/onnx_runtime_check.py (--gtest_also_run_disabled_tests).
TEST(OnnxCases, DISABLED_Write) {
  const char* out = std::getenv("NNLAB_ONNX_CASES");
  if (!out) GTEST_SKIP() << "NNLAB_ONNX_CASES is not set (tests/onnx_runtime_check.py sets it)";
  for (Case& c : all_cases()) write_case(fs::path(out) / c.name, c.model, c.x, {{"nnlab.experiment_name", c.name}});
  write_ensemble_cases(out);
  if (const char* run = std::getenv("NNLAB_ONNX_RUN")) {
    std::map<std::string, std::string> meta;
    Model m = load_model((fs::path(run) / "model.safetensors").string(), &meta);
    const Experiment e = Experiment::from_json(parse_json(meta.at("nnlab.experiment"), run), run);
    const DataSources data = load_sources(e.data);
    const auto* test = dynamic_cast<const InMemoryDataset*>(data.test.get());
    ASSERT_NE(test, nullptr);
    // The rows as the model's samples (a CNN's images: (n, 28, 28, 1), as ONNX's input is).
    Shape shape{test->x().rows()};
    shape.insert(shape.end(), m.input_shape().begin(), m.input_shape().end());
    Tensor x(shape);
    std::copy(test->x().data(), test->x().data() + test->x().size(), x.data());
    write_case(fs::path(out) / "run", m, x);
  }
}
