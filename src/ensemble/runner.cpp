// Training an ensemble: its members' experiments, the runner that trains them (side by side or one
// after another) and keeps their models, and run_ensemble, which trains, combines, saves, evaluates
// the models in memory and reports.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>

#include "internal.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/kernels/side_by_side.hpp"

namespace fs = std::filesystem;

namespace nnlab {

void EnsembleSpec::validate() const {
  if (architectures.empty())
    check(members >= 2, "ensemble: --members must be at least 2, got " + std::to_string(members));
  else
    check(architectures.size() >= 2,
          "ensemble: --architectures needs at least 2 experiments, got " + std::to_string(architectures.size()));
  check(holdout >= 0 && holdout < 1, "ensemble: --holdout must be in [0, 1), got " + std::to_string(holdout));
  check(parallel >= 0, "ensemble: --parallel must be 0 (automatic) or more, got " + std::to_string(parallel));
  check(default_combination != Combination::Stacking || holdout > 0,
        "ensemble: the default combination is stacking, which needs a holdout (--holdout > 0)");
  combiner.validate();
}

EnsembleSpec load_ensemble_spec(const std::string& name_or_path, const std::vector<std::string>& overrides) {
  EnsembleSpec s;
  s.base_source = resolve_experiment(name_or_path);
  s.base = parse_config_file(s.base_source);
  for (const auto& o : overrides) apply_override(s.base, o);
  s.overrides = overrides;
  Experiment::from_json(s.base, s.base_source);  // validate the base now
  s.name = s.base.value("name", fs::path(s.base_source).stem().string()) + "-ensemble";
  return s;
}

namespace {

// The fields of [data] that decide what a member sees; "" when equal, else the first difference.
std::string data_difference(const DataSpec& a, const DataSpec& b) {
  auto q = [](const std::string& s) { return "'" + s + "'"; };
  if (a.dataset != b.dataset) return "dataset " + q(a.dataset) + " vs " + q(b.dataset);
  if (a.dir != b.dir) return "dir " + q(a.dir) + " vs " + q(b.dir);
  if (std::string d = preprocessing_difference(a, b); !d.empty()) return d;
  if (a.limit != b.limit) return "limit " + std::to_string(a.limit) + " vs " + std::to_string(b.limit);
  if (a.test_limit != b.test_limit) return "test_limit " + std::to_string(a.test_limit) + " vs " + std::to_string(b.test_limit);
  return "";
}

int64_t holdout_size(double fraction, int64_t n) {
  if (fraction <= 0) return 0;
  const int64_t h = std::max<int64_t>(1, std::llround(fraction * static_cast<double>(n)));
  check(h < n, "ensemble: a holdout of " + std::to_string(fraction) + " leaves no training data of the " +
                   std::to_string(n) + " samples");
  return h;
}

}  // namespace

std::vector<EnsembleMemberSpec> ensemble_members(const EnsembleSpec& spec, int64_t train_size, const Shape& input) {
  spec.validate();
  const Experiment base = Experiment::from_json(spec.base, spec.base_source);
  const int64_t h = holdout_size(spec.holdout, train_size);
  std::vector<EnsembleMemberSpec> out;
  const size_t k = spec.architectures.empty() ? static_cast<size_t>(spec.members) : spec.architectures.size();
  for (size_t i = 0; i < k; ++i) {
    EnsembleMemberSpec m;
    m.name = "member-" + std::to_string(i + 1);
    if (spec.architectures.empty()) {
      m.config = spec.base;
      m.source = spec.base_source;
      m.config["seed"] = base.seed + i;
      m.detail = "seed " + std::to_string(base.seed + i);
    } else {
      m.source = resolve_experiment(spec.architectures[i]);
      m.config = parse_config_file(m.source);
      for (const auto& o : spec.overrides) apply_override(m.config, o);
      m.detail = fs::path(m.source).stem().string();
      if (m.detail == "config") m.detail = fs::path(m.source).parent_path().filename().string();  // a run folder
    }
    m.config["name"] = spec.name + "/" + m.name;
    Experiment e;
    try {
      e = Experiment::from_json(m.config, m.source);
    } catch (const Error& err) {
      throw Error("ensemble member '" + m.name + "' (" + m.detail + "): " + err.what());
    }
    // A file named again is another member, not a copy: its k-th repeat trains with seed + k.
    if (!spec.architectures.empty()) {
      const auto first = spec.architectures.begin();
      const auto repeats = std::count(first, first + static_cast<std::ptrdiff_t>(i), spec.architectures[i]);
      if (repeats > 0) {
        m.config["seed"] = e.seed + static_cast<uint64_t>(repeats);
        m.detail += ", seed " + std::to_string(e.seed + static_cast<uint64_t>(repeats));
      }
    }
    const std::string diff = data_difference(e.data, base.data);
    check(diff.empty(), "ensemble member '" + m.name + "' (" + m.source + ") reads different data from the base " +
                            spec.base_source + " ([data] " + diff + "): every member must take the same inputs");
    if (h > 0) m.config["data"]["limit"] = train_size - h;  // the tail beyond the limit is the holdout
    out.push_back(std::move(m));
  }
  // Output shapes agree, checked before anything trains.
  Shape first;
  for (size_t i = 0; i < out.size(); ++i) {
    const Experiment e = Experiment::from_json(out[i].config, out[i].source);
    Shape shape;
    try {
      shape = build_model(e, input).output_shape();
    } catch (const Error& err) {
      throw Error("ensemble member '" + out[i].name + "' (" + out[i].detail + "): " + err.what());
    }
    if (i == 0) first = shape;
    check(shape == first, "ensemble member '" + out[i].name + "' (" + out[i].detail + ") has outputs of shape " +
                              shape_str(shape) + " but '" + out[0].name + "' (" + out[0].detail + ") has " +
                              shape_str(first) + ": every member must give the same outputs");
  }
  return out;
}

int default_parallelism(int members) { return kernels::default_parallelism(members); }

namespace {

// Trains every member with run_experiment into <dir>/<member>/; finished ones are reused (an
// interrupted ensemble resumes). Keeps every member's trained model for the combiner and the
// evaluation, which thus need not read them back.
class MemberRunner {
 public:
  MemberRunner(const std::vector<EnsembleMemberSpec>& members, const fs::path& dir, int threads_each, int verbose)
      : members_(members), dir_(dir), threads_each_(threads_each), verbose_(verbose), models_(members.size()) {}

  // One after another, or `parallel` threads side by side; rethrows the first member's failure.
  // Returns the members' models in member order. Under mpirun, rank r trains members r, r + ranks,
  // ... on its own (dist::LocalScope) into the shared ensemble folder; after all have finished, rank
  // 0 reads the others' models from their run folders, and the other ranks return no models.
  std::vector<std::shared_ptr<Model>> run(int parallel) {
    const int rank = dist::rank(), ranks = dist::size();
    const std::vector<size_t> mine = dist::dealt(members_.size(), rank, ranks);
    {
      const dist::LocalScope alone;
      kernels::run_side_by_side(mine.size(), std::min<int>(parallel, static_cast<int>(std::max<size_t>(1, mine.size()))),
                                threads_each_, [&](size_t j, bool side_by_side) { train(mine[j], side_by_side); });
    }
    if (ranks == 1) return std::move(models_);
    dist::barrier();
    if (rank > 0) return {};
    const dist::LocalScope alone;
    for (size_t i = 0; i < members_.size(); ++i) {
      if (models_[i]) continue;
      const fs::path run = dir_ / members_[i].name;
      check(fs::exists(run / "result.json"),
            "ensemble member '" + members_[i].name + "', trained by rank " + std::to_string(dist::dealer(i, ranks)) +
                ", left no result in " + run.string() + " that rank 0 can read: the ranks need the ensemble folder on a shared file system");
      train(i, false);  // finished by its rank: reused from its run folder
    }
    return std::move(models_);
  }

 private:
  // Trains member i, or reuses its run folder when finished with this member's configuration; puts
  // its model in models_[i] (each thread writes only its own members' slots).
  void train(size_t i, bool side_by_side) {
    const EnsembleMemberSpec& m = members_[i];
    const size_t k = members_.size();
    const fs::path run = dir_ / m.name;
    if (fs::exists(run / "result.json")) {
      const std::string config = (run / "config.json").string();
      const auto used = parse_json(read_file(config), config);
      check(used == m.config, run.string() + " was trained with another configuration than this ensemble's " +
                                  m.name + "; give another --out, or remove that folder to retrain it");
      // Trained by an earlier process: its model is only in the run folder.
      models_[i] = std::make_shared<Model>(load_model((run / "model.safetensors").string()));
      std::lock_guard<std::mutex> lock(print_);
      if (verbose_ > 0) std::printf("[%zu/%zu] %s (%s): finished earlier, reused\n", i + 1, k, m.name.c_str(), m.detail.c_str());
      return;
    }
    if (verbose_ > 0 && !side_by_side) std::printf("[%zu/%zu] %s (%s)\n", i + 1, k, m.name.c_str(), m.detail.c_str());
    Experiment e = Experiment::from_json(m.config, m.source);
    if (side_by_side && e.threads > 0) e.threads = threads_each_;  // run_side_by_side set this thread's pool
    RunOptions ro;
    ro.out_dir = run.string();
    ro.verbose = verbose_ > 1 && !side_by_side ? 1 : 0;
    ro.resume = true;
    const RunResult r = run_experiment(e, ro);
    models_[i] = r.model;
    std::lock_guard<std::mutex> lock(print_);
    if (verbose_ > 0)
      std::printf("%s%s (%s): %.1fs, accuracy %.2f%%\n", side_by_side ? "" : "      ", m.name.c_str(),
                  m.detail.c_str(), r.train_seconds, 100.0 * r.test_accuracy);
    std::fflush(stdout);
  }

  const std::vector<EnsembleMemberSpec>& members_;
  const fs::path dir_;
  const int threads_each_, verbose_;
  std::mutex print_;  // one member's lines at a time
  std::vector<std::shared_ptr<Model>> models_;  // one slot per member, sized up front
};

// With a holdout (the last h samples of train), trains the stacking combiner on the trained
// members' predictions for it (never the test set) and saves it as <dir>/combiner.safetensors.
// Returns the combiner; none without a holdout.
std::optional<Model> train_stacking(const EnsembleSpec& spec, const std::vector<std::shared_ptr<Model>>& models,
                                    const fs::path& dir, const InMemoryDataset& train, int64_t h, uint64_t seed,
                                    int verbose) {
  if (h <= 0) return std::nullopt;
  const Shape output = models[0]->output_shape();
  const int64_t n = train.size();
  const Tensor hx = train.x().slice_rows(n - h, n), hy = train.y().slice_rows(n - h, n);
  std::vector<Tensor> outs;
  for (auto& m : models) outs.push_back(m->predict(hx));
  CombinerOptions co = spec.combiner;
  co.seed = seed;
  if (verbose > 0) std::printf("stacking combiner: trained on the members' predictions for %lld held-out samples\n", static_cast<long long>(h));
  Model combiner = train_combiner(outs, hy, co);
  save_model(combiner, (dir / "combiner.safetensors").string(), {{"nnlab.loss", output == Shape{1} ? "binary_crossentropy" : "categorical_crossentropy"}});
  return combiner;
}

}  // namespace

EnsembleResult run_ensemble(const EnsembleSpec& spec, const std::string& out_dir, int verbose) {
  spec.validate();
  const Experiment base = Experiment::from_json(spec.base, spec.base_source);
  LoadedData data = load_data(base.data);
  check(data.train.num_classes > 0 && data.train.target_width() == 1,
        "ensemble: '" + base.data.dataset + "' is not a classification dataset; ensembles vote over classes");
  const int64_t n = data.train.size();
  const auto members = ensemble_members(spec, n, data.train.sample_shape());
  const int64_t h = holdout_size(spec.holdout, n);
  const size_t k = members.size();
  fs::create_directories(out_dir);
  const fs::path dir(out_dir);

  EnsembleResult res;
  res.dir = out_dir;
  res.holdout_samples = h;
  res.parallel = std::min<int>(spec.parallel == 0 ? default_parallelism(static_cast<int>(k)) : spec.parallel, static_cast<int>(k));
  const int threads_each = std::max(1, kernels::num_threads() / res.parallel);
  if (verbose > 0)
    std::printf("ensemble '%s': %zu members on %lld training samples (holdout for stacking: the last %lld), %s\n",
                spec.name.c_str(), k, static_cast<long long>(n - h), static_cast<long long>(h),
                res.parallel > 1 ? (std::to_string(res.parallel) + " side by side, " + std::to_string(threads_each) +
                                    " thread(s) each").c_str()
                                 : "one after another");

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::shared_ptr<Model>> models = MemberRunner(members, dir, threads_each, verbose).run(res.parallel);
  res.train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!dist::is_root()) return res;  // under mpirun: rank 0 combines and evaluates once

  std::optional<Model> combiner = train_stacking(spec, models, dir, data.train, h, base.seed, verbose);
  const Shape output = models[0]->output_shape();
  const nlohmann::json file = detail::write_ensemble_file(spec, members, dir, data.train, output, h);

  // Everything on the test set, with the models in memory: the ones just saved, put together as
  // the artefact just written describes them.
  Ensemble en = Ensemble::from_models(file, (dir / "ensemble.json").string(), std::move(models), std::move(combiner));
  const bool has_test = data.test.size() > 0;
  res.report = evaluate_ensemble(en, has_test ? data.test : data.train);
  res.report.evaluated_on = has_test ? "test" : "train";
  detail::write_ensemble_reports(res, members, base);
  return res;
}

}  // namespace nnlab
