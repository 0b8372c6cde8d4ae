// Training on a dataset larger than memory (issue 3, the course's idea 6): writes a synthetic
// dataset of 10,000,000 samples to disk, trains one epoch of a small MLP on it through Trainer with
// shuffled mini-batches streamed from the file, and checks that peak resident memory stays under
// 512 MiB. A plain program, not a Google Benchmark:
//
//   bench_streaming [--samples N] [--features F] [--classes C] [--batch B] [--dtype f32|u8]
//                   [--budget MIB] [--dir DIR] [--keep]
//
// Exit status 0 when peak memory is within the target, 1 when not, 2 on bad arguments.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "nnlab/data/binary.hpp"
#include "nnlab/data/source.hpp"
#include "nnlab/nnlab.hpp"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

constexpr double kTargetMiB = 512;

// A field of /proc/self/status in MiB (VmRSS: now, VmHWM: peak).
double status_mib(const char* key) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  double kb = -1;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, key, n) == 0 && line[n] == ':') kb = std::atof(line + n + 1);
  std::fclose(f);
  return kb / 1024.0;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Forwards to a dataset and times its gather() calls: the share of the epoch spent reading data.
class TimedDataset : public nnlab::Dataset {
 public:
  explicit TimedDataset(const nnlab::Dataset& d) : d_(d) {
    num_classes = d.num_classes;
    class_names = d.class_names;
    name = d.name;
  }
  int64_t size() const override { return d_.size(); }
  nnlab::Shape sample_shape() const override { return d_.sample_shape(); }
  int64_t target_width() const override { return d_.target_width(); }
  void gather(std::span<const int64_t> idx, nnlab::Tensor& x, nnlab::Tensor& y) const override {
    const auto t = Clock::now();
    d_.gather(idx, x, y);
    seconds += seconds_since(t);
  }
  mutable double seconds = 0;

 private:
  const nnlab::Dataset& d_;
};

// Prints progress every `every` iterations: throughput and resident memory as the epoch goes.
class Progress : public nnlab::Callback {
 public:
  explicit Progress(int64_t every) : every_(every) {}
  void on_epoch_begin(int, nnlab::TrainState&) override { start_ = Clock::now(); }
  void on_batch_end(int64_t batch, const nnlab::Logs& logs, nnlab::TrainState& s) override {
    if ((batch + 1) % every_ != 0 && batch + 1 != s.steps_per_epoch) return;
    const double t = seconds_since(start_);
    std::printf("  iteration %6lld / %lld  %8.0f samples/s  loss %.4f  accuracy %.2f%%  VmRSS %.0f MiB\n",
                static_cast<long long>(batch + 1), static_cast<long long>(s.steps_per_epoch),
                static_cast<double>((batch + 1) * s.batch_size) / t, logs.at("loss"), 100.0 * logs.at("accuracy"),
                status_mib("VmRSS"));
    std::fflush(stdout);
  }

 private:
  int64_t every_;
  Clock::time_point start_;
};

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "bench_streaming: %s\nusage: bench_streaming [--samples N] [--features F] [--classes C] [--batch B] "
               "[--dtype f32|u8] [--budget MIB] [--dir DIR] [--keep]\n",
               why.c_str());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  nnlab::SynthOptions synth;
  synth.samples = 10'000'000;
  synth.features = 32;
  synth.classes = 10;
  int64_t batch = 1000, budget_mib = 64;
  std::string dir = fs::temp_directory_path().string();
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(a + " needs a value");
      return argv[++i];
    };
    try {
      if (a == "--samples") synth.samples = std::stoll(value());
      else if (a == "--features") synth.features = std::stoll(value());
      else if (a == "--classes") synth.classes = std::stoll(value());
      else if (a == "--batch") batch = std::stoll(value());
      else if (a == "--budget") budget_mib = std::stoll(value());
      else if (a == "--dir") dir = value();
      else if (a == "--keep") keep = true;
      else if (a == "--dtype") {
        const std::string d = value();
        if (d != "f32" && d != "u8") usage("--dtype must be f32 or u8, got " + d);
        synth.dtype = d == "u8" ? nnlab::BinaryDtype::U8 : nnlab::BinaryDtype::F32;
      } else usage("unknown argument " + a);
    } catch (const std::logic_error&) {
      usage("bad number for " + a);
    }
  }
  if (batch < 1 || budget_mib < 0) usage("--batch must be >= 1 and --budget >= 0");

  const std::string train_path = (fs::path(dir) / "nnlab_bench_streaming_train.nnds").string();
  const std::string test_path = (fs::path(dir) / "nnlab_bench_streaming_test.nnds").string();
  int status = 0;
  try {
    std::printf("Streaming benchmark: %lld samples x %lld %s features, %lld classes (Gaussian blobs)\n",
                static_cast<long long>(synth.samples), static_cast<long long>(synth.features),
                synth.dtype == nnlab::BinaryDtype::U8 ? "uint8" : "float32", static_cast<long long>(synth.classes));
    std::printf("%s\n", nnlab::iteration_arithmetic(synth.samples, batch, 1).c_str());

    // 1. Write the data, chunk by chunk; the test set is the next samples of the same distribution.
    auto t = Clock::now();
    nnlab::write_synthetic_dataset(train_path, synth);
    const double gen_s = seconds_since(t);
    nnlab::SynthOptions test_synth = synth;
    test_synth.first = synth.samples;
    test_synth.samples = std::min<int64_t>(100'000, std::max<int64_t>(1, synth.samples / 10));
    nnlab::write_synthetic_dataset(test_path, test_synth);
    const uint64_t bytes = fs::file_size(train_path);
    std::printf("file:        %s, %.2f GB (%.0f MiB), written in %.1f s (%.0f MB/s)\n", train_path.c_str(),
                static_cast<double>(bytes) / 1e9, static_cast<double>(bytes) / (1 << 20), gen_s,
                static_cast<double>(bytes) / 1e6 / gen_s);
    std::printf("memory after writing: VmRSS %.0f MiB, peak %.0f MiB\n", status_mib("VmRSS"), status_mib("VmHWM"));

    // 2. One epoch of F-64-C, Adam, streamed from the file in shuffled mini-batches.
    nnlab::MappedDatasetOptions mo;
    mo.memory_budget = budget_mib << 20;
    const nnlab::MappedDataset train(train_path, mo);
    const nnlab::MappedDataset test(test_path, mo);
    std::printf("reader:      %s (memory budget %lld MiB), targets %s\n",
                train.streaming() ? "pread per batch" : "whole file mapped", static_cast<long long>(budget_mib),
                train.targets_in_memory() ? "held in memory" : "read per batch");
    nnlab::Model model;
    model.add<nnlab::Dense>(64, "relu");
    model.add<nnlab::Dense>(synth.classes, "softmax");
    model.build({synth.features}, 42);
    nnlab::Trainer trainer(model, nnlab::make_loss("sparse_categorical_crossentropy"),
                           nnlab::make_optimizer("adam", {{"learning_rate", 0.001}}));
    nnlab::FitOptions fit;
    fit.epochs = 1;
    fit.batch_size = batch;
    fit.verbose = 0;
    TimedDataset timed(train);
    Progress progress(std::max<int64_t>(1, (synth.samples / batch) / 10));
    std::printf("model:       %lld-64-%lld MLP, %lld parameters, Adam lr 0.001, batch %lld\n",
                static_cast<long long>(synth.features), static_cast<long long>(synth.classes),
                static_cast<long long>(model.param_count()), static_cast<long long>(batch));
    t = Clock::now();
    const nnlab::History h = trainer.fit(timed, fit, nullptr, {&progress});
    const double epoch_s = seconds_since(t);
    t = Clock::now();
    const nnlab::Logs ev = trainer.evaluate(test, 1000);
    const double eval_s = seconds_since(t);

    const double peak = status_mib("VmHWM");
    std::printf("\nepoch:       %.1f s, %.0f samples/s (%.1f s of it, %.0f%%, reading batches)\n", epoch_s,
                static_cast<double>(synth.samples) / epoch_s, timed.seconds, 100.0 * timed.seconds / epoch_s);
    std::printf("training:    loss %.4f, accuracy %.2f%% (running over the epoch)\n", h.logs.back().at("loss"),
                100.0 * h.logs.back().at("accuracy"));
    std::printf("test:        %lld held-out samples, loss %.4f, accuracy %.2f%% (chance %.0f%%), %.1f s\n",
                static_cast<long long>(test.size()), ev.at("loss"), 100.0 * ev.at("accuracy"),
                100.0 / static_cast<double>(synth.classes), eval_s);
    std::printf("peak memory: VmHWM %.0f MiB for a %.0f MiB file; target < %.0f MiB: %s\n", peak,
                static_cast<double>(bytes) / (1 << 20), kTargetMiB, peak < kTargetMiB ? "PASS" : "FAIL");
    status = peak < kTargetMiB ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_streaming: error: %s\n", e.what());
    status = 2;
  }
  if (!keep) {
    std::error_code ec;
    fs::remove(train_path, ec);
    fs::remove(test_path, ec);
  } else {
    std::printf("kept %s and %s\n", train_path.c_str(), test_path.c_str());
  }
  return status;
}
