// The convolution layers of experiments/fashion-cnn.toml: nnlab's Conv2D training step (forward in
// training mode, then backward: weight and bias gradients, and the input gradient except for the first
// layer, which needs none) against oneDNN's own primitives alone on the same shapes, in one run:
//   ./build/bench/bench_conv --benchmark_counters_tabular=true
// "onednn" runs the bare convolution_forward (relu post-op), convolution_backward_weights and
// convolution_backward_data primitives, each in the layout it prefers ("any") with the kernel reordered
// once before timing: the best these primitives do on these shapes. "nnlab" is Conv2D::forward +
// Conv2D::backward as the trainer calls them in fashion-cnn (NHWC tensors, the kernel reordered from
// Keras's layout and the gradient back every step; each conv there is followed by batch_norm, which
// applies the relu's mask in its own dx pass (Layer::fuse_input_relu), so backward gets
// dy_is_preactivation = true; BM_CnnTrainStep and bench/run_cnn.py time the whole model, mask included). GFLOP/s counts the convolution's multiply-adds
// only (2 per kernel tap per output for each of the 2 or 3 products), the same figure for both, so
// their ratio is nnlab's rate as a share of oneDNN's. allocs/step counts nnlab's heap allocations
// (operator new and malloc of the whole process, oneDNN included) per step after the warm-up: 0 means
// none per batch.
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <malloc.h>

#include <cstring>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.hpp>

#include <nnlab/kernels/denormals.hpp>
#include <nnlab/kernels/gemm.hpp>
#include <nnlab/nnlab.hpp>

// Every heap allocation of the process is counted (glibc's allocator, reached by its __libc_ names).
// While g_classify is set (outside the timed loops), each is also put down to the library of the
// code that asked for it (oneDNN's, or anything else: nnlab, libstdc++, libgomp), by dladdr.
static std::atomic<long> g_allocs{0}, g_allocs_onednn{0};
static std::atomic<bool> g_classify{false};
static thread_local bool t_in_new = false;
static void count(void* caller) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (!g_classify.load(std::memory_order_relaxed)) return;
  Dl_info info;
  if (dladdr(caller, &info) && info.dli_fname && std::strstr(info.dli_fname, "libdnnl"))
    g_allocs_onednn.fetch_add(1, std::memory_order_relaxed);
}
extern "C" {
void* __libc_malloc(size_t);
void* __libc_memalign(size_t, size_t);
void* malloc(size_t n) {
  if (!t_in_new) count(__builtin_return_address(0));
  return __libc_malloc(n);
}
int posix_memalign(void** p, size_t align, size_t n) {
  count(__builtin_return_address(0));
  *p = __libc_memalign(align, n);
  return *p ? 0 : 12;  // ENOMEM
}
void* aligned_alloc(size_t align, size_t n) {
  count(__builtin_return_address(0));
  return __libc_memalign(align, n);
}
}
void* operator new(size_t n) {
  count(__builtin_return_address(0));
  t_in_new = true;
  void* p = __libc_malloc(n);
  t_in_new = false;
  if (!p) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }

namespace {

using dnnl::memory;
using Tag = memory::format_tag;
constexpr auto f32 = memory::data_type::f32;

// (height, width, in channels) -> filters, 3x3, stride 1: the convolutions of fashion-cnn.toml.
struct ConvShape {
  int64_t h, w, c, f, k;
  bool same, first;  // "same" padding; the model's first layer (no input gradient)
};
const ConvShape kShapes[] = {
    {28, 28, 1, 32, 3, true, true},    // conv 1: 28x28x1 -> 28x28x32
    {14, 14, 32, 64, 3, true, false},  // conv 2: 14x14x32 -> 14x14x64
};

int64_t out_size(const ConvShape& s, int64_t in) { return s.same ? in : in - s.k + 1; }

double flops_per_sample(const ConvShape& s) {
  const double one = 2.0 * out_size(s, s.h) * out_size(s, s.w) * s.f * s.c * s.k * s.k;
  return one * (s.first ? 2 : 3);
}

void label(benchmark::State& state, const ConvShape& s, int64_t batch) {
  state.SetLabel(std::to_string(s.h) + "x" + std::to_string(s.w) + "x" + std::to_string(s.c) + "->" +
                 std::to_string(s.f) + (s.first ? " (no input grad)" : ""));
  state.counters["GFLOP/s"] = benchmark::Counter(flops_per_sample(s) * static_cast<double>(batch) * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

// Times `step` (warmed up by the caller) and labels the row; allocs/step counts the heap allocations
// a timed step makes.
template <class Step>
void time_steps(benchmark::State& state, Step& step, const ConvShape& s, int64_t batch) {
  const long before = g_allocs.load();
  int64_t steps = 0;
  for (auto _ : state) {
    step();
    ++steps;
  }
  label(state, s, batch);
  state.counters["allocs/step"] = static_cast<double>(g_allocs.load() - before) / static_cast<double>(steps);
}

void BM_OneDNNConv(benchmark::State& state) {
  const ConvShape& s = kShapes[state.range(0)];
  const int64_t batch = state.range(1);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(2)));
  const nnlab::kernels::DenormalScope denormals;
  dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream st(eng);
  const int64_t oh = out_size(s, s.h), ow = out_size(s, s.w), p = s.same ? (s.k - 1) / 2 : 0;
  const memory::desc src_md({batch, s.c, s.h, s.w}, f32, Tag::nhwc), dst_md({batch, s.f, oh, ow}, f32, Tag::nhwc);
  const memory::desc w_any({s.f, s.c, s.k, s.k}, f32, Tag::any), b_md({s.f}, f32, Tag::x);
  const memory::dims strides{1, 1}, pad{p, p};
  dnnl::post_ops ops;
  ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const dnnl::convolution_forward::primitive_desc fpd(
      {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, src_md, w_any, b_md, dst_md, strides, pad, pad},
      attr, eng);
  const dnnl::convolution_backward_weights::primitive_desc wpd(
      {dnnl::algorithm::convolution_direct, src_md, w_any, b_md, dst_md, strides, pad, pad}, eng, fpd);
  const dnnl::convolution_backward_data::primitive_desc dpd(
      {dnnl::algorithm::convolution_direct, src_md, w_any, dst_md, strides, pad, pad}, eng, fpd);
  memory src(src_md, eng), dst(dst_md, eng), w(fpd.weights_desc(), eng), b(b_md, eng);
  memory dw(wpd.diff_weights_desc(), eng), db(b_md, eng), dsrc(src_md, eng), ddst(dst_md, eng), wd(dpd.weights_desc(), eng);
  for (memory* m : {&src, &dst, &w, &b, &ddst, &wd}) {
    float* v = static_cast<float*>(m->get_data_handle());
    for (size_t i = 0; i < m->get_desc().get_size() / sizeof(float); ++i) v[i] = 0.01f * static_cast<float>(i % 97) - 0.3f;
  }
  dnnl::convolution_forward fwd(fpd);
  dnnl::convolution_backward_weights bww(wpd);
  dnnl::convolution_backward_data bwd(dpd);
  auto step = [&] {
    fwd.execute(st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}});
    bww.execute(st, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, db}});
    if (!s.first) bwd.execute(st, {{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, dsrc}});
    st.wait();
  };
  step();
  time_steps(state, step, s, batch);
}

void BM_NnlabConv(benchmark::State& state) {
  const ConvShape& s = kShapes[state.range(0)];
  const int64_t batch = state.range(1);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(2)));
  const nnlab::kernels::DenormalScope denormals;
  nnlab::Conv2DOptions o;
  o.filters = s.f;
  o.kernel_size = {s.k, s.k};
  o.padding = s.same ? "same" : "valid";
  o.activation = "relu";
  nnlab::Conv2D layer(o);
  const nnlab::Shape out = layer.build({s.h, s.w, s.c});
  std::vector<std::vector<float>> values, grads;
  for (const auto& spec : layer.param_specs()) {
    values.emplace_back(static_cast<size_t>(nnlab::shape_size(spec.shape)), 0.0f);
    grads.emplace_back(values.back().size(), 0.0f);
  }
  std::vector<nnlab::ParamView> views;
  for (size_t i = 0; i < values.size(); ++i) views.push_back({values[i], grads[i]});
  layer.bind(views);
  nnlab::Rng rng(3);
  layer.init_params(rng);
  nnlab::Tensor x({batch, s.h, s.w, s.c}), y, dy({batch, out[0], out[1], out[2]}), dx;
  for (float& v : x.span()) v = rng.uniform(0, 1);
  for (float& v : dy.span()) v = rng.uniform(-0.01f, 0.01f);
  auto step = [&] {
    layer.forward(x, y, nnlab::Mode::Train, rng);
    layer.backward(x, y, dy, s.first ? nullptr : &dx, true);  // batch_norm follows and takes the mask
  };
  step();
  step();
  time_steps(state, step, s, batch);
}

// The whole fashion-cnn model's training step (Trainer::fit on random images, Adam), and how many heap
// allocations a step adds: fits of 8 and 24 steps are counted once before timing and the difference
// divided by 16, so what a fit does once (shuffling, the epoch's logs) is left out; onednn_allocs/step
// is the part asked for by oneDNN's own code (its primitives' execution contexts).
void BM_CnnTrainStep(benchmark::State& state) {
  const int64_t batch = state.range(0);
  nnlab::kernels::set_num_threads(static_cast<int>(state.range(1)));
  const nnlab::Experiment e = nnlab::Experiment::load("fashion-cnn");
  nnlab::Model m = nnlab::build_model(e, {28, 28, 1});
  nnlab::Rng rng(2);
  auto data = [&](int64_t steps) {
    nnlab::Tensor x({batch * steps, 28, 28, 1}), y({batch * steps, 1});
    for (float& v : x.span()) v = rng.uniform(0, 1);
    for (float& v : y.span()) v = static_cast<float>(rng.below(10));
    return nnlab::InMemoryDataset(x, y, 10);
  };
  nnlab::InMemoryDataset d8 = data(8), d24 = data(24);
  nnlab::Trainer t(m, nnlab::make_loss("categorical_crossentropy"), nnlab::make_optimizer("adam", {}));
  nnlab::FitOptions fit;
  fit.batch_size = batch;
  fit.verbose = 0;
  t.fit(d8, fit);  // warm-up: plans made, every buffer touched
  g_classify = true;
  long a = g_allocs.load(), o = g_allocs_onednn.load();
  t.fit(d8, fit);
  const long in8 = g_allocs.load() - a, onednn8 = g_allocs_onednn.load() - o;
  a = g_allocs.load();
  o = g_allocs_onednn.load();
  t.fit(d24, fit);
  const long in24 = g_allocs.load() - a, onednn24 = g_allocs_onednn.load() - o;
  g_classify = false;
  for (auto _ : state) t.fit(d24, fit);
  state.counters["samples/s"] = benchmark::Counter(static_cast<double>(d24.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["allocs/step"] = static_cast<double>(in24 - in8) / 16.0;
  state.counters["onednn_allocs/step"] = static_cast<double>(onednn24 - onednn8) / 16.0;
}

}  // namespace

BENCHMARK(BM_CnnTrainStep)->ArgsProduct({{32, 128}, {1, 2}})->ArgNames({"batch", "threads"})->UseRealTime();
BENCHMARK(BM_OneDNNConv)->ArgsProduct({{0, 1}, {32, 128}, {1, 2}})->ArgNames({"conv", "batch", "threads"})->UseRealTime();
BENCHMARK(BM_NnlabConv)->ArgsProduct({{0, 1}, {32, 128}, {1, 2}})->ArgNames({"conv", "batch", "threads"})->UseRealTime();
BENCHMARK_MAIN();
