#include <cstdio>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/training/interrupt.hpp"
#include "nnlab/kernels/gemm.hpp"

namespace nnlab::cli {

void add_train(CLI::App& app) {
  struct Args {
    std::string experiment = "fashion-mnist";
    std::vector<std::string> set;
    int epochs = 0, threads = 0;
    int64_t batch_size = 0, limit = 0;
    double lr = 0;
    int64_t seed = -1;
    std::string out, resume;
    bool quiet = false, keep_denormals = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("train", "Train an experiment (a built-in name or a .toml/.json file)");
  cmd->add_option("experiment", args->experiment, "Experiment name or file")->capture_default_str();
  cmd->add_option("--set", args->set, "Override a setting: key.path=value (repeatable), e.g. train.epochs=5");
  cmd->add_option("--epochs", args->epochs, "Number of epochs")->check(whole_number(1, std::numeric_limits<int>::max()));
  cmd->add_option("--batch-size", args->batch_size, "Mini-batch size")->check(whole_number(1));
  cmd->add_option("--lr", args->lr, "Learning rate")->check(real_number(0));
  cmd->add_option("--seed", args->seed, "Seed for every random choice")->check(whole_number(0));
  cmd->add_option("--limit", args->limit, "Use only the first N training samples")->check(whole_number(1));
  cmd->add_option("--threads", args->threads, "Threads for the whole process")
      ->check(CLI::Validator(
          [](std::string& in) -> std::string {
            std::string why = whole_number(1, kernels::max_threads())(in);
            return why.empty() ? why : "must be " + kernels::threads_rule() + why.substr(why.find(", got "));
          },
          "INT>=1"));
  cmd->add_flag("--keep-denormals", args->keep_denormals,
                "Compute with IEEE denormal numbers instead of flushing them to zero (up to 4x slower on some processors)");
  cmd->add_option("--out", args->out, "Run folder (default runs/<name>-<time>)");
  cmd->add_flag("-q,--quiet", args->quiet, "Print only the final result");
  cmd->add_option("--resume", args->resume, "Continue an interrupted run from its folder's last checkpoint");
  cmd->callback([args] {
    std::vector<std::string> o = args->set;
    if (args->epochs) o.push_back("train.epochs=" + std::to_string(args->epochs));
    if (args->batch_size) o.push_back("train.batch_size=" + std::to_string(args->batch_size));
    if (args->lr > 0) {
      char lr[40];
      std::snprintf(lr, sizeof lr, "%.17g", args->lr);  // to_string would print 1e-7 as 0.000000
      o.push_back(std::string("optimizer.learning_rate=") + lr);
    }
    if (args->seed >= 0) o.push_back("seed=" + std::to_string(args->seed));
    if (args->limit) o.push_back("data.limit=" + std::to_string(args->limit));
    if (args->threads) o.push_back("threads=" + std::to_string(args->threads));
    if (args->keep_denormals) o.push_back("flush_denormals=false");
    if (!args->resume.empty()) {
      check(std::filesystem::is_regular_file(std::filesystem::path(args->resume) / "config.json"),
            "--resume " + args->resume + ": not a run folder (no config.json)");
      check(args->out.empty() || args->out == args->resume, "--resume continues in its own folder; drop --out");
    }
    const Experiment e = Experiment::load(args->resume.empty() ? args->experiment : args->resume, o);
    RunOptions ro;
    ro.out_dir = args->resume.empty() ? args->out : args->resume;
    ro.resume = !args->resume.empty();
    install_interrupt_handler();
    ro.verbose = args->quiet ? 0 : 1;
    if (!args->quiet) std::printf("nnlab: experiment '%s' from %s\n", e.name.c_str(), e.source.c_str());
    const RunResult r = run_experiment(e, ro);
    if (!args->quiet && r.confusion.classes > 2) std::printf("\n%s\n", r.confusion.to_text().c_str());
    if (!args->quiet) std::printf("%s\n", r.diagnosis.text().c_str());
    if (r.test_accuracy >= 0) {
      std::printf("final (%s data): loss %.4f, accuracy %.2f%%\n", r.evaluated_on.c_str(), r.test_loss,
                  100.0 * r.test_accuracy);
    } else {
      std::printf("final (%s data): loss %.6f\n", r.evaluated_on.c_str(), r.test_loss);
    }
    std::printf("run folder: %s\n", r.run_dir.c_str());
    if (!args->quiet) std::printf("report: %s\n", (std::filesystem::path(r.run_dir) / "report.html").c_str());
  });
}

}  // namespace nnlab::cli
