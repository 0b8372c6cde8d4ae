// Keras's CSVLogger: the epoch's logs as one flushed CSV row.
#include <charconv>
#include <cstring>
#include <filesystem>

#include "monitor.hpp"
#include "nnlab/training/callbacks.hpp"

#include <nlohmann/json.hpp>

namespace nnlab {

CSVLogger::CSVLogger(std::string path, bool append, char separator) : path_(std::move(path)), append_(append), sep_(separator) {
  check(!path_.empty(), "CSVLogger: the path is empty");
}

void CSVLogger::on_train_begin(TrainState& s) {
  keys_.clear();
  if (out_.is_open()) out_.close();
  // Resuming: restore() reopens the file cut back to the rows of the checkpoint's epochs; without a
  // saved state the rows are appended, as with append.
  open(append_ || s.resuming);
}

void CSVLogger::open(bool append) {
  write_header_ = true;
  if (append) {
    std::ifstream in(path_);
    std::string first;
    if (in && std::getline(in, first)) write_header_ = first.empty();
  }
  out_.open(path_, append ? std::ios::app : std::ios::trunc);
  check(out_.is_open(), "CSVLogger: cannot open '" + path_ + "' for writing: " + std::strerror(errno));
}

std::string CSVLogger::state() const {
  if (!out_.is_open()) return "";
  std::error_code ec;
  const auto bytes = std::filesystem::file_size(path_, ec);
  if (ec) return "";
  return nlohmann::json{{"bytes", bytes}, {"keys", keys_}, {"write_header", write_header_}}.dump();
}

void CSVLogger::restore(const std::string& state) {
  const auto j = nlohmann::json::parse(state);
  const auto bytes = j.at("bytes").get<uint64_t>();
  if (out_.is_open()) out_.close();
  std::error_code ec;
  // Rows written after the checkpoint (a kill between the row and the checkpoint) are cut off.
  if (std::filesystem::file_size(path_, ec) > bytes && !ec) std::filesystem::resize_file(path_, bytes, ec);
  check(!ec, "CSVLogger: cannot cut '" + path_ + "' back to the checkpoint's rows: " + ec.message());
  out_.open(path_, std::ios::app);
  check(out_.is_open(), "CSVLogger: cannot open '" + path_ + "' for writing: " + std::strerror(errno));
  keys_ = j.at("keys").get<std::vector<std::string>>();
  write_header_ = j.at("write_header").get<bool>();
}

void CSVLogger::on_epoch_end(int epoch, Logs& logs, TrainState&) {
  if (!out_.is_open()) return;  // not started by fit
  if (keys_.empty()) {
    for (const auto& [k, _] : logs) keys_.push_back(k);  // sorted, as Keras sorts them
    if (write_header_) {
      out_ << "epoch";
      for (const auto& k : keys_) out_ << sep_ << k;
      out_ << "\n";
    }
  }
  out_ << epoch;
  char buf[64];
  for (const auto& k : keys_) {
    out_ << sep_;
    auto it = logs.find(k);
    if (it == logs.end()) continue;
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), it->second);  // shortest round-trip form
    out_.write(buf, end - buf);
  }
  out_ << "\n";
  out_.flush();
  check(out_.good(), "CSVLogger: writing '" + path_ + "' failed");
}

void CSVLogger::on_train_end(TrainState&) {
  if (out_.is_open()) out_.close();
}

}  // namespace nnlab
