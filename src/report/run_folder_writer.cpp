// RunFolderWriter: the run folder's history, curves, diagnosis and report after every epoch, so a run
// in progress can be watched (report.html refreshes itself until result.json appears).
#include <filesystem>

#include "nnlab/io/safetensors.hpp"
#include "nnlab/report/diagnosis.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab {

namespace fs = std::filesystem;

RunFolderWriter::RunFolderWriter(std::string dir, std::chrono::milliseconds min_interval)
    : dir_(std::move(dir)), min_interval_(min_interval) {}

void RunFolderWriter::on_train_begin(TrainState&) {
  history_ = History{};
  pending_ = false;
  last_ = {};
}

void RunFolderWriter::on_epoch_end(int epoch, Logs& logs, TrainState& st) {
  history_.on_epoch_end(epoch, logs, st);
  pending_ = true;
  if (epoch + 1 >= st.epochs || st.stop_training || std::chrono::steady_clock::now() - last_ >= min_interval_) write();
}

void RunFolderWriter::on_train_end(TrainState&) {
  if (pending_) write();
}

std::string RunFolderWriter::state() const { return history_.empty() ? "" : history_.to_csv(); }

void RunFolderWriter::restore(const std::string& state) {
  if (!state.empty()) history_ = History::from_csv(state, (fs::path(dir_) / "checkpoint.safetensors").string());
}

void RunFolderWriter::write() {
  const fs::path dir(dir_);
  write_file_atomic((dir / "history.csv").string(), history_.to_csv());
  plot_history(history_, (dir / "").string());
  write_file_atomic((dir / "diagnosis.txt").string(), diagnose(history_).text());
  if (is_run_folder(dir_)) write_file_atomic((dir / "report.html").string(), run_report_html(dir_));
  pending_ = false;
  last_ = std::chrono::steady_clock::now();
}

}  // namespace nnlab
