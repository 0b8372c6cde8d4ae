// Small helpers shared by the tests that check files and error messages.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/training/history.hpp"

// True in a build with AddressSanitizer (scripts/sanitize.sh): its shadow memory and quarantine count
// in the process's resident memory, so tests that measure memory skip themselves there.
#if defined(__SANITIZE_ADDRESS__)
#define NNLAB_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NNLAB_UNDER_ASAN 1
#endif
#endif
#ifndef NNLAB_UNDER_ASAN
#define NNLAB_UNDER_ASAN 0
#endif

namespace nnlab::testing {

// Runs f, expects an nnlab::Error, and returns its message.
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected nnlab::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected nnlab::Error, nothing was thrown";
  return "";
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// The same tensors, bit for bit, in two safetensors files.
inline bool same_tensors(const std::filesystem::path& a, const std::filesystem::path& b) {
  const SafetensorsFile fa = read_safetensors(a.string()), fb = read_safetensors(b.string());
  if (fa.tensors.size() != fb.tensors.size()) return false;
  for (const auto& [name, t] : fa.tensors) {
    auto it = fb.tensors.find(name);
    if (it == fb.tensors.end() || it->second.size() != t.size()) return false;
    if (std::memcmp(t.data(), it->second.data(), sizeof(float) * static_cast<size_t>(t.size())) != 0) return false;
  }
  return true;
}

// Writes bytes to p, creating its folder.
inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p, std::ios::binary);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(f.good()) << p;
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

// n samples of shape `sample` with class labels in [0, classes) named "class 0"...: pixel values
// k/255 when `pixels`, else uniform in [-3, 3).
inline InMemoryDataset random_dataset(int64_t n, Shape sample, int64_t classes, bool pixels, uint32_t seed) {
  std::mt19937 rng(seed);
  Shape xs{n};
  xs.insert(xs.end(), sample.begin(), sample.end());
  Tensor x(xs), y({n, 1});
  for (float& v : x.span())
    v = pixels ? float(rng() % 256) / 255.0f : std::uniform_real_distribution<float>(-3, 3)(rng);
  for (float& v : y.span()) v = float(rng() % uint32_t(classes));
  InMemoryDataset d(std::move(x), std::move(y), classes);
  for (int64_t c = 0; c < classes; ++c) d.class_names.push_back("class " + std::to_string(c));
  return d;
}

// Expects two datasets to gather exactly the same samples at idx.
inline void expect_same_gather(const Dataset& a, const Dataset& b, std::span<const int64_t> idx) {
  Tensor xa, ya, xb, yb;
  a.gather(idx, xa, ya);
  b.gather(idx, xb, yb);
  ASSERT_EQ(xa.shape(), xb.shape());
  ASSERT_EQ(ya.shape(), yb.shape());
  for (int64_t i = 0; i < xa.size(); ++i) ASSERT_EQ(xa[i], xb[i]) << i;
  for (int64_t i = 0; i < ya.size(); ++i) ASSERT_EQ(ya[i], yb[i]) << i;
}

// A history of epochs 0, 1, ...: loss per epoch, and val_loss, accuracy, val_accuracy and lr for as
// many of the first epochs as they have values.
inline History crafted_history(const std::vector<double>& loss, const std::vector<double>& val_loss,
                               const std::vector<double>& acc = {}, const std::vector<double>& val_acc = {},
                               const std::vector<double>& lr = {}) {
  History h;
  for (size_t i = 0; i < loss.size(); ++i) {
    Logs l{{"loss", loss[i]}};
    if (i < val_loss.size()) l["val_loss"] = val_loss[i];
    if (i < acc.size()) l["accuracy"] = acc[i];
    if (i < val_acc.size()) l["val_accuracy"] = val_acc[i];
    if (i < lr.size()) l["lr"] = lr[i];
    h.epochs.push_back(static_cast<int>(i));
    h.logs.push_back(l);
  }
  return h;
}

// A fixture with a fresh folder per test and process (ctest runs tests as parallel processes):
// tmp/nnlab_<suite>_<pid>_<test>, removed after the test.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("nnlab_" + std::string(info->test_suite_name()) + "_" + std::to_string(::getpid()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

}  // namespace nnlab::testing

#define EXPECT_CONTAINS(h, n) \
  EXPECT_TRUE(nnlab::testing::contains((h), (n))) << "message: " << (h) << "\nlacks: " << (n)
