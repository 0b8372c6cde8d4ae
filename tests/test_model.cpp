#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "nnlab/nnlab.hpp"

using namespace nnlab;
namespace fs = std::filesystem;

static Model course_mlp(int64_t outputs) {
  Model m;
  m.add<Dense>(1024, "relu").add<Dense>(512, "relu").add<Dense>(256, "relu").add<Dense>(outputs, "softmax");
  m.build({784}, 1);
  return m;
}

TEST(Model, ParameterCountsOfTheCourseNetworks) {
  Model x;
  x.add<Dense>(8, "relu").add<Dense>(1, "sigmoid");
  x.build({2});
  EXPECT_EQ(x.param_count(), 33);
  EXPECT_EQ(course_mlp(24).param_count(), 1466136);
  EXPECT_EQ(course_mlp(10).param_count(), 1462538);
  Model mo;
  mo.add<Maxout>(16, 3);
  mo.build({10});
  EXPECT_EQ(mo.param_count(), 10 * 48 + 48);
}

TEST(Model, SummaryListsLayersShapesAndTotals) {
  const std::string s = course_mlp(24).summary();
  EXPECT_NE(s.find("dense_1 (dense(1024, relu))"), std::string::npos) << s;
  EXPECT_NE(s.find("(None, 24)"), std::string::npos) << s;
  EXPECT_NE(s.find("803,840"), std::string::npos) << s;  // 784 * 1024 + 1024
  EXPECT_NE(s.find("Total params: 1,466,136"), std::string::npos) << s;
}

TEST(Model, SummaryShowsRatesAsWritten) {
  Model m;
  m.add<Dense>(8, "relu");
  m.add<Dropout>(0.3f);
  m.build({4});
  const std::string s = m.summary();
  EXPECT_NE(s.find("(dropout(0.3))"), std::string::npos) << s;  // not the float's 0.30000001192092896
}

TEST(Model, GlorotUniformWeightsAndZeroBiases) {
  Model m;
  m.add<Dense>(300, "relu");
  m.build({200}, 5);
  auto t = m.named_tensors();
  ASSERT_EQ(t.size(), 2u);
  const float limit = std::sqrt(6.0f / 500.0f);
  float lo = 1, hi = -1;
  for (float v : t[0].value) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_GE(lo, -limit);
  EXPECT_LE(hi, limit);
  EXPECT_LT(lo, -0.95f * limit);  // the range is used, not a narrower one
  EXPECT_GT(hi, 0.95f * limit);
  for (float v : t[1].value) EXPECT_EQ(v, 0.0f);
}

TEST(Model, SameSeedSameWeights) {
  auto a = course_mlp(10), b = course_mlp(10);
  EXPECT_TRUE(std::equal(a.params().begin(), a.params().end(), b.params().begin()));
}

TEST(Model, ConfigRoundTripRebuildsTheSameArchitecture) {
  Model m;
  m.add<Flatten>().add<Dense>(DenseOptions{7, "leaky_relu(0.1)", true, "he_normal"}).add<Maxout>(3, 2).add<ActivationLayer>("softmax");
  m.build({2, 3});
  Model r = Model::from_config(m.config());
  EXPECT_EQ(r.config(), m.config());
  EXPECT_EQ(r.param_count(), m.param_count());
}

TEST(Model, BadShapesGiveClearErrors) {
  Model m;
  m.add<Dense>(4);
  m.build({3});
  Tensor x({2, 5});
  try {
    m.forward(x, Mode::Infer);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("5 features"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Dense(0), Error);
  EXPECT_THROW(Dense(3, "relux"), Error);
  EXPECT_THROW(Maxout(3, 1), Error);
  Model dense_on_image;
  dense_on_image.add<Dense>(4);
  EXPECT_THROW(dense_on_image.build({28, 28}), Error);
  EXPECT_THROW(make_layer({{"type", "dense"}, {"units", 3}, {"unit", 4}}), Error);
  try {
    make_layer({{"type", "dens"}});
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'dens'"), std::string::npos) << e.what();
  }
}

TEST(Model, PredictInBatchesGivesTheOutputsOfOneBatch) {
  Model m;
  m.add<Dense>(16, "relu").add<Dense>(5, "softmax");
  m.build({6}, 9);
  Rng rng(4);
  Tensor x({20, 6});
  for (float& v : x.span()) v = rng.normal(0, 1);
  const Tensor whole = m.predict(x, 20);
  const Tensor batched = m.predict(x, 7);  // 7, 7 and a short 6
  std::vector<float> raw(whole.size());
  m.predict(x.data(), 20, raw.data(), 3);  // over memory the model does not own
  ASSERT_EQ(batched.shape(), whole.shape());
  for (int64_t i = 0; i < whole.size(); ++i) {
    EXPECT_NEAR(batched.data()[i], whole.data()[i], 1e-6) << i;
    EXPECT_NEAR(raw[static_cast<size_t>(i)], whole.data()[i], 1e-6) << i;
  }
  EXPECT_THROW(m.predict(Tensor({30, 5}), 7), Error) << "5 features for a 6-input model";
  EXPECT_THROW(m.predict(x, -1), Error);
  const Tensor automatic = m.predict(x, 0);  // infer_batch_size(): all 20 in one batch
  EXPECT_EQ(std::memcmp(automatic.data(), whole.data(), sizeof(float) * static_cast<size_t>(whole.size())), 0);
}

// Inference batches hold at most 16 MiB of layer outputs: a dense network keeps the most it is given;
// fashion-cnn's layers write 91,210 values (365 KB) an image, so 45 images.
TEST(Model, InferBatchSizeFitsTheLayerOutputsIn16MiB) {
  Model dense;
  dense.add<Dense>(1024, "relu").add<Dense>(10, "softmax");
  dense.build({784});
  EXPECT_EQ(dense.infer_batch_size(), 256);
  EXPECT_EQ(dense.infer_batch_size(1000), 1000);  // 1034 values an image: 4,056 fit
  EXPECT_EQ(dense.infer_batch_size(5000), 16777216 / (4 * 1034));
  Model cnn = Model::from_config(nlohmann::json::parse(R"({"input": [28, 28, 1], "layers": [
      {"type": "conv2d", "filters": 32, "kernel_size": 3, "padding": "same", "activation": "relu"},
      {"type": "batch_norm"}, {"type": "max_pool2d", "pool_size": 2},
      {"type": "conv2d", "filters": 64, "kernel_size": 3, "padding": "same", "activation": "relu"},
      {"type": "batch_norm"}, {"type": "max_pool2d", "pool_size": 2}, {"type": "dropout", "rate": 0.25},
      {"type": "flatten"}, {"type": "dense", "units": 128, "activation": "relu"}, {"type": "dropout", "rate": 0.5},
      {"type": "dense", "units": 10, "activation": "softmax"}]})"));
  EXPECT_EQ(cnn.infer_batch_size(), 16777216 / (4 * 91210));
  EXPECT_EQ(cnn.infer_batch_size(), 45);
  EXPECT_EQ(cnn.infer_batch_size(10), 10);
}

TEST(Model, SaveAndLoadGiveBitIdenticalPredictions) {
  Model m;
  m.add<Dense>(16, "relu").add<Maxout>(8, 3).add<Dense>(5, "softmax");
  m.build({6}, 9);
  Rng rng(4);
  Tensor x({20, 6});
  for (float& v : x.span()) v = rng.normal(0, 1);
  const Tensor before = m.predict(x);
  const fs::path dir = fs::temp_directory_path() / "nnlab_test_model";
  fs::create_directories(dir);
  const std::string path = (dir / "m.safetensors").string();
  save_model(m, path, {{"note", "hello"}});
  std::map<std::string, std::string> meta;
  Model r = load_model(path, &meta);
  EXPECT_EQ(meta["note"], "hello");
  const Tensor after = r.predict(x);
  ASSERT_EQ(after.size(), before.size());
  EXPECT_EQ(0, std::memcmp(after.data(), before.data(), sizeof(float) * before.size()));
  EXPECT_EQ(r.summary(), m.summary());

  // A truncated copy is refused with the file named.
  const std::string bytes = read_file(path);
  const std::string cut = (dir / "cut.safetensors").string();
  write_file_atomic(cut, bytes.substr(0, bytes.size() - 10));
  try {
    load_model(cut);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cut.safetensors"), std::string::npos) << e.what();
  }
  // A model file whose tensors do not match its architecture is refused.
  SafetensorsFile f = read_safetensors(path);
  f.tensors["dense_1.kernel"] = Tensor({6, 15});
  const std::string bad = (dir / "mismatch.safetensors").string();
  write_safetensors(bad, f);
  EXPECT_THROW(load_model(bad), Error);
  fs::remove_all(dir);
}
