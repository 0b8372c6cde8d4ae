#include "nnlab/training/history.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "nnlab/error.hpp"

namespace nnlab {

void History::on_epoch_end(int epoch, Logs& l, TrainState&) {
  epochs.push_back(epoch);
  logs.push_back(l);
}

std::vector<double> History::column(const std::string& key) const {
  std::vector<double> out;
  for (const auto& l : logs) {
    auto it = l.find(key);
    out.push_back(it == l.end() ? std::numeric_limits<double>::quiet_NaN() : it->second);
  }
  return out;
}

// Columns in the order a reader expects: loss and metrics first, their validation twins, then the rest.
static std::vector<std::string> ordered_keys(const std::vector<Logs>& logs) {
  std::vector<std::string> keys;
  for (const auto& l : logs)
    for (const auto& [k, _] : l)
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  auto rank = [](const std::string& k) {
    static const std::vector<std::string> first{"loss", "accuracy", "val_loss", "val_accuracy", "lr"};
    auto it = std::find(first.begin(), first.end(), k);
    return it == first.end() ? first.size() : static_cast<size_t>(it - first.begin());
  };
  std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
  return keys;
}

std::string History::to_csv(int digits) const {
  const auto keys = ordered_keys(logs);
  std::ostringstream os;
  os.precision(digits);
  os << "epoch";
  for (const auto& k : keys) os << "," << k;
  os << "\n";
  for (size_t i = 0; i < logs.size(); ++i) {
    os << epochs[i];
    for (const auto& k : keys) {
      os << ",";
      auto it = logs[i].find(k);
      if (it != logs[i].end()) os << it->second;
    }
    os << "\n";
  }
  return os.str();
}

History History::from_csv(const std::string& text, const std::string& source) {
  History h;
  std::istringstream is(text);
  std::string line;
  check(static_cast<bool>(std::getline(is, line)), source + ": empty history file");
  std::vector<std::string> keys;
  {
    std::istringstream hs(line);
    std::string k;
    while (std::getline(hs, k, ',')) keys.push_back(k);
  }
  check(!keys.empty() && keys[0] == "epoch", source + ": line 1: history must start with an 'epoch' column");
  int lineno = 1;
  while (std::getline(is, line)) {
    ++lineno;
    // Every line nnlab writes ends with a newline; a last line without one was cut mid-write.
    check(!is.eof() || text.back() == '\n',
          source + ": line " + std::to_string(lineno) + " is incomplete (no newline at its end: the file was cut?)");
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::istringstream ls(line);
    std::string f;
    while (std::getline(ls, f, ',')) fields.push_back(f);
    if (!line.empty() && line.back() == ',') fields.push_back("");
    check(fields.size() == keys.size(), source + ": line " + std::to_string(lineno) + ": expected " +
                                            std::to_string(keys.size()) + " fields, got " +
                                            std::to_string(fields.size()));
    check(!fields[0].empty(), source + ": line " + std::to_string(lineno) + ": the epoch is missing");
    Logs l;
    int epoch = 0;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].empty()) continue;
      double v = 0;
      try {
        size_t used = 0;
        v = std::stod(fields[i], &used);
        check(used == fields[i].size(), "");
      } catch (const std::exception&) {
        throw Error(source + ": line " + std::to_string(lineno) + ": '" + fields[i] + "' is not a number");
      }
      if (i == 0) {
        check(v >= 0 && v <= 1e9 && v == std::floor(v), source + ": line " + std::to_string(lineno) + ": epoch '" +
                                                             fields[i] + "' is not a whole number from 0 to 1e9");
        epoch = static_cast<int>(v);
      } else {
        l[keys[i]] = v;
      }
    }
    h.epochs.push_back(epoch);
    h.logs.push_back(l);
  }
  return h;
}

}  // namespace nnlab
