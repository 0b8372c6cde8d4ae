// ConfigReader: reads typed options out of a JSON object and refuses unknown keys, so every
// options struct is filled and validated in one place with the bad key or value in the message.
#pragma once
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "nnlab/error.hpp"

namespace nnlab {

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
  template <class T>
  T convert(const std::string& key) const {
    const auto& v = obj_.at(key);
    if constexpr (std::is_same_v<T, bool>) {
      check(v.is_boolean(), where_ + ": '" + key + "' must be true or false, got " + v.dump());
    } else if constexpr (std::is_integral_v<T>) {
      check(v.is_number_integer() || (v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<int64_t>(v.get<double>()))),
            where_ + ": '" + key + "' must be a whole number, got " + v.dump());
    } else if constexpr (std::is_floating_point_v<T>) {
      check(v.is_number(), where_ + ": '" + key + "' must be a number, got " + v.dump());
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
