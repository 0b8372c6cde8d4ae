#include "nnlab/random.hpp"

#include <sstream>

#include "nnlab/error.hpp"

namespace nnlab {

std::string Rng::state() const {
  std::ostringstream os;
  os << engine_;
  return os.str();
}

void Rng::set_state(const std::string& s) {
  std::istringstream is(s);
  is >> engine_;
  check(!is.fail(), "rng: corrupt random state");
}

}  // namespace nnlab
