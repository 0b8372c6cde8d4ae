// The ONNX tests' shared cases (tests/test_onnx.cpp, tests/test_onnx_image.cpp): a model with random
// weights and inputs, its files for tests/onnx_runtime_check.py, and a graph's computation for
// comparing two exports.
#pragma once
#include <onnx/onnx_pb.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "nnlab/io/onnx.hpp"
#include "nnlab/model.hpp"

namespace nnlab::testing::onnx_cases {

struct Case {
  std::string name;
  Model model;
  Tensor x;  // (batch, input...)
};

// Parameters and running statistics drawn at random (variances positive), so a wrong formula or
// layout shows; inputs in [-3, 3) reach both sides of every activation's kink.
inline void randomise(Model& m, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (NamedTensor& t : m.named_tensors()) {
    const bool variance = t.name.find("moving_variance") != std::string::npos;
    for (float& v : t.value) v = variance ? 0.2f + std::fabs(u(rng)) : u(rng);
  }
}

inline Tensor random_input(Shape sample, int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-3.0f, 3.0f);
  Shape s{n};
  s.insert(s.end(), sample.begin(), sample.end());
  Tensor x(s);
  for (int64_t i = 0; i < x.size(); ++i) x.data()[i] = u(rng);
  return x;
}

inline Case make_case(std::string name, std::vector<std::unique_ptr<Layer>> layers, Shape input, uint32_t seed) {
  Case c{std::move(name), Model(), {}};
  for (auto& l : layers) c.model.add(std::move(l));
  c.model.build(input, seed);
  randomise(c.model, seed);
  c.x = random_input(input, 7, seed + 1);
  return c;
}

template <class... L>
inline std::vector<std::unique_ptr<Layer>> layers(std::unique_ptr<L>... l) {
  std::vector<std::unique_ptr<Layer>> v;
  (v.push_back(std::move(l)), ...);
  return v;
}

inline void write_floats(const std::filesystem::path& p, const Tensor& t) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(t.data()), static_cast<std::streamsize>(t.size() * sizeof(float)));
}

// One case for onnx_runtime_check.py: model.onnx, input.f32, output.f32 and their shapes.
inline void write_case(const std::filesystem::path& dir, Model& m, const Tensor& x, const std::map<std::string, std::string>& meta = {}) {
  std::filesystem::create_directories(dir);
  save_onnx(m, (dir / "model.onnx").string(), meta);
  const Tensor y = m.predict(x);
  write_floats(dir / "input.f32", x);
  write_floats(dir / "output.f32", y);
  std::ofstream(dir / "shapes.json") << nlohmann::json{{"input", x.shape()}, {"output", y.shape()}}.dump();
}

inline onnx::ModelProto parse(const std::string& bytes) {
  onnx::ModelProto m;
  EXPECT_TRUE(m.ParseFromString(bytes));
  return m;
}

// The graph's computation: the operators with their attributes and the initializers' values in
// order, leaving out the names nnlab gives values (which follow its layers' names).
inline std::string computation(const std::string& bytes) {
  const onnx::ModelProto m = parse(bytes);
  std::string s;
  for (const auto& n : m.graph().node()) {
    s += n.op_type() + "(";
    for (const auto& a : n.attribute()) s += a.ShortDebugString() + ";";
    s += ")\n";
  }
  for (const auto& t : m.graph().initializer()) {
    s += std::to_string(t.data_type()) + ":";
    for (int64_t d : t.dims()) s += std::to_string(d) + ",";
    s += t.raw_data() + "|";
    for (int64_t v : t.int64_data()) s += std::to_string(v) + ",";
    s += "\n";
  }
  return s;
}

}  // namespace nnlab::testing::onnx_cases
