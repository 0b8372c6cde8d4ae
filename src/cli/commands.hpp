// The command line is thin: each command parses its flags and calls the library.
#pragma once
#include <CLI/CLI.hpp>

namespace nnlab::cli {

void add_train(CLI::App& app);
void add_model_commands(CLI::App& app);  // evaluate, predict, summary
void add_lessons(CLI::App& app);         // xor, linearity
void add_gradcheck(CLI::App& app);       // gradcheck
void add_experiments(CLI::App& app);     // experiments (list)
void add_sweep(CLI::App& app);
void add_ensemble(CLI::App& app);
// `nnlab evaluate` on an ensemble folder or ensemble.json (src/cli/cmd_ensemble.cpp).
void evaluate_ensemble_command(const std::string& path, const std::string& dataset, int64_t batch_size);
void add_plot(CLI::App& app);            // plot (run curves, run comparison, activations)
void add_augment(CLI::App& app);         // augment (preview grid as PNG)
void add_data(CLI::App& app);             // data (list, convert, synth, download)
void add_report(CLI::App& app);           // report (report.html of a run, a sweep, or several runs)

}  // namespace nnlab::cli
