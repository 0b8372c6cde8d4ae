// `nnlab plot`: redraws a run folder's training curves from its history.csv, overlays one column
// of several runs, draws the activation functions, or a CNN's first-layer filters and feature maps.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/metrics.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab::cli {

namespace fs = std::filesystem;

static History load_history(const std::string& dir) {
  check(fs::exists(dir), "plot: run folder '" + dir + "' does not exist");
  check(fs::is_directory(dir), "plot: '" + dir + "' is not a folder (expected a run folder from `nnlab train`)");
  const fs::path file = fs::path(dir) / "history.csv";
  check(fs::exists(file), "plot: '" + file.string() + "' not found (is '" + dir + "' a run folder from `nnlab train`?)");
  History h = History::from_csv(read_file(file.string()), file.string());
  check(!h.logs.empty(), "plot: " + file.string() + " has no epochs to draw");
  check(std::any_of(h.logs.begin(), h.logs.end(), [](const Logs& l) { return !l.empty(); }),
        "plot: " + file.string() + " has only an epoch column, no values to draw (expected loss, accuracy, ...)");
  return h;
}

// The name a run goes by in the legend: its folder's name, or the path as given when two share it.
static std::vector<std::string> run_names(const std::vector<std::string>& dirs) {
  std::vector<std::string> names;
  for (const auto& d : dirs) {
    fs::path p(d);
    while (!p.empty() && p.filename().empty()) p = p.parent_path();  // "runs/a/" -> "runs/a"
    names.push_back(p.filename().string().empty() ? d : p.filename().string());
  }
  for (size_t i = 0; i < names.size(); ++i)
    if (std::count(names.begin(), names.end(), names[i]) > 1) names[i] = dirs[i];
  return names;
}

// `plot filters RUN`: the first conv2d layer's kernels and feature maps for test image `index` of the
// run's experiment (the training data when it has no test split).
static std::string plot_filters_command(const std::string& run, int64_t index, const std::string& out) {
  const std::string path = model_file(run);
  std::map<std::string, std::string> meta;
  Model model = load_model(path, &meta);
  const auto config = recorded_experiment(meta, path);
  check(config.has_value(), "plot filters: " + path + " carries no experiment, so no data to take an image from");
  const Experiment e = Experiment::from_json(*config, path);
  const DataSources data = load_sources(e.data);
  const Dataset& images = data.test ? *data.test : *data.train;
  check(index >= 0 && index < images.size(), "plot filters: --image " + std::to_string(index) + " is not an image of " +
                                                  e.data.dataset + "'s " + (data.test ? "test" : "training") +
                                                  " data (0 to " + std::to_string(images.size() - 1) + ")");
  Tensor x, y;
  const int64_t at[] = {index};
  images.gather(at, x, y);
  const std::string file =
      !out.empty() ? out : fs::is_directory(run) ? (fs::path(run) / "filters.svg").string() : "filters.svg";
  std::string title = e.name + ": " + (data.test ? "test" : "training") + " image " + std::to_string(index);
  // The label: a class index, or the one-hot row's largest entry.
  const int64_t label = y.size() == 1 ? static_cast<int64_t>(y[0]) : argmax_row(y, 0);
  if (label >= 0 && label < static_cast<int64_t>(images.class_names.size()))
    title += " (" + images.class_names[static_cast<size_t>(label)] + ")";
  plot_filters(model, x, file, title);
  return file;
}

void add_plot(CLI::App& app) {
  struct Args {
    std::vector<std::string> runs;
    std::string metric = "val_loss";
    std::string out;
    int64_t image = 0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "plot",
      "Draw SVG charts: `plot RUN_DIR` redraws a run's curves into its folder; `plot DIR1 DIR2 ...` overlays one "
      "column of several runs; `plot activations` draws every activation and its derivative; `plot filters RUN` "
      "draws a CNN's first convolution: its kernels and its feature maps for one test image");
  cmd->add_option("runs", args->runs, "Run folders (holding history.csv), or the word 'activations', or 'filters RUN'")
      ->required();
  cmd->add_option("--image", args->image, "plot filters: which test image (from 0)")->capture_default_str();
  auto* metric = cmd->add_option("--metric", args->metric, "Column to compare across runs")->capture_default_str();
  auto* out = cmd->add_option("--out", args->out,
                              "Output SVG (default plots-compare.svg for runs, activations.svg for activations)");
  cmd->callback([args, metric, out] {
    if (args->runs.size() == 2 && args->runs[0] == "filters" && !fs::exists("filters/history.csv")) {
      std::printf("%s\n", plot_filters_command(args->runs[1], args->image, args->out).c_str());
      return;
    }
    if (args->runs.size() == 1 && args->runs[0] == "activations" && !fs::exists("activations/history.csv")) {
      const std::string path = args->out.empty() ? "activations.svg" : args->out;
      plot_activations(path);
      std::printf("%s\n", path.c_str());
      return;
    }
    // One run without --metric/--out: its own charts, into its folder.
    if (args->runs.size() == 1 && metric->count() == 0 && out->count() == 0) {
      const std::string dir = args->runs[0];
      const History h = load_history(dir);
      for (const auto& f : plot_history(h, (fs::path(dir) / "").string())) std::printf("%s\n", f.c_str());
      return;
    }
    std::vector<std::pair<std::string, History>> runs;
    const auto names = run_names(args->runs);
    for (size_t i = 0; i < args->runs.size(); ++i) {
      History h = load_history(args->runs[i]);
      const auto col = h.column(args->metric);
      if (std::none_of(col.begin(), col.end(), [](double v) { return v == v; })) {
        std::string avail;
        for (const auto& l : h.logs)
          for (const auto& [k, _] : l)
            if (avail.find("'" + k + "'") == std::string::npos) avail += (avail.empty() ? "'" : ", '") + k + "'";
        throw Error("plot: no column '" + args->metric + "' in " + (fs::path(args->runs[i]) / "history.csv").string() +
                    " (available: " + avail + ")");
      }
      runs.emplace_back(names[i], std::move(h));
    }
    const std::string path = args->out.empty() ? "plots-compare.svg" : args->out;
    plot_runs(runs, args->metric, path);
    std::printf("%s\n", path.c_str());
  });
}

}  // namespace nnlab::cli
