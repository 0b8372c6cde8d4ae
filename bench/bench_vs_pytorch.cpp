// nnlab's side of bench/run_vs_pytorch.py: the 784-512-256-10 ReLU MLP with Adam on the real
// Fashion-MNIST training images, as bench/pytorch_mlp.py trains it in PyTorch. One JSON object a line.
//
//   bench_vs_pytorch train   --threads T [--batches 32,128,1024] [--samples 16384] [--repeats 3] [--hidden 512,256]
//       Trainer::fit over the first `samples` images: one untimed epoch (first touch of every buffer),
//       then `repeats` timed epochs; samples/s of the best and the median.
//   bench_vs_pytorch gemm    --threads T [--batches ...] [--hidden 512,256]
//       oneDNN's rate on the matrix products of one training step of the same MLP (per layer: forward
//       x W, weight gradient x^T dz, and input gradient dz W^T except for the first layer), run back to
//       back as a step runs them, through dnnl_sgemm and through pre-built dnnl::matmul primitives.
//   bench_vs_pytorch predict --threads T
//       Model::predict latency for one sample and for 1024 samples (median and best of many calls).
//   bench_vs_pytorch epoch   --threads T [--batch 128] [--hidden 1024,512,256]
//       a full Fashion-MNIST epoch (60,000 images) with Trainer::fit: the first (cold) epoch and a second.
//
// FLOP per sample per training step: 2 * sum(in * out) forward, the same again for the weight
// gradients and for the input gradients of every layer but the first (2.41 MFLOP for 784-512-256-10).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include <oneapi/dnnl/dnnl.h>

#include <oneapi/dnnl/dnnl.hpp>

#include <nnlab/nnlab.hpp>
#include <nnlab/data/readers.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double now() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

double cpu_seconds() {  // the process's CPU time, all threads
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

std::vector<int64_t> parse_list(const std::string& s) {
  std::vector<int64_t> out;
  size_t p = 0;
  while (p < s.size()) {
    size_t e = s.find(',', p);
    if (e == std::string::npos) e = s.size();
    out.push_back(std::stoll(s.substr(p, e - p)));
    p = e + 1;
  }
  return out;
}

struct Args {
  std::string mode;
  int threads = 1;
  std::vector<int64_t> batches{32, 128, 1024};
  std::vector<int64_t> hidden{512, 256};
  int64_t samples = 16384;
  int repeats = 3;
  int64_t batch = 128;
  double seconds = 0.3;  // per gemm measurement
};

Args parse(int argc, char** argv) {
  Args a;
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s train|gemm|predict|epoch [--threads T] [--batches 32,128,1024] "
                         "[--samples N] [--repeats R] [--hidden 512,256] [--batch B] [--seconds S]\n", argv[0]);
    std::exit(2);
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--threads") a.threads = std::stoi(v);
    else if (k == "--batches") a.batches = parse_list(v);
    else if (k == "--hidden") a.hidden = parse_list(v);
    else if (k == "--samples") a.samples = std::stoll(v);
    else if (k == "--repeats") a.repeats = std::stoi(v);
    else if (k == "--batch") a.batch = std::stoll(v);
    else if (k == "--seconds") a.seconds = std::stod(v);
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      std::exit(2);
    }
  }
  return a;
}

std::vector<int64_t> layer_sizes(const Args& a) {
  std::vector<int64_t> s{784};
  s.insert(s.end(), a.hidden.begin(), a.hidden.end());
  s.push_back(10);
  return s;
}

double flops_per_sample(const std::vector<int64_t>& sizes) {
  double f = 0;
  for (size_t i = 0; i + 1 < sizes.size(); ++i)
    f += (i == 0 ? 4.0 : 6.0) * static_cast<double>(sizes[i] * sizes[i + 1]);
  return f;
}

std::string sizes_str(const std::vector<int64_t>& s) {
  std::string out;
  for (int64_t v : s) out += (out.empty() ? "" : "-") + std::to_string(v);
  return out;
}

nnlab::Model make_model(const std::vector<int64_t>& sizes) {
  nnlab::Model m;
  for (size_t i = 1; i + 1 < sizes.size(); ++i) m.add<nnlab::Dense>(sizes[i], "relu");
  m.add<nnlab::Dense>(sizes.back(), "softmax");
  m.build({sizes[0]}, 1);
  return m;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string json_list(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + "]";
}

void print_common(const Args& a, const char* kind) {
  std::printf("{\"framework\": \"nnlab\", \"kind\": \"%s\", \"threads\": %d, ", kind, a.threads);
}

void train(const Args& a, const nnlab::InMemoryDataset& full) {
  const auto sizes = layer_sizes(a);
  const nnlab::InMemoryDataset d = full.head(a.samples);
  for (int64_t batch : a.batches) {
    nnlab::Model m = make_model(sizes);
    nnlab::Trainer t(m, nnlab::make_loss("categorical_crossentropy"), nnlab::make_optimizer("adam", {}));
    nnlab::FitOptions fit;
    fit.batch_size = batch;
    fit.verbose = 0;
    t.fit(d, fit);  // warm-up
    std::vector<double> rates, cpu_rates;
    for (int r = 0; r < a.repeats; ++r) {
      fit.seed = static_cast<uint64_t>(r + 1);
      const double t0 = now(), c0 = cpu_seconds();
      t.fit(d, fit);
      const double wall = now() - t0, cpu = cpu_seconds() - c0;
      rates.push_back(static_cast<double>(d.size()) / wall);
      cpu_rates.push_back(static_cast<double>(d.size()) / cpu);
    }
    const double best = *std::max_element(rates.begin(), rates.end());
    print_common(a, "train");
    std::printf("\"model\": \"%s\", \"batch\": %ld, \"samples_per_s\": %.1f, \"median_samples_per_s\": %.1f, "
                "\"gflops\": %.2f, \"samples_per_cpu_s\": %.1f, \"rates\": %s}\n",
                sizes_str(sizes).c_str(), static_cast<long>(batch), best, median(rates),
                best * flops_per_sample(sizes) * 1e-9, *std::max_element(cpu_rates.begin(), cpu_rates.end()),
                json_list(rates).c_str());
    std::fflush(stdout);
  }
}

// Runs `body` repeatedly for about `seconds`, `repeats` times; returns the best calls per second.
double best_rate(const std::function<void()>& body, double seconds, int repeats) {
  body();
  int64_t calls = 1;
  for (;;) {  // calibrate
    const double t0 = now();
    for (int64_t i = 0; i < calls; ++i) body();
    const double dt = now() - t0;
    if (dt > seconds / 4) {
      calls = std::max<int64_t>(1, static_cast<int64_t>(static_cast<double>(calls) * seconds / dt));
      break;
    }
    calls *= 2;
  }
  double best = 0;
  for (int r = 0; r < repeats; ++r) {
    const double t0 = now();
    for (int64_t i = 0; i < calls; ++i) body();
    best = std::max(best, static_cast<double>(calls) / (now() - t0));
  }
  return best;
}

struct Product {  // C (m, n) = op(A) (m, k) * op(B) (k, n), row-major
  bool ta, tb;
  int64_t m, n, k;
  std::vector<float> a, b, c;
};

// The matrix products of one training step, in the order a step runs them.
std::vector<Product> step_products(const std::vector<int64_t>& sizes, int64_t batch) {
  std::vector<Product> p;
  auto add = [&](bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
    auto buf = [](int64_t size, float v) { return std::vector<float>(static_cast<size_t>(size), v); };
    p.push_back({ta, tb, m, n, k, buf(m * k, 0.01f), buf(k * n, 0.02f), buf(m * n, 0.0f)});
  };
  const size_t layers = sizes.size() - 1;
  for (size_t i = 0; i < layers; ++i) add(false, false, batch, sizes[i + 1], sizes[i]);  // z = x W
  for (size_t i = layers; i-- > 0;) {
    add(true, false, sizes[i], sizes[i + 1], batch);                // dW = x^T dz
    if (i > 0) add(false, true, batch, sizes[i], sizes[i + 1]);     // dx = dz W^T
  }
  return p;
}

void gemm(const Args& a) {
  const auto sizes = layer_sizes(a);
  for (int64_t batch : a.batches) {
    auto prods = step_products(sizes, batch);
    double flops = 0;
    for (const auto& p : prods) flops += 2.0 * static_cast<double>(p.m * p.n * p.k);
    const double sgemm_rate = best_rate(
        [&] {
          for (auto& p : prods)
            dnnl_sgemm(p.ta ? 'T' : 'N', p.tb ? 'T' : 'N', p.m, p.n, p.k, 1.0f, p.a.data(), p.ta ? p.m : p.k,
                       p.b.data(), p.tb ? p.k : p.n, 0.0f, p.c.data(), p.n);
        },
        a.seconds, a.repeats);

    dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream s(eng);
    using dt = dnnl::memory::data_type;
    std::vector<dnnl::matmul> prims;
    std::vector<std::unordered_map<int, dnnl::memory>> argss;
    for (auto& p : prods) {
      using dims = dnnl::memory::dims;
      const dnnl::memory::desc ad({p.m, p.k}, dt::f32, p.ta ? dims{1, p.m} : dims{p.k, 1});
      const dnnl::memory::desc bd({p.k, p.n}, dt::f32, p.tb ? dims{1, p.k} : dims{p.n, 1});
      const dnnl::memory::desc cd({p.m, p.n}, dt::f32, dnnl::memory::dims{p.n, 1});
      prims.emplace_back(dnnl::matmul::primitive_desc(dnnl::matmul::desc(ad, bd, cd), eng));
      argss.push_back({{DNNL_ARG_SRC, dnnl::memory(ad, eng, p.a.data())},
                       {DNNL_ARG_WEIGHTS, dnnl::memory(bd, eng, p.b.data())},
                       {DNNL_ARG_DST, dnnl::memory(cd, eng, p.c.data())}});
    }
    const double matmul_rate = best_rate(
        [&] {
          for (size_t i = 0; i < prims.size(); ++i) prims[i].execute(s, argss[i]);
        },
        a.seconds, a.repeats);
    const double best = std::max(sgemm_rate, matmul_rate);
    print_common(a, "gemm");
    std::printf("\"model\": \"%s\", \"batch\": %ld, \"onednn_gflops\": %.2f, \"sgemm_gflops\": %.2f, "
                "\"matmul_gflops\": %.2f, \"onednn_samples_per_s\": %.1f}\n",
                sizes_str(sizes).c_str(), static_cast<long>(batch), best * flops * 1e-9, sgemm_rate * flops * 1e-9,
                matmul_rate * flops * 1e-9, best * static_cast<double>(batch));
    std::fflush(stdout);
  }
}

void predict(const Args& a, const nnlab::InMemoryDataset& full) {
  const auto sizes = layer_sizes(a);
  nnlab::Model m = make_model(sizes);
  for (int64_t batch : {int64_t{1}, int64_t{1024}}) {
    const nnlab::Tensor x = full.x().slice_rows(0, batch);
    const int calls = batch == 1 ? 4000 : 100;
    for (int i = 0; i < calls / 10; ++i) m.predict(x, batch);
    std::vector<double> times;
    for (int i = 0; i < calls; ++i) {
      const double t0 = now();
      const nnlab::Tensor y = m.predict(x, batch);
      times.push_back(now() - t0);
    }
    print_common(a, "predict");
    std::printf("\"model\": \"%s\", \"batch\": %ld, \"median_us\": %.2f, \"best_us\": %.2f}\n",
                sizes_str(sizes).c_str(), static_cast<long>(batch), median(times) * 1e6,
                *std::min_element(times.begin(), times.end()) * 1e6);
    std::fflush(stdout);
  }
}

void epoch(const Args& a, const nnlab::InMemoryDataset& full) {
  const auto sizes = layer_sizes(a);
  nnlab::Model m = make_model(sizes);
  nnlab::Trainer t(m, nnlab::make_loss("categorical_crossentropy"), nnlab::make_optimizer("adam", {}));
  nnlab::FitOptions fit;
  fit.batch_size = a.batch;
  fit.verbose = 0;
  std::vector<double> secs;
  for (int r = 0; r < std::max(2, a.repeats); ++r) {
    fit.seed = static_cast<uint64_t>(r + 1);
    const double t0 = now();
    t.fit(full, fit);
    secs.push_back(now() - t0);
  }
  print_common(a, "epoch");
  std::printf("\"model\": \"%s\", \"batch\": %ld, \"samples\": %ld, \"first_epoch_s\": %.3f, \"best_epoch_s\": %.3f, "
              "\"epochs_s\": %s}\n",
              sizes_str(sizes).c_str(), static_cast<long>(a.batch), static_cast<long>(full.size()), secs[0],
              *std::min_element(secs.begin() + 1, secs.end()), json_list(secs).c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  nnlab::kernels::set_num_threads(a.threads);
  try {
    if (a.mode == "gemm") {
      gemm(a);
      return 0;
    }
    auto [train_set, test_set] = nnlab::load_builtin("fashion-mnist");
    if (a.mode == "train") train(a, train_set);
    else if (a.mode == "predict") predict(a, train_set);
    else if (a.mode == "epoch") epoch(a, train_set);
    else {
      std::fprintf(stderr, "unknown mode %s\n", a.mode.c_str());
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_vs_pytorch: %s\n", e.what());
    return 1;
  }
  return 0;
}
