// `nnlab plot`: redraws a run folder's training curves from its history.csv, overlays one column
// of several runs, or draws the activation functions.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
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

void add_plot(CLI::App& app) {
  struct Args {
    std::vector<std::string> runs;
    std::string metric = "val_loss";
    std::string out;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "plot",
      "Draw SVG charts: `plot RUN_DIR` redraws a run's curves into its folder; `plot DIR1 DIR2 ...` overlays one "
      "column of several runs; `plot activations` draws every activation and its derivative");
  cmd->add_option("runs", args->runs, "Run folders (holding history.csv), or the word 'activations'")->required();
  auto* metric = cmd->add_option("--metric", args->metric, "Column to compare across runs")->capture_default_str();
  auto* out = cmd->add_option("--out", args->out,
                              "Output SVG (default plots-compare.svg for runs, activations.svg for activations)");
  cmd->callback([args, metric, out] {
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
