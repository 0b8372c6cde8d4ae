// The .nnds format's magic and limits, shared by its writer and reader (private to src/data/binary/).
#pragma once
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace nnlab::nnds {

static_assert(std::endian::native == std::endian::little, "the binary dataset format is written little-endian");

inline constexpr char kMagic[8] = {'N', 'N', 'L', 'A', 'B', 'D', 'S', '1'};
inline constexpr size_t kAlign = 64;
inline constexpr uint32_t kMaxDims = 8;
inline constexpr uint64_t kMaxDim = uint64_t{1} << 31;
inline constexpr uint32_t kMaxTargetWidth = uint32_t{1} << 20;
inline constexpr uint32_t kMaxClasses = uint32_t{1} << 24;
inline constexpr uint32_t kMaxNameBytes = 4096;

inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

}  // namespace nnlab::nnds
