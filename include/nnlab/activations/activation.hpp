// Activation functions. Each one lives in its own file under src/activations/ with its forward
// and backward side by side, and is registered by one line in src/activations/registry.cpp.
// All are element-wise except softmax, which works on each row.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nnlab {

class Activation {
 public:
  virtual ~Activation() = default;
  virtual std::string name() const = 0;   // canonical spec, e.g. "relu" or "leaky_relu(0.2)"
  // x, y: (rows, cols). y = f(x). x and y may not alias.
  virtual void forward(const float* x, float* y, int64_t rows, int64_t cols) const = 0;
  // dx = dL/dx given dy = dL/dy, x the input and y = f(x). dx may alias dy.
  virtual void backward(const float* x, const float* y, const float* dy, float* dx, int64_t rows,
                        int64_t cols) const = 0;
};

// Parses "relu", "leaky_relu(0.1)", "elu(0.5)", "linear", ... Throws nnlab::Error naming the spec
// and the known names when it is not one of them.
std::unique_ptr<Activation> make_activation(const std::string& spec);
std::vector<std::string> activation_names();

}  // namespace nnlab
