// The HTML report: one self-contained page per run folder (report.html), a page comparing several run
// folders, and a page for a sweep or ensemble folder. Charts are inline SVG drawn by render_svg()
// (src/report/svg.cpp), images are PNGs (src/report/png.cpp) inlined as base64 data URIs, the CSS is in
// the page; no JavaScript and nothing from the network, so the file can be mailed or opened offline.
//
// A run's page is built from the files of its folder alone (config.json, run.json, summary.txt,
// history.csv, result.json, confusion.csv, misclassified.json); a file that is missing leaves its
// section out. Without result.json the run is still training (or was interrupted): the page says so
// and refreshes itself about once an epoch (a meta refresh).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include <chrono>

#include "nnlab/data/dataset.hpp"
#include "nnlab/evaluation.hpp"
#include "nnlab/training/callback.hpp"
#include "nnlab/training/history.hpp"

namespace nnlab {

// A run folder holds config.json; a collection folder (a sweep, an ensemble) holds run folders.
bool is_run_folder(const std::string& dir);
bool is_collection_folder(const std::string& dir);

// The page of one run folder.
std::string run_report_html(const std::string& run_dir);
// Several run folders on one page: their results, their settings side by side (those that differ
// highlighted), their curves overlaid, and a link to each run's report.html. Links are relative to
// the folder of out_path, where the page will be written.
std::string compare_report_html(const std::vector<std::string>& run_dirs, const std::string& out_path);
// A sweep or ensemble folder: the comparison of its runs (as above), with, for an ensemble, its
// combinations (vote, average, stacking) against the members.
std::string collection_report_html(const std::string& dir);

// What `nnlab report` does. One run folder: writes <dir>/report.html. One sweep or ensemble folder:
// writes each run's report.html and <dir>/report.html. Two or more run folders: writes the
// comparison to out (default "report-compare.html"). Returns the page written; throws naming a
// folder that is neither a run nor a collection folder.
std::string write_report(const std::vector<std::string>& dirs, const std::string& out = "");

// misclassified.json: for the `pairs` most confused (true, predicted) pairs of cm, up to `per_pair`
// of their misclassified samples of `data` (the dataset cm was computed on), with the model's
// confidence and, for image-shaped samples ((H, W), (H, W, 1), or N = H * H features), the image as a
// base64 PNG.
// evaluated_on names the data ("test", or "train" for datasets without a test split).
void write_misclassified(const ConfusionMatrix& cm, const Dataset& data, const std::string& path,
                         const std::string& evaluated_on = "test", size_t pairs = 6, size_t per_pair = 4);

// Keeps a run folder current while training, as Keras's CSVLogger keeps its file: history.csv, the
// curves (loss.svg, accuracy.svg, ...), diagnosis.txt and report.html, each written atomically at the
// end of an epoch. Epochs shorter than min_interval (XOR's thousands) are written together at most
// once per interval, and always after the last epoch. It writes the trainer's history
// (TrainState::history, which a resumed run restores from its checkpoint) with the epoch ending.
// run_experiment() adds it last, after the callbacks that add to the logs, and has it write the
// evaluation and the final report once training ends: the report layer writes every picture and page.
class RunFolderWriter : public Callback {
 public:
  explicit RunFolderWriter(std::string dir, std::chrono::milliseconds min_interval = std::chrono::seconds(2));
  bool writes_files() const override { return true; }
  void on_train_begin(TrainState&) override;
  void on_epoch_end(int epoch, Logs& logs, TrainState& st) override;
  void on_train_end(TrainState& st) override;
  // After training, the evaluation's files: confusion.csv, evaluation.txt and misclassified.json
  // (cm computed on `data`, which evaluated_on names: "test" or "train").
  void write_evaluation(const ConfusionMatrix& cm, const Dataset& data, const std::string& evaluated_on) const;
  // The final report.html, once result.json marks the run finished (so the page stops refreshing).
  void write_final_report() const;

 private:
  void write(const History& history);
  std::string dir_;
  std::chrono::milliseconds min_interval_;
  bool pending_ = false;
  std::chrono::steady_clock::time_point last_{};
};

// Standard base64 (RFC 4648, with padding).
std::string base64_encode(const std::string& bytes);

}  // namespace nnlab
