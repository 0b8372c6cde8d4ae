#include "nnlab/data/label_map.hpp"

#include <algorithm>
#include <numeric>

#include "nnlab/error.hpp"

namespace nnlab {

LabelMap::LabelMap(std::vector<int64_t> raw, std::vector<std::string> names) {
  check(names.empty() || names.size() == raw.size(), "label map: " + std::to_string(names.size()) +
                                                         " names for " + std::to_string(raw.size()) + " labels");
  if (names.empty())
    for (int64_t r : raw) names.push_back(std::to_string(r));
  std::vector<size_t> order(raw.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return raw[a] < raw[b]; });
  for (size_t i : order) {
    check(raw[i] >= 0, "label map: raw label " + std::to_string(raw[i]) + " is negative");
    check(raw_.empty() || raw_.back() != raw[i], "label map: raw label " + std::to_string(raw[i]) + " declared twice");
    raw_.push_back(raw[i]);
    names_.push_back(std::move(names[i]));
  }
}

LabelMap LabelMap::range(int64_t k, std::vector<std::string> names) {
  check(k > 0, "label map: need at least one class, got " + std::to_string(k));
  std::vector<int64_t> raw(static_cast<size_t>(k));
  std::iota(raw.begin(), raw.end(), int64_t{0});
  return LabelMap(std::move(raw), std::move(names));
}

LabelMap LabelMap::mnist() { return range(10); }

LabelMap LabelMap::fashion_mnist() {
  return range(10, {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                    "Ankle boot"});
}

LabelMap LabelMap::sign_language_mnist() {
  // Raw label i is the i-th letter of the alphabet; 9 (J) and 25 (Z) need motion and are absent.
  std::vector<int64_t> raw;
  std::vector<std::string> names;
  for (int64_t r = 0; r <= 24; ++r) {
    if (r == 9) continue;
    raw.push_back(r);
    names.emplace_back(1, static_cast<char>('A' + r));
  }
  return LabelMap(std::move(raw), std::move(names));
}

std::optional<int64_t> LabelMap::find(int64_t raw) const {
  const auto it = std::lower_bound(raw_.begin(), raw_.end(), raw);
  if (it == raw_.end() || *it != raw) return std::nullopt;
  return static_cast<int64_t>(it - raw_.begin());
}

int64_t LabelMap::output(int64_t raw) const {
  const auto o = find(raw);
  check(o.has_value(), "label " + std::to_string(raw) + " is not one of the declared labels " + describe());
  return *o;
}

int64_t LabelMap::raw(int64_t output) const {
  check(output >= 0 && output < size(),
        "class " + std::to_string(output) + " is not in [0, " + std::to_string(size()) + ")");
  return raw_[static_cast<size_t>(output)];
}

const std::string& LabelMap::name(int64_t output) const {
  check(output >= 0 && output < size(),
        "class " + std::to_string(output) + " is not in [0, " + std::to_string(size()) + ")");
  return names_[static_cast<size_t>(output)];
}

std::optional<int64_t> LabelMap::output_of_name(std::string_view name) const {
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) return static_cast<int64_t>(i);
  return std::nullopt;
}

std::string LabelMap::describe() const {
  std::string out = "{";
  for (size_t i = 0; i < raw_.size();) {
    size_t j = i;
    while (j + 1 < raw_.size() && raw_[j + 1] == raw_[j] + 1) ++j;
    if (i) out += ", ";
    out += std::to_string(raw_[i]);
    if (j > i) out += (j == i + 1 ? ", " : "-") + std::to_string(raw_[j]);
    i = j + 1;
  }
  return out + "}";
}

}  // namespace nnlab
