// LabelMap: the declared set of raw labels of a classification dataset, mapped in sorted order to
// the network's outputs 0..k-1, with a name for each class. Sign Language MNIST declares 0-24
// without 9 (J needs motion): 24 classes, raw 10 -> output 9 -> "K".
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nnlab {

class LabelMap {
 public:
  LabelMap() = default;  // empty: "no declared set" (readers then take the labels found in the data)
  // raw[i] is named names[i] (default: the number itself); raw labels must be distinct and >= 0.
  explicit LabelMap(std::vector<int64_t> raw, std::vector<std::string> names = {});

  static LabelMap range(int64_t k, std::vector<std::string> names = {});  // 0..k-1
  static LabelMap mnist();                // 0-9 named "0".."9"
  static LabelMap fashion_mnist();        // 0-9 named "T-shirt/top" .. "Ankle boot"
  static LabelMap sign_language_mnist();  // 0-24 without 9, named "A".."Y" without "J"

  int64_t size() const { return static_cast<int64_t>(raw_.size()); }
  bool empty() const { return raw_.empty(); }

  std::optional<int64_t> find(int64_t raw) const;  // the output of a raw label, if declared
  int64_t output(int64_t raw) const;               // throws nnlab::Error when not declared
  int64_t raw(int64_t output) const;               // throws when output is not in [0, size)
  const std::string& name(int64_t output) const;   // throws when output is not in [0, size)
  std::optional<int64_t> output_of_name(std::string_view name) const;

  const std::vector<int64_t>& raw_labels() const { return raw_; }  // sorted
  const std::vector<std::string>& names() const { return names_; }  // by output
  std::string describe() const;  // the declared set in ranges, e.g. "{0-8, 10-24}"

 private:
  std::vector<int64_t> raw_;  // sorted ascending; output i has raw label raw_[i]
  std::vector<std::string> names_;
};

}  // namespace nnlab
