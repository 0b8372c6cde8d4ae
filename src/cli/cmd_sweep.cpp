#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/sweep.hpp"
#include "nnlab/training/interrupt.hpp"

namespace nnlab::cli {

void add_sweep(CLI::App& app) {
  struct Args {
    std::string what, out, metric, preset;
    SweepAxes axes;
    std::vector<std::string> set;
    bool quiet = false, verbose = false;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("sweep", "Train families of variants of an experiment and compare them in a table and charts");
  c->add_option("what", a->what, "A sweep file, or a base experiment to vary along the axes below")->required();
  c->add_option("--width", a->axes.width, "Width multipliers of the hidden layers, e.g. 0.5,1,2")->delimiter(',');
  c->add_option("--depth", a->axes.depth, "Numbers of hidden layers, e.g. 1,2,3")->delimiter(',');
  c->add_option("--activation", a->axes.activation, "Hidden activations, e.g. relu,tanh,elu")->delimiter(',');
  c->add_option("--dropout", a->axes.dropout, "Dropout rates after each hidden layer, e.g. 0,0.2,0.5")->delimiter(',');
  c->add_option("--lr", a->axes.learning_rate, "Learning rates, e.g. 0.01,0.001")->delimiter(',');
  c->add_option("--batch-size", a->axes.batch_size, "Batch sizes, e.g. 32,128")->delimiter(',');
  c->add_option("--preset", a->preset, "'families': the course's baseline, wider, deeper and both")
      ->check(CLI::IsMember({"families"}));
  c->add_option("--set", a->set, "Override a setting of the base: key.path=value (repeatable)");
  c->add_option("--metric", a->metric, "Column that ranks the variants (default val_accuracy, or the sweep file's)");
  c->add_option("--out", a->out, "Sweep folder (default runs/<sweep name>); rerun to resume");
  c->add_flag("-q,--quiet", a->quiet, "Print only the table");
  c->add_flag("-v,--verbose", a->verbose, "Show each run's progress");
  c->callback([a] {
    a->axes.families = a->preset == "families";
    SweepSpec s = load_sweep(a->what, a->axes, a->set);
    if (!a->metric.empty()) s.metric = a->metric;
    const std::string out = a->out.empty() ? "runs/" + s.name : a->out;
    if (!a->quiet) std::printf("sweep '%s': %zu variants of %s, into %s\n", s.name.c_str(), s.variants.size(), s.base_source.c_str(), out.c_str());
    install_interrupt_handler();
    const auto rows = run_sweep(s, out, a->quiet ? 0 : (a->verbose ? 2 : 1));
    if (!dist::is_root()) return;  // under mpirun, rank 0 wrote the table once every rank had finished
    std::printf("\n%s\ntable: %s/table.md, %s/table.csv; charts: %s/compare-*.svg\n",
                sweep_table_markdown(rows, s.metric).c_str(), out.c_str(), out.c_str(), out.c_str());
  });
}

}  // namespace nnlab::cli
