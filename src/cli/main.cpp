#include <cstdio>
#include <exception>
#include <new>
#include <optional>
#include <string>

#include "commands.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/error.hpp"
#include "nnlab/training/interrupt.hpp"

namespace {

// "train, evaluate, predict, ...": the commands, for messages about a missing or unknown one.
std::string command_names(CLI::App& app) {
  std::string names;
  for (const CLI::App* c : app.get_subcommands([](CLI::App*) { return true; }))
    names += (names.empty() ? "" : ", ") + c->get_name();
  return names;
}

// CLI11's refusals as one nnlab line. A validator's "--epochs: must be ..." reads "--epochs must be ...".
// Under mpirun every rank meets the same command line: rank 0 alone says so.
int usage_error(const CLI::ParseError& e) {
  if (nnlab::dist::rank() > 0) return 2;
  std::string m = e.what();
  if (const auto p = m.find(": must "); p != std::string::npos) m.erase(p, 1);
  std::fprintf(stderr, "nnlab: error: %s (see --help)\n", m.c_str());
  return 2;
}

using nnlab::dist::fail;

int run(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  // Under mpirun: MPI for the process's lifetime; only rank 0 prints what the commands report
  // (errors go to stderr from any rank).
  std::optional<nnlab::dist::Session> session;
  try {
    session.emplace(argc, argv);
  } catch (const nnlab::Error& e) {
    std::fprintf(stderr, "nnlab: error: %s\n", e.what());
    return 1;
  }
  if (nnlab::dist::rank() > 0 && !std::freopen("/dev/null", "w", stdout)) {
    std::fprintf(stderr, "nnlab: error: rank %d cannot silence its standard output\n", nnlab::dist::rank());
    return 1;
  }
  return run(argc, argv);
}

namespace {

int run(int argc, char** argv) {
  CLI::App app{"nnlab: train dense neural networks on the CPU, and see every idea of the course work"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  nnlab::cli::add_train(app);
  nnlab::cli::add_model_commands(app);
  nnlab::cli::add_lessons(app);
  nnlab::cli::add_gradcheck(app);
  nnlab::cli::add_experiments(app);
  nnlab::cli::add_sweep(app);
  nnlab::cli::add_tune(app);
  nnlab::cli::add_ensemble(app);
  nnlab::cli::add_data(app);
  nnlab::cli::add_plot(app);
  nnlab::cli::add_augment(app);
  nnlab::cli::add_report(app);
  nnlab::cli::add_onnx(app);
  // The first word that is not an option names the command: say so when it names none.
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    bool known = false;
    for (const CLI::App* c : app.get_subcommands([](CLI::App*) { return true; })) known = known || c->check_name(word);
    if (!known) {
      if (nnlab::dist::rank() > 0) return 2;
      std::fprintf(stderr, "nnlab: error: unknown command '%s' (known: %s)\n", word.c_str(), command_names(app).c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {  // --help, --help-all
    return app.exit(e);
  } catch (const CLI::RequiredError& e) {
    if (app.get_subcommands().empty()) {
      std::fprintf(stderr, "nnlab: error: a command is required (one of: %s; see --help)\n", command_names(app).c_str());
      return 2;
    }
    return usage_error(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e);
  } catch (const nnlab::Interrupted& e) {
    // Data-parallel ranks agree on the step they stop after (the trainer reduces Ctrl-C), so they
    // all end here together; rank 0 says so.
    if (nnlab::dist::rank() == 0) std::fprintf(stderr, "\nnnlab: %s\n", e.what());
    return 130;
  } catch (const nnlab::Error& e) {
    return fail(std::string("nnlab: error: ") + e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("nnlab: error: out of memory (a size in the experiment or its data is more than this machine holds)", 1);
  } catch (const std::exception& e) {
    return fail(std::string("nnlab: error: ") + e.what(), 2);
  }
  return 0;
}

}  // namespace
