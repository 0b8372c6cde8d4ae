// RunFolderWriter: the run folder's history, curves, diagnosis and report after every epoch, so a run
// in progress can be watched (report.html refreshes itself until result.json appears).
#include <filesystem>

#include "nnlab/io/files.hpp"
#include "nnlab/report/diagnosis.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab {

namespace fs = std::filesystem;

RunFolderWriter::RunFolderWriter(std::string dir, std::chrono::milliseconds min_interval)
    : dir_(std::move(dir)), min_interval_(min_interval) {}

void RunFolderWriter::on_train_begin(TrainState&) {
  pending_ = false;
  last_ = {};
}

void RunFolderWriter::on_epoch_end(int epoch, Logs& logs, TrainState& st) {
  pending_ = true;
  if (epoch + 1 >= st.epochs || st.stop_training || std::chrono::steady_clock::now() - last_ >= min_interval_) {
    History history = st.history ? *st.history : History{};
    history.on_epoch_end(epoch, logs, st);  // the trainer's History adds this epoch after us
    write(history);
  }
}

void RunFolderWriter::on_train_end(TrainState& st) {
  if (pending_ && st.history) write(*st.history);
}

void RunFolderWriter::write(const History& history) {
  const fs::path dir(dir_);
  write_file_atomic((dir / "history.csv").string(), history.to_csv());
  plot_history(history, (dir / "").string());
  write_file_atomic((dir / "diagnosis.txt").string(), diagnose(history).text());
  if (is_run_folder(dir_)) write_file_atomic((dir / "report.html").string(), run_report_html(dir_));
  pending_ = false;
  last_ = std::chrono::steady_clock::now();
}

void RunFolderWriter::write_evaluation(const ConfusionMatrix& cm, const Dataset& data,
                                       const std::string& evaluated_on) const {
  const fs::path dir(dir_);
  write_file_atomic((dir / "confusion.csv").string(), cm.to_csv());
  write_file_atomic((dir / "evaluation.txt").string(), cm.to_text());
  write_misclassified(cm, data, (dir / "misclassified.json").string(), evaluated_on);
}

void RunFolderWriter::write_final_report() const {
  write_file_atomic((fs::path(dir_) / "report.html").string(), run_report_html(dir_));
}

}  // namespace nnlab
