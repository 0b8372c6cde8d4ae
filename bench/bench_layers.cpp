// The passes of fashion-cnn's layers between its convolutions, which read and write whole activation
// tensors and so cost time in proportion to their size: batch_norm over conv 1's output (28x28x32)
// and conv 2's (14x14x64), each after a relu as in the model (the relu mask fused into its dx), and
// dropout over the flattened 7x7x64. One training forward and backward a step:
//   ./build/bench/bench_layers --benchmark_counters_tabular=true
// GB/s counts four tensors of the output's size once each: the input, the output and the two
// gradients (dropout, the model's first layer here, computes no input gradient, and draws its mask
// on one thread, its random stream being one sequence).
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>

#include <nnlab/kernels/gemm.hpp>
#include <nnlab/nnlab.hpp>

namespace {

using nlohmann::json;

const json kCases[] = {
    {{"input", {28, 28, 32}}, {"layers", {{{"type", "activation"}, {"activation", "relu"}}, {{"type", "batch_norm"}}}}},
    {{"input", {14, 14, 64}}, {"layers", {{{"type", "activation"}, {"activation", "relu"}}, {{"type", "batch_norm"}}}}},
    {{"input", {3136}}, {"layers", {{{"type", "dropout"}, {"rate", 0.25}}}}},
};
const char* kNames[] = {"batch_norm 28x28x32", "batch_norm 14x14x64", "dropout 3136"};

// Model::forward and backward run every layer. The relu before each batch_norm stands for the
// convolution's relu, so that batch_norm fuses its mask; its forward pass (one more read and write of
// the tensor) is timed with it, and as the model's first layer it computes no input gradient.
void BM_Layer(benchmark::State& state) {
  const auto which = static_cast<size_t>(state.range(0));
  const int64_t batch = state.range(1);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(2)));
  nnlab::Model m = nnlab::Model::from_config(kCases[which], 1);
  nnlab::Shape shape{batch};
  for (int64_t d : kCases[which].at("input").get<std::vector<int64_t>>()) shape.push_back(d);
  nnlab::Tensor x(shape);
  nnlab::Rng rng(2);
  for (float& v : x.span()) v = rng.uniform(-1, 1);
  const nnlab::Tensor& y = m.forward(x, nnlab::Mode::Train);
  nnlab::Tensor dy(y.shape());
  for (float& v : dy.span()) v = rng.uniform(-1, 1);
  m.backward(dy, false);
  for (auto _ : state) {
    m.forward(x, nnlab::Mode::Train);
    m.backward(dy, false);
  }
  state.SetLabel(kNames[which]);
  state.counters["GB/s"] = benchmark::Counter(4.0 * 4.0 * static_cast<double>(dy.size()) * 1e-9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_Layer)->ArgsProduct({{0, 1, 2}, {32, 128}, {1, 2}})->ArgNames({"case", "batch", "threads"})->UseRealTime();
BENCHMARK_MAIN();
