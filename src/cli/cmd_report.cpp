// `nnlab report`: writes a run folder's report.html (one page: settings, curves, diagnosis, confusion
// matrix, mistakes), a sweep's or ensemble's page, or a page comparing several run folders; --open
// shows it in the desktop's browser.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/error.hpp"
#include "nnlab/report/html.hpp"

namespace nnlab::cli {

namespace {

// Single quotes for the shell, so that any path survives.
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

void add_report(CLI::App& app) {
  struct Args {
    std::vector<std::string> dirs;
    std::string out;
    bool open = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write a run's report.html (one self-contained page to open in a browser), a sweep's or ensemble's page, or "
      "with two or more run folders a page comparing them");
  cmd->add_option("dirs", args->dirs, "A run folder, a sweep or ensemble folder, or several run folders")->required();
  cmd->add_option("--out", args->out,
                  "Where to write the page (default: report.html in the folder; report-compare.html for several runs)");
  cmd->add_flag("--open", args->open, "Open the page in the desktop's browser (xdg-open) once written");
  cmd->callback([args] {
    const std::string path = write_report(args->dirs, args->out);
    std::printf("%s\n", path.c_str());
    if (args->open) {
      const std::string command = "xdg-open " + shell_quote(path) + " >/dev/null 2>&1 &";
      if (std::system(command.c_str()) != 0)
        throw Error("report: could not run xdg-open to show " + path + "; open it in a browser yourself");
    }
  });
}

}  // namespace nnlab::cli
