// The command line is thin: each command parses its flags and calls the library.
#pragma once
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "nnlab/experiment.hpp"

namespace nnlab::cli {

// Flag validators whose refusals read as nnlab's own messages. CLI11 reports "--epochs: <text>";
// main() prints that as `nnlab: error: --epochs must be a whole number of at least 1, got 0`.
// A whole number in [min, max]; "abc", "1.5" and values beyond int64 are refused with the text given.
inline CLI::Validator whole_number(int64_t min, int64_t max = std::numeric_limits<int64_t>::max()) {
  return CLI::Validator(
      [min, max](std::string& in) -> std::string {
        const std::string rule = max == std::numeric_limits<int64_t>::max() || max == std::numeric_limits<int>::max()
                                     ? "a whole number of at least " + std::to_string(min)
                                     : "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
        size_t used = 0;
        long long v = 0;
        try {
          v = std::stoll(in, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (in.empty() || used != in.size()) return "must be " + rule + ", got '" + in + "'";
        if (v < min) return "must be " + rule + ", got " + in;
        if (v > max) return "must be a whole number of at most " + std::to_string(max) + ", got " + in;
        return {};
      },
      min == 1 ? "INT>=1" : "INT");
}

// A finite real number above `above` (or at least it, when inclusive).
inline CLI::Validator real_number(double above, bool inclusive = false) {
  return CLI::Validator(
      [above, inclusive](std::string& in) -> std::string {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", above);
        const std::string rule = std::string("a finite number ") + (inclusive ? "of at least " : "above ") + buf;
        size_t used = 0;
        double v = 0;
        try {
          v = std::stod(in, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (in.empty() || used != in.size() || !std::isfinite(v) || (inclusive ? v < above : v <= above))
          return "must be " + rule + ", got '" + in + "'";
        return {};
      },
      "NUMBER");
}

void add_train(CLI::App& app);
void add_model_commands(CLI::App& app);  // evaluate, predict, summary
void add_lessons(CLI::App& app);         // xor, linearity
void add_gradcheck(CLI::App& app);       // gradcheck
void add_experiments(CLI::App& app);     // experiments (list)
void add_sweep(CLI::App& app);
void add_tune(CLI::App& app);            // tune (hyperparameter search, successive halving)
void add_ensemble(CLI::App& app);
// `nnlab evaluate` on an ensemble folder or ensemble.json (src/cli/cmd_ensemble.cpp).
// Test-time augmentation for `evaluate --tta N`: N augmented copies of `data` made with the
// experiment's [augment] table (seeded with seed), or none for N = 0; throws naming `source` when the
// experiment has no [augment] table.
std::vector<Tensor> tta_copies(const Experiment& e, const Dataset& data, int copies, uint64_t seed,
                               const std::string& source);
void evaluate_ensemble_command(const std::string& path, const std::string& dataset, int64_t batch_size,
                               int tta = 0, uint64_t tta_seed = 0);
void add_plot(CLI::App& app);            // plot (run curves, run comparison, activations)
void add_augment(CLI::App& app);         // augment (preview grid as PNG)
void add_data(CLI::App& app);             // data (list, convert, synth, download)
void add_report(CLI::App& app);           // report (report.html of a run, a sweep, or several runs)
void add_onnx(CLI::App& app);            // export (ONNX), import (ONNX)

}  // namespace nnlab::cli
