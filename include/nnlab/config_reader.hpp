// ConfigReader: reads typed options out of a JSON object and refuses unknown keys, so every
// options struct is filled and validated in one place with the bad key or value in the message.
#pragma once
#include <algorithm>
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
  // Options with a fixed list of keys, worded the way a Keras user passes them (an optimizer's:
  // "optimizer 'adam': beta_1 must be in [0, 1); received beta_1=1.5"). Null means all defaults; a
  // key outside `keys` is refused before any value is read, naming them in order.
  ConfigReader(const nlohmann::json& object, std::string where, std::vector<std::string> keys)
      : obj_(object.is_null() ? nlohmann::json::object() : object), where_(std::move(where)), keys_(std::move(keys)) {
    if (!obj_.is_object()) throw Error(where_ + ": options must be a JSON object; received " + obj_.dump());
    for (const auto& [key, value] : obj_.items()) {
      if (std::find(keys_.begin(), keys_.end(), key) != keys_.end()) continue;
      std::string valid;
      for (const auto& k : keys_) valid += (valid.empty() ? "" : ", ") + k;
      throw Error(where_ + ": unknown option '" + key + "' (received " + key + "=" + value.dump() +
                  "); valid options: " + valid);
    }
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
  // A setting used in float32 arithmetic but kept as the double written (0.001 stays 0.001 in a
  // saved config): one beyond float's range would become infinity there.
  double get_float32(const std::string& key, double fallback) {
    used_.insert(key);
    if (!obj_.contains(key)) return fallback;
    return real(key, 3.4e38, "a finite number of magnitude at most 3.4e38 (updates run in float32)");
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
        throw Error(where_ + ": unknown key '" + it.key() + "' (" + (known.empty() ? "it takes no options" : "known: " + known) + ")");
      }
    }
  }
  const std::string& where() const { return where_; }

 private:
  // "where: 'key' must be RULE, got VALUE"; with a fixed key list "where: key must be RULE; received key=VALUE".
  [[noreturn]] void refuse(const std::string& key, const std::string& rule, const std::string& value) const {
    throw Error(keys_.empty() ? where_ + ": '" + key + "' must be " + rule + ", got " + value
                              : where_ + ": " + key + " must be " + rule + "; received " + key + "=" + value);
  }
  // The value as written; without a fixed key list a non-finite number (JSON's null) is named.
  std::string shown(const nlohmann::json& v) const {
    if (!keys_.empty() || !v.is_number_float() || std::isfinite(v.get<double>())) return v.dump();
    return std::isnan(v.get<double>()) ? "nan" : v.get<double>() > 0 ? "inf" : "-inf";
  }
  // A number of magnitude at most `limit` (so finite), as a double.
  double real(const std::string& key, double limit, const std::string& rule) const {
    const auto& v = obj_.at(key);
    if (!v.is_number()) refuse(key, "a number", v.dump());
    const double d = v.get<double>();
    if (!(std::fabs(d) <= limit)) refuse(key, rule, shown(v));
    return d;
  }
  // Whole numbers are read as 64-bit and range-checked against T, so nothing narrows silently;
  // real numbers must be finite and fit T (1e300 is no float).
  template <class T>
  T convert(const std::string& key) const {
    const auto& v = obj_.at(key);
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) refuse(key, "true or false", v.dump());
    } else if constexpr (std::is_integral_v<T>) {
      const std::string range = "a whole number from " + std::to_string(std::numeric_limits<T>::min()) + " to " +
                                std::to_string(std::numeric_limits<T>::max());
      const auto check_range = [&](bool ok) {
        if (!ok) refuse(key, range, v.dump());
      };
      if (v.is_number_unsigned()) {
        check_range(v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
        return static_cast<T>(v.get<uint64_t>());
      }
      if (v.is_number_integer()) {
        const int64_t i = v.get<int64_t>();
        check_range(i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                    (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())));
        return static_cast<T>(i);
      }
      check_range(v.is_number_float());
      const double d = v.get<double>();
      // 2^63 as a double; a double in [-2^63, 2^63) converts to int64 exactly when it is whole.
      check_range(std::isfinite(d) && d == std::trunc(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0);
      const auto i = static_cast<int64_t>(d);
      check_range(i >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                  (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(std::numeric_limits<T>::max())));
      return static_cast<T>(i);
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<T>(real(key, static_cast<double>(std::numeric_limits<T>::max()),
                                 std::string("a finite number") + (sizeof(T) == 4 ? " of magnitude at most 3.4e38" : "")));
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) refuse(key, "a string", v.dump());
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
  std::vector<std::string> keys_;  // the fixed key list, in order; empty: any key a get/require asks for
};

}  // namespace nnlab
