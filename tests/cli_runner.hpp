// Runs the nnlab command in a shell for end-to-end tests and captures its output and exit code.
#pragma once
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace nnlab::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// args: the shell-quoted arguments after `nnlab`.
inline CommandResult run_nnlab(const std::string& args) {
  const std::string cmd = std::string("cd '") + NNLAB_SOURCE_DIR + "' && '" + NNLAB_CLI + "' " + args + " 2>&1";
  CommandResult r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace nnlab::testing
