// Private to src/training/schedules: the options checks that repeat the bad value, and the number
// formatting of describe().
#pragma once
#include <cmath>
#include <nlohmann/json.hpp>
#include <string>

#include "nnlab/error.hpp"
#include "nnlab/training/schedules.hpp"

namespace nnlab::schedules {

// The value as a user would write it: 0.5, 10, 1e-05.
inline std::string show(double value) { return nlohmann::json(value).dump(); }

// Throws "schedule 'step': every must be >= 1; received every=0".
inline void require(bool ok, const std::string& schedule, const std::string& key, double value,
                    const std::string& rule) {
  if (!ok) {
    throw Error("schedule '" + schedule + "': " + key + " must be " + rule + "; received " + key + "=" + show(value));
  }
}

inline constexpr double kPi = 3.14159265358979323846;

}  // namespace nnlab::schedules
