// nnlab ensemble: trains K members and compares them with their vote, average and stacking; and the
// ensemble side of `nnlab evaluate` (an ensemble folder or ensemble.json).
#include <cstdio>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/data/augment.hpp"
#include "nnlab/training/interrupt.hpp"

namespace nnlab::cli {

static void print_gains(const EnsembleReport& rep) {
  const auto& best = rep.members.at(rep.best_member);
  std::printf("best single member: %s, %.2f%%;", best.name.c_str(), 100.0 * best.accuracy);
  for (size_t i = 0; i < rep.combinations.size(); ++i)
    std::printf("%s %s %+.2f points", i ? "," : "", rep.combinations[i].name.c_str(), rep.gain(rep.combinations[i]));
  std::printf("\n");
}

std::vector<Tensor> tta_copies(const Experiment& e, const Dataset& data, int copies, uint64_t seed,
                               const std::string& source) {
  if (copies <= 0) return {};
  check(!e.augment.is_null(), "--tta " + std::to_string(copies) + ": " + source +
                                  "'s experiment has no [augment] table, the augmentation to apply at test time");
  return augmented_copies(data, ImageAugmenter::from_json(e.augment, source + " [augment]"), copies, seed);
}

void evaluate_ensemble_command(const std::string& path, const std::string& dataset, int64_t batch_size, int tta,
                               uint64_t tta_seed) {
  Ensemble en = load_ensemble(path);
  // An ensemble of models from elsewhere may carry no experiment: then --dataset says the data.
  check(!en.experiment().empty() || !dataset.empty(),
        en.path() + ": the ensemble names no experiment to take its test data from; pass --dataset");
  Experiment e;
  if (!en.experiment().empty()) e = Experiment::from_json(en.experiment(), en.path());
  if (!dataset.empty()) e.data.dataset = dataset;
  LoadedData data = load_data(e.data);
  const bool has_test = data.test.size() > 0;
  const InMemoryDataset& on = has_test ? data.test : data.train;
  EnsembleReport rep = evaluate_ensemble(en, on, batch_size, tta_copies(e, on, tta, tta_seed, en.path()));
  rep.evaluated_on = has_test ? "test" : "train";
  std::printf("%s on %s (%lld %s samples): %zu members, default combination %s%s\n\n%s\n", en.path().c_str(),
              e.data.dataset.c_str(), static_cast<long long>(rep.samples), rep.evaluated_on.c_str(), en.size(),
              combination_name(en.default_combination()).c_str(),
              tta > 0 ? (", test-time augmentation: each member averaged over the images and " + std::to_string(tta) +
                         " augmented copies").c_str()
                      : "",
              ensemble_table_markdown(rep).c_str());
  print_gains(rep);
}

void add_ensemble(CLI::App& app) {
  struct Args {
    std::string what, out, combination = "average";
    std::vector<std::string> architectures, set, models;
    int members = 5, parallel = 0, combiner_epochs = CombinerOptions{}.epochs;
    double holdout = 0.1;
    bool quiet = false, verbose = false;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("ensemble",
                               "Train several models and compare them with their majority vote, average and stacking");
  c->add_option("experiment", a->what, "Base experiment (name or file): its data, and the members' model unless --architectures");
  auto* models = c->add_option("--models", a->models,
                               "Or no training: an ensemble of these trained models (run folders or model files, e.g. "
                               "`nnlab import`ed ones; comma-separated) in the --out folder, offering vote and average")
                     ->delimiter(',');
  c->add_option("--members", a->members, "Members of the base experiment, seeds seed, seed+1, ...")->capture_default_str();
  c->add_option("--architectures", a->architectures,
                "Or one member per experiment (names or files, comma-separated); they must read the base's data")
      ->delimiter(',');
  c->add_option("--holdout", a->holdout,
                "Fraction of the training set (its tail) no member trains on; the stacking combiner learns on it (0: no stacking)")
      ->capture_default_str();
  c->add_option("--set", a->set, "Override a setting of every member: key.path=value (repeatable)");
  c->add_option("--out", a->out, "Ensemble folder (default runs/<name>-ensemble); rerun to resume");
  c->add_option("--parallel", a->parallel, "Members trained side by side, sharing the OpenMP threads (0: one per thread)")
      ->capture_default_str();
  c->add_option("--combination", a->combination, "What evaluate and predict use by default: vote, average or stacking")
      ->check(CLI::IsMember({"vote", "average", "stacking"}))
      ->capture_default_str();
  c->add_option("--combiner-epochs", a->combiner_epochs, "Epochs of the stacking combiner")->capture_default_str();
  c->add_flag("-q,--quiet", a->quiet, "Print only the table");
  c->add_flag("-v,--verbose", a->verbose, "Show each member's progress (one after another only)");
  models->excludes(c->get_option("--architectures"))->excludes(c->get_option("--members"))->excludes(c->get_option("--holdout"));
  c->callback([a] {
    if (!a->models.empty()) {
      check(a->what.empty(), "ensemble: give an experiment to train members of, or --models, not both");
      check(!a->out.empty(), "ensemble --models: --out names the ensemble folder to write");
      const Ensemble en = assemble_ensemble(a->models, a->out, parse_combination(a->combination));
      std::printf("%s: %zu members, default combination %s; nnlab evaluate, predict and export take the folder%s\n",
                  en.path().c_str(), en.size(), a->combination.c_str(),
                  en.experiment().empty() ? " (evaluate with --dataset: no member names its experiment)" : "");
      return;
    }
    check(!a->what.empty(), "ensemble: name the base experiment to train members of (or --models to combine trained ones)");
    EnsembleSpec s = load_ensemble_spec(a->what, a->set);
    s.members = a->members;
    s.architectures = a->architectures;
    s.holdout = a->holdout;
    s.parallel = a->parallel;
    s.default_combination = parse_combination(a->combination);
    s.combiner.epochs = a->combiner_epochs;
    s.validate();
    const std::string out = a->out.empty() ? "runs/" + s.name : a->out;
    install_interrupt_handler();
    const EnsembleResult r = run_ensemble(s, out, a->quiet ? 0 : (a->verbose ? 2 : 1));
    if (!dist::is_root()) return;  // under mpirun, rank 0 combined the members and reports
    std::printf("\n%s\n", ensemble_table_markdown(r.report).c_str());
    print_gains(r.report);
    std::printf("members trained in %.1fs%s; ensemble: %s/ensemble.json (nnlab evaluate / predict accept the folder); "
                "table: %s/table.md\n",
                r.train_seconds, r.parallel > 1 ? (" (" + std::to_string(r.parallel) + " side by side)").c_str() : "",
                out.c_str(), out.c_str());
  });
}

}  // namespace nnlab::cli
