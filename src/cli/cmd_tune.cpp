#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/sweep.hpp"
#include "nnlab/training/interrupt.hpp"
#include "nnlab/tune.hpp"

namespace nnlab::cli {

void add_tune(CLI::App& app) {
  struct Args {
    std::string file, out;
    std::vector<std::string> set;
    int parallel = -1;
    bool quiet = false, verbose = false;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("tune", "Search hyperparameters of an experiment: random trials, successive halving");
  c->add_option("file", a->file, "A tune file: base, search [space], trials, min_epochs, max_epochs, reduction")->required();
  c->add_option("--set", a->set, "Override a setting of the base: key.path=value (repeatable)");
  c->add_option("--parallel", a->parallel, "Trials trained side by side (0: one per thread; default: the file's)")
      ->check(whole_number(0, 4096));
  c->add_option("--out", a->out, "Tune folder (default runs/<name>-tune); rerun to continue");
  c->add_flag("-q,--quiet", a->quiet, "Print only the table and the winner");
  c->add_flag("-v,--verbose", a->verbose, "Show each run's progress");
  c->callback([a] {
    TuneSpec s = load_tune(a->file, a->set);
    if (a->parallel >= 0) s.parallel = a->parallel;
    const std::string out = a->out.empty() ? "runs/" + s.name + "-tune" : a->out;
    const auto budgets = rung_budgets(s.min_epochs, s.max_epochs, s.reduction);
    if (!a->quiet) {
      std::string b;
      for (int e : budgets) b += (b.empty() ? "" : ", ") + std::to_string(e);
      std::printf("tune '%s': %d trials of %s over %zu key(s), rungs at %s epochs (keep 1/%d), into %s\n"
                  "scored by %s on a validation split of the training data (train.validation_split %s), never "
                  "the test data\n",
                  s.name.c_str(), s.trials, s.base_source.c_str(), s.space.size(), b.c_str(), s.reduction, out.c_str(),
                  s.metric.c_str(), s.base["train"]["validation_split"].dump().c_str());
    }
    install_interrupt_handler();
    TuneOptions o;
    o.verbose = a->quiet ? 0 : (a->verbose ? 2 : 1);
    const auto t0 = std::chrono::steady_clock::now();
    const TuneResult r = run_tune(s, out, o);
    if (!dist::is_root()) return;  // under mpirun, rank 0 wrote the search's files and reports
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const TuneTrial& best = r.trials[r.best];
    std::printf("\n%s\nbest: trial %d, %s %s after %d epochs (%.1fs, %d trial-rung(s) trained now)\n", tune_table_markdown(s, r).c_str(),
                best.id, s.metric.c_str(), metric_cell(s.metric, best.final_score()).c_str(),
                best.epochs, seconds, r.trained);
    for (const auto& [k, v] : best.values.items()) std::printf("  %s = %s\n", k.c_str(), v.dump().c_str());
    std::printf("table: %s/table.md, %s/table.csv; chart: %s/scores.svg; best: %s/best.toml (nnlab train %s/best.toml)\n",
                out.c_str(), out.c_str(), out.c_str(), out.c_str(), out.c_str());
  });
}

}  // namespace nnlab::cli
