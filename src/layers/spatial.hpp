// Shared by the image layers (conv2d, pooling): Keras's spatial options and TensorFlow's padding
// arithmetic, and the one oneDNN engine and stream they run their primitives on. Private to src/layers.
#pragma once
#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>
#include <oneapi/dnnl/dnnl.hpp>

#include "nnlab/tensor.hpp"
#include "window.hpp"

namespace nnlab {

class ConfigReader;

// The plans (primitives made for one batch size) an image layer keeps, most recent first: the one
// for `batch`, moved to the front, or null.
template <class Plan>
Plan* find_plan(std::vector<std::unique_ptr<Plan>>& plans, int64_t batch) {
  for (size_t i = 0; i < plans.size(); ++i) {
    if (plans[i]->batch != batch) continue;
    const auto at = plans.begin() + static_cast<std::ptrdiff_t>(i);
    std::rotate(plans.begin(), at, at + 1);
    return plans.front().get();
  }
  return nullptr;
}
// Puts a new plan first, dropping the oldest beyond `keep`.
template <class Plan>
Plan& keep_plan(std::vector<std::unique_ptr<Plan>>& plans, std::unique_ptr<Plan> plan, size_t keep) {
  plans.insert(plans.begin(), std::move(plan));
  if (plans.size() > keep) plans.pop_back();
  return *plans.front();
}

// A (height, width) pair read as Keras does: one whole number for both, or a list of two.
using Pair = std::array<int64_t, 2>;
// Reads `key` (absent: fallback); each entry must be >= 1, else an error naming layer, key and value.
Pair read_pair(ConfigReader& c, const std::string& key, Pair fallback, const std::string& layer);
void check_pair(const Pair& p, const std::string& key, const std::string& layer);  // each >= 1
// "valid" or "same", else an error naming the layer and the value.
void check_padding(const std::string& padding, const std::string& layer);
// As a config value: a single number when both are equal (Keras writes (3, 3); both read back).
nlohmann::json pair_json(const Pair& p);

// (height, width, channels) of an image layer's input, or an error naming the layer.
Shape image_input(const Shape& input, const std::string& layer);

namespace onednn {
dnnl::engine& engine();  // the process's CPU engine (thread-safe)
dnnl::stream& stream();  // one per thread: ensembles run models side by side
using dims = dnnl::memory::dims;
// (n, c, h, w) logical dims laid out as NHWC ("acdb"): nnlab's (batch, height, width, channels).
dnnl::memory::desc nhwc(int64_t n, int64_t c, int64_t h, int64_t w);
// A memory for `desc` whose data is given per call (set_data_handle): nothing allocated.
dnnl::memory unbound(const dnnl::memory::desc& desc);
// The pointer of a tensor the primitives only read.
void* handle(const float* p);
}  // namespace onednn

}  // namespace nnlab

namespace nnlab::onednn {
// One primitive's arguments, kept with it: executing reuses them (no map built per batch); memories
// bound with set_data_handle before each run.
struct Step {
  dnnl::primitive prim;
  std::vector<dnnl_exec_arg_t> args;
  void add(int arg, const dnnl::memory& m) { args.push_back({arg, m.get()}); }
  explicit operator bool() const { return static_cast<bool>(prim); }
  void run() const;  // executes on this thread's stream and waits; throws nnlab::Error on failure
};
// A scratchpad memory for a primitive made with scratchpad_mode::user, allocated once with it.
dnnl::primitive_attr user_scratchpad();
// Reorder from `from` to `to` as a Step (for weights between Keras's layout and a primitive's).
Step reorder(const dnnl::memory& from, const dnnl::memory& to);
}  // namespace nnlab::onednn
