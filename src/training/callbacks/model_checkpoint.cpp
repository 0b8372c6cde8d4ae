// Keras's ModelCheckpoint: save after every epoch, or only when the monitored value improves.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <variant>
#include <vector>

#include "monitor.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/training/callbacks.hpp"

namespace nnlab {
namespace {

struct Field {
  std::string name, spec;
};

// Splits a path template into literal text and {name} / {name:spec} fields (Python str.format's
// subset: specs [0][width]d for whole numbers, [.precision](f|e|g) for any number).
std::vector<std::variant<std::string, Field>> parse_template(const std::string& path) {
  const std::string who = "ModelCheckpoint: path '" + path + "'";
  std::vector<std::variant<std::string, Field>> parts;
  std::string text;
  for (size_t i = 0; i < path.size(); ++i) {
    const char c = path[i];
    if ((c == '{' || c == '}') && i + 1 < path.size() && path[i + 1] == c) {
      text += c;
      ++i;
      continue;
    }
    check(c != '}', who + ": a single '}' at position " + std::to_string(i) + " (write }} for a brace)");
    if (c != '{') {
      text += c;
      continue;
    }
    const size_t close = path.find('}', i);
    check(close != std::string::npos, who + ": the field at position " + std::to_string(i) + " has no closing '}'");
    const std::string body = path.substr(i + 1, close - i - 1);
    const size_t colon = body.find(':');
    Field f{body.substr(0, colon), colon == std::string::npos ? "" : body.substr(colon + 1)};
    check(!f.name.empty(), who + ": an empty field {} (name a log entry such as {epoch} or {val_loss})");
    const std::string& s = f.spec;
    bool ok = s.empty();
    if (!ok && s.back() == 'd') ok = s.find_first_not_of("0123456789", 0) == s.size() - 1;
    if (!ok && (s.back() == 'f' || s.back() == 'e' || s.back() == 'g')) {
      ok = s.size() == 1 || (s[0] == '.' && s.size() > 2 && s.find_first_not_of("0123456789", 1) == s.size() - 1);
    }
    check(ok, who + ": unsupported format '{" + body + "}' (supported: {name}, {name:02d}, {name:.4f}, e, g)");
    if (!text.empty()) parts.emplace_back(std::move(text));
    text.clear();
    parts.emplace_back(std::move(f));
    i = close;
  }
  if (!text.empty()) parts.emplace_back(std::move(text));
  return parts;
}

std::string format_value(double v, const std::string& spec, bool whole, const std::string& who) {
  char buf[128];
  if (spec.empty()) {
    if (whole) return std::to_string(static_cast<int64_t>(v));
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
    return std::string(buf, end);
  }
  if (spec.back() == 'd') {
    check(whole, who + ": {field:" + spec + "} needs a whole number, got " + callbacks::show(v));
    std::string fmt = "%";
    fmt.append(spec, 0, spec.size() - 1);
    fmt += "lld";
    std::snprintf(buf, sizeof(buf), fmt.c_str(), static_cast<long long>(v));
    return buf;
  }
  std::string fmt = "%";
  fmt.append(spec, 0, spec.size() - 1);
  fmt += 'l';
  fmt += spec.back();
  std::snprintf(buf, sizeof(buf), fmt.c_str(), v);
  return buf;
}

}  // namespace

ModelCheckpoint::ModelCheckpoint(std::string path, const ModelCheckpointOptions& options)
    : path_(std::move(path)), o_(options), best_(options.initial_value_threshold) {
  check(!path_.empty(), "ModelCheckpoint: the path is empty");
  parse_template(path_);  // a malformed template fails now, not after the first epoch
  // Only save_best_only compares values, so only then must the direction be known.
  if (o_.save_best_only) maximize_ = callbacks::maximizes("ModelCheckpoint", o_.monitor, o_.mode);
  else callbacks::maximizes("ModelCheckpoint", "loss", o_.mode);  // checks mode's spelling
}

std::string ModelCheckpoint::path_for(int epoch, const Logs& logs) const {
  const std::string who = "ModelCheckpoint: path '" + path_ + "'";
  std::string out;
  for (const auto& part : parse_template(path_)) {
    if (const auto* text = std::get_if<std::string>(&part)) {
      out += *text;
      continue;
    }
    const Field& f = std::get<Field>(part);
    if (f.name == "epoch") {
      out += format_value(epoch + 1, f.spec, true, who);
      continue;
    }
    auto it = logs.find(f.name);
    if (it == logs.end()) {
      std::string keys = "epoch";
      for (const auto& [k, _] : logs) keys += ", " + k;
      throw Error(who + " names {" + f.name + "}, which the logs lack (available: " + keys + ")");
    }
    out += format_value(it->second, f.spec, it->second == static_cast<double>(static_cast<int64_t>(it->second)), who);
  }
  return out;
}

void ModelCheckpoint::on_epoch_end(int epoch, Logs& logs, TrainState& s) {
  check(s.model != nullptr, "ModelCheckpoint: the training state has no model");
  const std::string path = path_for(epoch, logs);
  if (o_.save_best_only) {
    const auto current = callbacks::monitored(logs, o_.monitor, &warned_,
                                              "Can save best model only with " + o_.monitor + " available");
    if (current) {
      if (!callbacks::improves(*current, best_, maximize_, 0.0)) {
        if (o_.verbose > 0) {
          std::printf("Epoch %d: %s did not improve from %.5f\n", epoch + 1, o_.monitor.c_str(), best_.value_or(0.0));
        }
        return;
      }
      if (o_.verbose > 0) {
        std::printf("Epoch %d: %s improved from %s to %.5f, saving model to %s\n", epoch + 1, o_.monitor.c_str(),
                    best_ ? callbacks::show(*best_).c_str() : "None", *current, path.c_str());
      }
      best_ = *current;
    }
  } else if (o_.verbose > 0) {
    std::printf("Epoch %d: saving model to %s\n", epoch + 1, path.c_str());
  }
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    check(!ec, "ModelCheckpoint: cannot create the folder '" + parent.string() + "': " + ec.message());
  }
  check(!std::filesystem::is_directory(path),
        "ModelCheckpoint: the path '" + path + "' is an existing folder; give a file name");
  nlohmann::json log_json = nlohmann::json::object();
  for (const auto& [k, v] : logs) log_json[k] = v;
  save_model(*s.model, path, {{"nnlab.checkpoint.epoch", std::to_string(epoch + 1)}, {"nnlab.checkpoint.logs", log_json.dump()}});
}

std::string ModelCheckpoint::state() const {
  nlohmann::json j = nlohmann::json::object();
  if (best_) j["best"] = *best_;
  return j.dump();
}

void ModelCheckpoint::restore(const std::string& state) {
  const auto j = nlohmann::json::parse(state);
  if (j.contains("best")) best_ = j["best"].get<double>();
  else best_.reset();
}

}  // namespace nnlab
