#include "nnlab/sweep.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "nnlab/config_reader.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/text.hpp"

namespace fs = std::filesystem;

namespace nnlab {

bool SweepAxes::empty() const {
  return width.empty() && depth.empty() && activation.empty() && dropout.empty() && learning_rate.empty() &&
         batch_size.empty() && !families;
}

namespace {

bool is_hidden_weight_layer(const nlohmann::json& l) {
  const std::string t = l.value("type", "");
  return t == "dense" || t == "maxout";
}

// Indices of the hidden weight layers: every dense/maxout layer but the last one (the output).
std::vector<size_t> hidden_indices(const nlohmann::json& layers) {
  std::vector<size_t> idx;
  for (size_t i = 0; i < layers.size(); ++i)
    if (is_hidden_weight_layer(layers[i])) idx.push_back(i);
  check(!idx.empty(), "sweep: the base model has no dense layer");
  idx.pop_back();
  return idx;
}

nlohmann::json layers_of(const nlohmann::json& config) { return config.at("model").at("layers"); }

// Rebuilds the layer list from hidden layer specs and the output layer (dropouts dropped).
nlohmann::json with_hidden(const nlohmann::json& layers, const std::vector<nlohmann::json>& hidden) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : hidden) out.push_back(h);
  for (size_t i = layers.size(); i-- > 0;)
    if (is_hidden_weight_layer(layers[i])) {
      out.push_back(layers[i]);
      break;
    }
  return out;
}


Variant layers_variant(const std::string& name, const nlohmann::json& layers) {
  Variant v;
  v.name = name;
  v.patch = {{"model", {{"layers", layers}}}};
  return v;
}

}  // namespace

std::vector<Variant> family_variants(const nlohmann::json& base) {
  const nlohmann::json layers = layers_of(base);
  std::vector<nlohmann::json> hidden;
  for (size_t i : hidden_indices(layers)) hidden.push_back(layers[i]);
  check(!hidden.empty(), "sweep: the families need a base model with at least one hidden layer");
  auto scaled = [](std::vector<nlohmann::json> h, double k) {
    for (auto& l : h) l["units"] = std::max<int64_t>(1, std::llround(l.at("units").get<double>() * k));
    return h;
  };
  std::vector<nlohmann::json> deeper(hidden.rbegin(), hidden.rend());
  deeper.insert(deeper.end(), hidden.begin(), hidden.end());
  return {layers_variant("baseline", with_hidden(layers, hidden)), layers_variant("wider", with_hidden(layers, scaled(hidden, 2))),
          layers_variant("deeper", with_hidden(layers, deeper)), layers_variant("both", with_hidden(layers, scaled(deeper, 2)))};
}

namespace {

// The depth axis: d hidden layers, the base's in order and its last one repeated.
void set_depth(nlohmann::json& layers, int d) {
  check(d >= 1, "sweep: depth must be at least 1, got " + std::to_string(d));
  std::vector<nlohmann::json> hidden;
  const auto idx = hidden_indices(layers);
  check(!idx.empty(), "sweep: depth needs a base model with a hidden layer");
  for (int i = 0; i < d; ++i) hidden.push_back(layers[idx[std::min<size_t>(static_cast<size_t>(i), idx.size() - 1)]]);
  layers = with_hidden(layers, hidden);
}

// The width axis: every hidden layer's units times w (at least 1).
void scale_width(nlohmann::json& layers, double w) {
  check(w > 0 && std::isfinite(w), "sweep: width multipliers must be positive, got " + number_str(w));
  for (size_t i : hidden_indices(layers)) {
    const nlohmann::json& units = layers[i].at("units");
    check(units.is_number(), "sweep: width needs hidden layers with a number of units, got " + units.dump());
    const double scaled = units.get<double>() * w;  // the model's size check names the layer if it is too big
    check(scaled < 1e15, "sweep: width " + number_str(w) + " gives hidden layer " + std::to_string(i + 1) + " " +
                             number_str(scaled) + " units, far more than any machine holds");
    layers[i]["units"] = std::max<int64_t>(1, std::llround(scaled));
  }
}

}  // namespace

std::vector<Variant> axis_variants(const nlohmann::json& base, const SweepAxes& axes) {
  std::vector<Variant> out{Variant{}};
  auto product = [&](auto values, auto apply) {
    if (values.empty()) return;
    std::vector<Variant> next;
    for (const auto& v : out)
      for (const auto& value : values) {
        Variant n = v;
        apply(n, value);
        next.push_back(n);
      }
    out = std::move(next);
  };
  auto add_name = [](Variant& v, const std::string& part) { v.name += (v.name.empty() ? "" : ",") + part; };
  // The layer axes edit one layer list, carried in the patch.
  auto layers = [&](Variant& v) {
    if (!v.patch.contains("model")) v.patch["model"]["layers"] = layers_of(base);
    return &v.patch["model"]["layers"];
  };
  product(axes.depth, [&](Variant& v, int d) {
    set_depth(*layers(v), d);
    add_name(v, "depth=" + std::to_string(d));
  });
  product(axes.width, [&](Variant& v, double w) {
    scale_width(*layers(v), w);
    add_name(v, "width=" + number_str(w));
  });
  product(axes.activation, [&](Variant& v, const std::string& a) {
    nlohmann::json* l = layers(v);
    for (size_t i : hidden_indices(*l))
      if ((*l)[i].value("type", "") == "dense") (*l)[i]["activation"] = a;
    add_name(v, "activation=" + a);
  });
  product(axes.dropout, [&](Variant& v, double r) {
    check(r >= 0 && r < 1, "sweep: dropout rates must be in [0, 1), got " + number_str(r));
    nlohmann::json* l = layers(v);
    const auto idx = hidden_indices(*l);
    nlohmann::json out = nlohmann::json::array();
    for (size_t i = 0; i < l->size(); ++i) {
      if ((*l)[i].value("type", "") == "dropout") continue;
      out.push_back((*l)[i]);
      if (r > 0 && std::find(idx.begin(), idx.end(), i) != idx.end()) out.push_back({{"type", "dropout"}, {"rate", r}});
    }
    *l = out;
    add_name(v, "dropout=" + number_str(r));
  });
  product(axes.learning_rate, [&](Variant& v, double lr) {
    check(lr > 0, "sweep: learning rates must be positive, got " + number_str(lr));
    v.overrides.push_back("optimizer.learning_rate=" + number_str(lr));
    add_name(v, "lr=" + number_str(lr));
  });
  product(axes.batch_size, [&](Variant& v, int64_t b) {
    check(b >= 1, "sweep: batch sizes must be at least 1, got " + std::to_string(b));
    v.overrides.push_back("train.batch_size=" + std::to_string(b));
    add_name(v, "batch=" + std::to_string(b));
  });
  if (axes.families) {
    std::vector<Variant> next;
    for (const auto& v : out) {
      nlohmann::json b = base;
      b.merge_patch(v.patch);
      for (auto f : family_variants(b)) {
        f.name = v.name.empty() ? f.name : v.name + "," + f.name;
        f.overrides.insert(f.overrides.begin(), v.overrides.begin(), v.overrides.end());
        next.push_back(f);
      }
    }
    out = std::move(next);
  }
  return out;
}

SweepSpec load_sweep(const std::string& name_or_path, const SweepAxes& axes, const std::vector<std::string>& overrides) {
  SweepSpec s;
  const std::string path = resolve_experiment(name_or_path);
  nlohmann::json file = parse_config_file(path);
  if (file.contains("variant") || file.contains("base")) {  // a sweep file
    check(file.contains("base") && file["base"].is_string(), path + ": a sweep file needs base = \"experiment\"");
    s.name = file.value("name", fs::path(path).stem().string());
    s.metric = file.value("metric", s.metric);
    s.base_source = resolve_experiment(file["base"].get<std::string>());
    s.base = parse_config_file(s.base_source);
    if (file.contains("set"))
      for (const auto& o : file["set"]) apply_override(s.base, o.get<std::string>());
    for (const auto& o : overrides) apply_override(s.base, o);
    if (file.contains("variant")) {
      check(file["variant"].is_array(), path + ": [[variant]] must be an array of tables");
      for (const auto& v : file["variant"]) {
        Variant var;
        check(v.contains("name") && v["name"].is_string(), path + ": every [[variant]] needs a name");
        var.name = v["name"].get<std::string>();
        if (v.contains("config")) var.patch = v["config"];
        if (v.contains("set"))
          for (const auto& o : v["set"]) var.overrides.push_back(o.get<std::string>());
        for (auto it = v.begin(); it != v.end(); ++it)
          check(it.key() == "name" || it.key() == "config" || it.key() == "set",
                path + ": [[variant]] '" + var.name + "': unknown key '" + it.key() + "' (known: name, config, set)");
        s.variants.push_back(var);
      }
    }
    if (!axes.empty()) {
      auto gen = axis_variants(s.base, axes);
      s.variants.insert(s.variants.end(), gen.begin(), gen.end());
    }
  } else {
    s.base_source = path;
    s.base = file;
    for (const auto& o : overrides) apply_override(s.base, o);
    s.name = s.base.value("name", fs::path(path).stem().string()) + "-sweep";
    check(!axes.empty(), "sweep: give a sweep file, or axes to vary (--width, --depth, --activation, --dropout, --lr, "
                         "--batch-size, --preset families)");
    s.variants = axis_variants(s.base, axes);
  }
  check(!s.variants.empty(), path + ": the sweep has no variants");
  std::vector<std::string> names;
  // Every variant must take the same input and give the same outputs as the base, so that their
  // results compare; checked (with every variant's config) before anything trains.
  auto outputs = [](const nlohmann::json& c) {
    const auto& layers = c.at("model").at("layers");
    for (size_t i = layers.size(); i-- > 0;)
      if (is_hidden_weight_layer(layers[i])) return layers[i].at("units").get<int64_t>();
    return int64_t{-1};
  };
  auto input = [](const nlohmann::json& c) { return c.at("model").value("input", nlohmann::json()); };
  for (const auto& v : s.variants) {
    check(std::find(names.begin(), names.end(), v.name) == names.end(), "sweep: two variants are named '" + v.name + "'");
    names.push_back(v.name);
    const nlohmann::json c = variant_config(s, v);  // validates the variant as an experiment
    check(outputs(c) == outputs(s.base), "sweep variant '" + v.name + "' has " + std::to_string(outputs(c)) +
                                             " outputs but the base has " + std::to_string(outputs(s.base)));
    check(input(c) == input(s.base), "sweep variant '" + v.name + "' takes input " + input(c).dump() +
                                         " but the base takes " + input(s.base).dump());
    check(c.value("data", nlohmann::json::object()).value("dataset", "") ==
              s.base.value("data", nlohmann::json::object()).value("dataset", ""),
          "sweep variant '" + v.name + "' trains on another dataset than the base");
  }
  return s;
}

nlohmann::json variant_config(const SweepSpec& sweep, const Variant& v) {
  nlohmann::json c = sweep.base;
  c.merge_patch(v.patch);
  for (const auto& o : v.overrides) apply_override(c, o);
  c["name"] = sweep.name + "/" + v.name;
  try {
    Experiment::from_json(c, sweep.base_source);
  } catch (const Error& e) {
    throw Error("sweep variant '" + v.name + "': " + e.what());
  }
  return c;
}

static SweepRow row_of(const std::string& variant, const std::string& run_dir, const std::string& metric) {
  SweepRow r;
  r.variant = variant;
  r.run_dir = run_dir;
  const std::string result = (fs::path(run_dir) / "result.json").string();
  const auto j = parse_json(read_file(result), result);
  r.params = j.value("params", int64_t{0});
  r.train_seconds = j.value("train_seconds", 0.0);
  r.verdict = j.value("verdict", "");
  r.test_accuracy = j.value("test_accuracy", -1.0);
  const History h = History::from_csv(read_file((fs::path(run_dir) / "history.csv").string()), run_dir);
  const auto col = h.column(metric);
  check(!col.empty() && !std::isnan(col.back()),
        run_dir + ": history has no '" + metric + "' (train with validation data, or choose --metric)");
  const bool lower = metric.find("loss") != std::string::npos;
  size_t best = 0;
  for (size_t i = 1; i < col.size(); ++i)
    if (lower ? col[i] < col[best] : col[i] > col[best]) best = i;
  r.best = col[best];
  r.best_epoch = static_cast<int>(best) + 1;
  r.final = col.back();
  return r;
}

namespace {

// A variant's run folder inside the sweep's: its name with '/', ' ', '=' and ',' made harmless.
fs::path variant_folder(const std::string& out_dir, const std::string& name) {
  std::string folder = name;
  for (char& c : folder)
    if (c == '/' || c == ' ' || c == '=' || c == ',') c = c == ',' ? '_' : (c == '=' ? '-' : '_');
  return fs::path(out_dir) / folder;
}

// Trains variant i into its run folder, unless a finished run is there already.
void train_variant(const SweepSpec& sweep, size_t i, const fs::path& run, int verbose) {
  const Variant& v = sweep.variants[i];
  if (fs::exists(run / "result.json")) {
    if (verbose > 0) std::printf("[%zu/%zu] %s: finished earlier, skipped\n", i + 1, sweep.variants.size(), v.name.c_str());
    return;
  }
  if (verbose > 0) std::printf("[%zu/%zu] %s\n", i + 1, sweep.variants.size(), v.name.c_str());
  std::fflush(stdout);
  const Experiment e = Experiment::from_json(variant_config(sweep, v), sweep.base_source);
  RunOptions ro;
  ro.out_dir = run.string();
  ro.verbose = verbose > 1 ? 1 : 0;
  ro.resume = true;  // an interrupted variant continues from its checkpoint
  const RunResult r = run_experiment(e, ro);
  if (verbose > 0)
    std::printf("      %lld params, %.1fs, %s%s\n", static_cast<long long>(r.params), r.train_seconds,
                r.diagnosis.verdict == Fit::Undetermined ? "" : (fit_name(r.diagnosis.verdict) + ", ").c_str(),
                r.test_accuracy >= 0 ? ("accuracy " + std::to_string(100.0 * r.test_accuracy).substr(0, 5) + "%").c_str() : "");
  std::fflush(stdout);
}

}  // namespace

std::vector<SweepRow> run_sweep(const SweepSpec& sweep, const std::string& out_dir, int verbose) {
  // Under mpirun, rank r trains variants r, r + ranks, ... each on its own (dist::LocalScope: as one
  // process would, so the results do not depend on the number of ranks) into the shared sweep
  // folder; after a barrier rank 0 reads every variant's run folder and alone writes the table and
  // charts. The other ranks return no rows.
  const int rank = dist::rank(), ranks = dist::size();
  if (rank == 0) fs::create_directories(out_dir);
  dist::barrier();
  if (ranks > 1 && verbose > 0) {
    // "rank 0: 1, 3; rank 1: 2" (variants numbered from 1, as the lines below number them)
    std::string who;
    for (int k = 0; k < std::min(ranks, 8); ++k) {
      who += (k ? "; rank " : "rank ") + std::to_string(k) + ":";
      const std::vector<size_t> theirs = dist::dealt(sweep.variants.size(), k, ranks);
      for (size_t j = 0; j < std::min<size_t>(theirs.size(), 4); ++j) who += (j ? ", " : " ") + std::to_string(theirs[j] + 1);
      if (theirs.size() > 4) who += ", ...";
      if (theirs.empty()) who += " none";
    }
    if (ranks > 8) who += "; ...";
    std::printf("spread over %d ranks (%s), only rank 0's lines shown; rank 0 writes the table when all have finished\n",
                ranks, who.c_str());
  }
  {
    const dist::LocalScope alone;
    for (size_t i : dist::dealt(sweep.variants.size(), rank, ranks))
      train_variant(sweep, i, variant_folder(out_dir, sweep.variants[i].name), verbose);
  }
  dist::barrier();
  if (rank > 0) return {};
  std::vector<SweepRow> rows;
  std::vector<std::pair<std::string, History>> curves;
  for (size_t i = 0; i < sweep.variants.size(); ++i) {
    const Variant& v = sweep.variants[i];
    const fs::path run = variant_folder(out_dir, v.name);
    if (ranks > 1)
      check(fs::exists(run / "result.json"),
            "sweep variant '" + v.name + "', trained by rank " + std::to_string(dist::dealer(i, ranks)) +
                ", left no result in " + run.string() +
                " that rank 0 can read: the ranks need the sweep folder on a shared file system");
    rows.push_back(row_of(v.name, run.string(), sweep.metric));
    curves.emplace_back(v.name, History::from_csv(read_file((run / "history.csv").string()), run.string()));
  }
  const bool lower = sweep.metric.find("loss") != std::string::npos;
  std::stable_sort(rows.begin(), rows.end(), [&](const SweepRow& a, const SweepRow& b) {
    return lower ? a.best < b.best : a.best > b.best;
  });
  write_file_atomic((fs::path(out_dir) / "table.md").string(), sweep_table_markdown(rows, sweep.metric));
  write_file_atomic((fs::path(out_dir) / "table.csv").string(), sweep_table_csv(rows, sweep.metric));
  for (const std::string m : {"val_loss", "val_accuracy", "lr"}) {
    bool all = true;
    for (const auto& [_, h] : curves) {
      const auto c = h.column(m);
      all = all && !c.empty() && !std::isnan(c.back());
    }
    bool varies = false;  // the rate is drawn only when some run changes it
    for (const auto& [_, h] : curves) {
      const auto c = h.column(m);
      varies = varies || (!c.empty() && std::any_of(c.begin(), c.end(), [&](double v) { return v != c.front(); }));
    }
    if (all && (m != "lr" || varies)) plot_runs(curves, m, (fs::path(out_dir) / ("compare-" + m + ".svg")).string());
  }
  write_file_atomic((fs::path(out_dir) / "report.html").string(), collection_report_html(out_dir));
  return rows;
}

std::string metric_cell(const std::string& metric, double v) {
  char buf[32];
  if (metric.find("accuracy") != std::string::npos) std::snprintf(buf, sizeof buf, "%.2f%%", 100.0 * v);
  else std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

std::string sweep_table_markdown(const std::vector<SweepRow>& rows, const std::string& metric) {
  std::ostringstream os;
  // "epoch of best <metric>": the table ranks by the sweep's metric (val_accuracy unless the sweep names
  // another), while the val_loss chart's dots mark each run's lowest validation loss, often another epoch.
  os << "| variant | params | best " << metric << " | epoch of best " << metric << " | final " << metric
     << " | train time | verdict |\n";
  os << "|---|---:|---:|---:|---:|---:|---|\n";
  for (const auto& r : rows) {
    char t[32];
    std::snprintf(t, sizeof t, "%.1fs", r.train_seconds);
    os << "| " << r.variant << " | " << r.params << " | " << metric_cell(metric, r.best) << " | " << r.best_epoch << " | "
       << metric_cell(metric, r.final) << " | " << t << " | " << r.verdict << " |\n";
  }
  return os.str();
}

std::string sweep_table_csv(const std::vector<SweepRow>& rows, const std::string& metric) {
  std::ostringstream os;
  os.precision(9);
  os << "variant,params,best_" << metric << ",epoch_of_best_" << metric << ",final_" << metric
     << ",train_seconds,verdict,run_dir\n";
  for (const auto& r : rows)
    os << '"' << r.variant << "\"," << r.params << "," << r.best << "," << r.best_epoch << "," << r.final << ","
       << r.train_seconds << "," << r.verdict << "," << r.run_dir << "\n";
  return os.str();
}

}  // namespace nnlab
