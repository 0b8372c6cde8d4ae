#include <cstdio>
#include <exception>

#include "commands.hpp"
#include "nnlab/error.hpp"
#include "nnlab/training/interrupt.hpp"

int main(int argc, char** argv) {
  CLI::App app{"nnlab: train dense neural networks on the CPU, and see every idea of the course work"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  nnlab::cli::add_train(app);
  nnlab::cli::add_model_commands(app);
  nnlab::cli::add_lessons(app);
  nnlab::cli::add_gradcheck(app);
  nnlab::cli::add_experiments(app);
  nnlab::cli::add_sweep(app);
  nnlab::cli::add_ensemble(app);
  nnlab::cli::add_data(app);
  nnlab::cli::add_plot(app);
  nnlab::cli::add_augment(app);
  nnlab::cli::add_report(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const nnlab::Interrupted& e) {
    std::fprintf(stderr, "\nnnlab: %s\n", e.what());
    return 130;
  } catch (const nnlab::Error& e) {
    std::fprintf(stderr, "nnlab: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nnlab: error: %s\n", e.what());
    return 2;
  }
  return 0;
}
