// Numbers as text without loss: the shortest text that reads back as the same value (std::to_chars),
// for messages, names and settings: 1e-07 stays 1e-07, 0.1f is "0.1", 3 is "3", NaN is "nan".
// std::to_string's six decimals would print 1e-7 as 0.000000.
#pragma once
#include <charconv>
#include <string>

namespace nnlab {

inline std::string number_str(double v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

inline std::string number_str(float v) {
  char buf[32];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

}  // namespace nnlab
