// Training-step throughput of the 784-512-256-10 ReLU MLP with Adam on random data, and oneDNN's
// matrix-product rate on the same shapes, so the two can be compared in one run:
//   ./build/bench/bench_train_step --benchmark_counters_tabular=true
// items_per_second is samples per second for the training step. The comparison with PyTorch on the
// real Fashion-MNIST is bench/run_vs_pytorch.py (with bench_vs_pytorch); see docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include <nnlab/kernels/gemm.hpp>
#include <nnlab/nnlab.hpp>

namespace {

constexpr int64_t kSizes[] = {784, 512, 256, 10};

// Forward 2*in*out per layer, the weight gradient the same, and the input gradient the same except for
// the first layer, which needs none: 2.41 MFLOP per sample.
double flops_per_sample() {
  double f = 0;
  for (int i = 0; i + 1 < 4; ++i) f += (i == 0 ? 4.0 : 6.0) * static_cast<double>(kSizes[i] * kSizes[i + 1]);
  return f;
}

void BM_TrainStep(benchmark::State& state) {
  const int64_t batch = state.range(0);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(1)));
  nnlab::Model m;
  m.add<nnlab::Dense>(512, "relu").add<nnlab::Dense>(256, "relu").add<nnlab::Dense>(10, "softmax");
  m.build({784}, 1);
  nnlab::Rng rng(2);
  nnlab::Tensor x({batch * 8, 784}), y({batch * 8, 1});
  for (float& v : x.span()) v = rng.uniform(0, 1);
  for (float& v : y.span()) v = static_cast<float>(rng.below(10));
  nnlab::InMemoryDataset d(x, y, 10);
  nnlab::Trainer t(m, nnlab::make_loss("categorical_crossentropy"), nnlab::make_optimizer("adam", {}));
  nnlab::FitOptions fit;
  fit.batch_size = batch;
  fit.verbose = 0;
  t.fit(d, fit);  // warm-up: first-touch of every buffer
  for (auto _ : state) t.fit(d, fit);
  state.SetItemsProcessed(state.iterations() * d.size());
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_sample() * static_cast<double>(d.size()) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_GemmSameShapes(benchmark::State& state) {
  const int64_t batch = state.range(0);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(1)));
  std::vector<nnlab::Tensor> a, w, o;
  for (int i = 0; i + 1 < 4; ++i) {
    a.emplace_back(nnlab::Shape{batch, kSizes[i]}, 0.5f);
    w.emplace_back(nnlab::Shape{kSizes[i], kSizes[i + 1]}, 0.01f);
    o.emplace_back(nnlab::Shape{batch, kSizes[i + 1]}, 0.0f);
  }
  std::vector<nnlab::Tensor> gw = w;
  for (auto _ : state) {
    for (int i = 0; i < 3; ++i) {  // the products of a training step per layer (no input gradient for the first)
      const int64_t in = kSizes[i], out = kSizes[i + 1];
      nnlab::kernels::gemm(false, false, batch, out, in, 1, a[i].data(), w[i].data(), 0, o[i].data());
      nnlab::kernels::gemm(true, false, in, out, batch, 1, a[i].data(), o[i].data(), 0, gw[i].data());
      if (i > 0) nnlab::kernels::gemm(false, true, batch, in, out, 1, o[i].data(), w[i].data(), 0, a[i].data());
    }
  }
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_sample() * static_cast<double>(batch) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

// Each product of a training step of the course MLP 784-1024-512-256-10, one at a time, as Dense calls
// them (the weight gradient through kernels::weight_gradient): which shapes oneDNN runs slowly at small
// batches (docs/PERFORMANCE.md, "Where a batch-32 step of the course MLP goes").
//   ./build/bench/bench_train_step --benchmark_filter=CourseProduct
constexpr int64_t kCourse[] = {784, 1024, 512, 256, 10};

void BM_CourseProduct(benchmark::State& state) {
  const int64_t batch = state.range(0), layer = state.range(1), kind = state.range(2);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(3)));
  const int64_t in = kCourse[layer], out = kCourse[layer + 1];
  nnlab::Tensor x({batch, in}, 0.5f), w({in, out}, 0.01f), z({batch, out}, 0.1f), dw({in, out}), dx({batch, in});
  std::vector<float> scratch;
  for (auto _ : state) {
    if (kind == 0) nnlab::kernels::gemm(false, false, batch, out, in, 1, x.data(), w.data(), 0, z.data());
    if (kind == 1) nnlab::kernels::weight_gradient(batch, in, out, x.data(), z.data(), dw.data(), scratch);
    if (kind == 2) nnlab::kernels::gemm(false, true, batch, in, out, 1, z.data(), w.data(), 0, dx.data());
  }
  state.SetLabel(std::to_string(in) + "->" + std::to_string(out) + (kind == 0 ? " forward" : kind == 1 ? " weight grad" : " input grad"));
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * static_cast<double>(batch * in * out) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_CourseProduct)->ArgsProduct({{32, 128}, {0, 1, 2, 3}, {0, 1, 2}, {1, 2}})
    ->ArgNames({"batch", "layer", "kind", "threads"})->UseRealTime();
BENCHMARK(BM_TrainStep)->ArgsProduct({{32, 128, 1024}, {1, 2}})->ArgNames({"batch", "threads"})->UseRealTime();
BENCHMARK(BM_GemmSameShapes)->ArgsProduct({{32, 128, 1024}, {1, 2}})->ArgNames({"batch", "threads"})->UseRealTime();
BENCHMARK_MAIN();
