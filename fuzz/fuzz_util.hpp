// Shared by the libFuzzer targets: each target hands the fuzzer's bytes to one reader of untrusted
// input, the way the command line would. A refusal (nnlab::Error, whose message names the file and
// the problem) is the expected outcome for bad bytes; anything else is a finding: a sanitizer
// report, a timeout, an allocation over the fuzzer's limit, or any other exception (a raw library
// message that names no file, std::bad_alloc from an unchecked size), which aborts here.
#pragma once
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>

#include "nnlab/error.hpp"

namespace nnlab::fuzz {

// A file that exists for one input, in a per-process folder (on /dev/shm when there is one).
inline std::string scratch_path(const std::string& name) {
  static const std::string dir = [] {
    std::error_code ec;
    const std::filesystem::path base = std::filesystem::is_directory("/dev/shm", ec)
                                           ? std::filesystem::path("/dev/shm")
                                           : std::filesystem::temp_directory_path();
    const auto d = base / ("nnlab-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
  }();
  return dir + "/" + name;
}

inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = scratch_path(name);
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

// Runs f; an nnlab::Error is a refusal, any other exception aborts with its message.
template <class F>
void expect_refusal_or_success(F&& f) {
  try {
    f();
  } catch (const nnlab::Error&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nnlab fuzz: not an nnlab::Error (%s): %s\n", typeid(e).name(), e.what());
    std::abort();
  }
}

// Splits the input at a point given by its first two bytes, for readers that take two files.
inline void split(const uint8_t* data, size_t size, std::string_view& a, std::string_view& b) {
  a = b = {};
  if (size < 2) return;
  const size_t at = std::min<size_t>(size - 2, (size_t{data[0]} << 8 | data[1]));
  const char* p = reinterpret_cast<const char*>(data + 2);
  a = std::string_view(p, at);
  b = std::string_view(p + at, size - 2 - at);
}

}  // namespace nnlab::fuzz
