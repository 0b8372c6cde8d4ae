// ConfigReader: reads typed options out of a JSON object and refuses unknown keys, so every
// options struct is filled and validated in one place with the bad key or value in the message.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nnlab/error.hpp"

namespace nnlab {

// The deepest nesting of lists and tables nnlab reads; real experiments and models nest about five
// levels. Copying, printing or comparing a JSON value recurses once per level, so a value nested
// 100,000 deep would overflow the stack: check_json_depth refuses it first, without recursing.
inline constexpr int kMaxJsonDepth = 64;

inline void check_json_depth(const nlohmann::json& value, const std::string& where) {
  std::vector<std::pair<const nlohmann::json*, int>> stack{{&value, 1}};
  while (!stack.empty()) {
    const auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    check(depth <= kMaxJsonDepth, where + ": lists and tables nested more than " + std::to_string(kMaxJsonDepth) +
                                      " levels deep; nnlab reads at most " + std::to_string(kMaxJsonDepth));
    for (const auto& child : *node) stack.emplace_back(&child, depth + 1);
  }
}

// Parses JSON text nnlab did not write itself (an experiment file, a model's or checkpoint's
// metadata): every defect (a syntax error, a number out of range, nesting deeper than
// kMaxJsonDepth) becomes one nnlab::Error that starts with `where` and says "not valid JSON".
inline nlohmann::json parse_json(const std::string& text, const std::string& where) {
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(where + ": not valid JSON: " + e.what());
  }
  check_json_depth(value, where);
  return value;
}

class ConfigReader {
 public:
  // where: how to name this object in messages, e.g. "layer 2 (dense)".
  ConfigReader(const nlohmann::json& object, std::string where) : obj_(object), where_(std::move(where)) {
    check(obj_.is_object(), where_ + ": expected a table/object, got " + obj_.dump());
  }

  bool has(const std::string& key) const { return obj_.contains(key); }

  template <class T>
  T get(const std::string& key, T fallback) {
    used_.insert(key);
    if (!obj_.contains(key)) return fallback;
    return convert<T>(key);
  }
  template <class T>
  T require(const std::string& key) {
    used_.insert(key);
    check(obj_.contains(key), where_ + ": missing required key '" + key + "'");
    return convert<T>(key);
  }
  const nlohmann::json& raw(const std::string& key) {
    used_.insert(key);
    return obj_.at(key);
  }
  // Throws naming the first key that no get/require/raw asked for.
  void finish() const {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!used_.count(it.key())) {
        std::string known;
        for (const auto& k : used_) known += (known.empty() ? "" : ", ") + k;
        throw Error(where_ + ": unknown key '" + it.key() + "' (known: " + known + ")");
      }
    }
  }
  const std::string& where() const { return where_; }

 private:
  // Whole numbers are read as 64-bit and range-checked against T, so nothing narrows silently;
  // real numbers must be finite and fit T (1e300 is no float).
  template <class T>
  T convert(const std::string& key) const {
    const auto& v = obj_.at(key);
    if constexpr (std::is_same_v<T, bool>) {
      check(v.is_boolean(), where_ + ": '" + key + "' must be true or false, got " + v.dump());
    } else if constexpr (std::is_integral_v<T>) {
      const std::string range = "a whole number from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
                                std::to_string(std::numeric_limits<T>::max());
      const std::string bad = where_ + ": '" + key + "' must be " + range + ", got " + v.dump();
      if (v.is_number_unsigned()) {
        check(v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max()), bad);
        return static_cast<T>(v.get<uint64_t>());
      }
      if (v.is_number_integer()) {
        const int64_t i = v.get<int64_t>();
        check(i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                  (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())),
              bad);
        return static_cast<T>(i);
      }
      check(v.is_number_float(), bad);
      const double d = v.get<double>();
      // 2^63 as a double; a double in [-2^63, 2^63) converts to int64 exactly when it is whole.
      check(std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0, bad);
      const auto i = static_cast<int64_t>(d);
      check(i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())),
            bad);
      return static_cast<T>(i);
    } else if constexpr (std::is_floating_point_v<T>) {
      check(v.is_number(), where_ + ": '" + key + "' must be a number, got " + v.dump());
      const double d = v.get<double>();
      check(std::isfinite(d) && std::fabs(d) <= static_cast<double>(std::numeric_limits<T>::max()),
            where_ + ": '" + key + "' must be a finite number" + (sizeof(T) == 4 ? " of magnitude at most 3.4e38" : "") +
                ", got " + (std::isnan(d) ? std::string("nan") : std::isinf(d) ? std::string(d > 0 ? "inf" : "-inf") : v.dump()));
      return static_cast<T>(d);
    } else if constexpr (std::is_same_v<T, std::string>) {
      check(v.is_string(), where_ + ": '" + key + "' must be a string, got " + v.dump());
    }
    try {
      return v.get<T>();
    } catch (const nlohmann::json::exception&) {
      throw Error(where_ + ": '" + key + "' has the wrong type: " + v.dump());
    }
  }

  nlohmann::json obj_;  // a copy: readers are built from temporaries
  std::string where_;
  std::set<std::string> used_;
};

}  // namespace nnlab
