// Errors: every failure a user can cause is an nnlab::Error whose message names the bad value,
// file or line. The command-line tool prints it as one line and exits non-zero.
#pragma once
#include <stdexcept>
#include <string>

namespace nnlab {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Throws nnlab::Error(message) when cond is false.
inline void check(bool cond, const std::string& message) {
  if (!cond) throw Error(message);
}

}  // namespace nnlab
