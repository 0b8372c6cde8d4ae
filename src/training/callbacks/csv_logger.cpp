// Keras's CSVLogger: the epoch's logs as one flushed CSV row.
#include <charconv>
#include <cstring>
#include <filesystem>

#include "monitor.hpp"
#include "nnlab/training/callbacks.hpp"

namespace nnlab {

CSVLogger::CSVLogger(std::string path, bool append, char separator) : path_(std::move(path)), append_(append), sep_(separator) {
  check(!path_.empty(), "CSVLogger: the path is empty");
}

void CSVLogger::on_train_begin(TrainState&) {
  write_header_ = true;
  if (append_) {
    std::ifstream in(path_);
    std::string first;
    if (in && std::getline(in, first)) write_header_ = first.empty();
  }
  if (out_.is_open()) out_.close();
  out_.open(path_, append_ ? std::ios::app : std::ios::trunc);
  check(out_.is_open(), "CSVLogger: cannot open '" + path_ + "' for writing: " + std::strerror(errno));
  keys_.clear();
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
