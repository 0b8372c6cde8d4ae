// Finite-difference gradient checks for tests (header-only).
//
//   Tensor x = ...;                                  // the input the function reads
//   auto f = [&] { return loss_of(x); };             // a scalar of x, best summed in double
//   Tensor g = analytic_gradient_of(x);              // what backward() claims df/dx is
//   EXPECT_LT(nnlab::testing::max_gradient_error(f, x.span(), g.span()), 1e-2);
//
// Error measure: for each element, |numeric - analytic| / max(1, |numeric| + |analytic|), i.e. an
// absolute error where the gradient is below 1 in size and a relative one above. The checker
// returns the largest over all elements.
//
// Tolerance: with float32 inputs, eps = 1e-3 and f summed in double, a correct gradient of smooth
// functions of size ~1 gives errors of about 1e-4 (each output carries a float rounding of about
// 6e-8 |y|, divided by 2 eps); a wrong one (a missing factor, a wrong sign) gives errors of 0.1 or
// more. 1e-2 (kGradTolerance) separates the two with room to spare; smaller eps is not better in
// float32, since rounding grows as 1/eps. Keep inputs at least a few eps away from kinks (relu at
// 0, hard_sigmoid at +-3, mae where pred == target), where the central difference straddles them.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <ostream>
#include <span>
#include <vector>

namespace nnlab::testing {

inline constexpr double kGradTolerance = 1e-2;
inline constexpr double kGradEps = 1e-3;

// The worst element of a gradient check, for the failure message.
struct GradientCheck {
  double max_error = 0.0;  // largest |num - ana| / max(1, |num| + |ana|)
  int64_t index = -1;      // where it occurred
  double numeric = 0.0;
  double analytic = 0.0;
};

inline std::ostream& operator<<(std::ostream& os, const GradientCheck& c) {
  return os << "max gradient error " << c.max_error << " at element " << c.index << ": numeric " << c.numeric
            << ", analytic " << c.analytic;
}

// Central differences of f with respect to each element of x. f must read x (it is perturbed in
// place and restored). The step actually taken is (x + eps) - (x - eps) as stored in float, so the
// rounding of x + eps does not bias the estimate.
inline std::vector<double> numeric_gradient(const std::function<double()>& f, std::span<float> x,
                                            double eps = kGradEps) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float orig = x[i];
    const float plus = static_cast<float>(orig + eps), minus = static_cast<float>(orig - eps);
    x[i] = plus;
    const double f_plus = f();
    x[i] = minus;
    const double f_minus = f();
    x[i] = orig;
    out[i] = (f_plus - f_minus) / (static_cast<double>(plus) - static_cast<double>(minus));
  }
  return out;
}

// Compares the analytic gradient with central differences of f; see the top of this file.
inline GradientCheck check_gradient(const std::function<double()>& f, std::span<float> x,
                                    std::span<const float> analytic, double eps = kGradEps) {
  GradientCheck worst;
  if (analytic.size() != x.size()) {
    worst.max_error = INFINITY;  // a gradient of the wrong size is never right
    return worst;
  }
  const std::vector<double> num = numeric_gradient(f, x, eps);
  for (size_t i = 0; i < x.size(); ++i) {
    const double a = analytic[i];
    const double err = std::fabs(num[i] - a) / std::max(1.0, std::fabs(num[i]) + std::fabs(a));
    if (!(err <= worst.max_error)) {  // also catches NaN
      worst = {err, static_cast<int64_t>(i), num[i], a};
      if (std::isnan(err)) worst.max_error = INFINITY;
    }
  }
  return worst;
}

inline double max_gradient_error(const std::function<double()>& f, std::span<float> x,
                                 std::span<const float> analytic, double eps = kGradEps) {
  return check_gradient(f, x, analytic, eps).max_error;
}

}  // namespace nnlab::testing
