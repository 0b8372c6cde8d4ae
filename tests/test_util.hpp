// Small helpers shared by the tests that check files and error messages.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>

#include "nnlab/error.hpp"

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

}  // namespace nnlab::testing

#define EXPECT_CONTAINS(h, n) \
  EXPECT_TRUE(nnlab::testing::contains((h), (n))) << "message: " << (h) << "\nlacks: " << (n)
