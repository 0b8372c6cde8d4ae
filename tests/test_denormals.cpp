// Flush-to-zero and denormals-are-zero (kernels/denormals.hpp) hold in every thread that computes for
// nnlab while it computes, and only then: the calling thread, each OpenMP thread (read from inside a
// parallel region that a callback opens during fit), and the prefetch worker (read from inside gather).
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "nnlab/kernels/denormals.hpp"
#include "nnlab/kernels/gemm.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;

namespace {

// A dataset whose gather runs on the prefetch worker (it is not a plain copy) and records the mode
// of the thread it runs on.
class ProbeDataset : public Dataset {
 public:
  explicit ProbeDataset(int64_t n) : n_(n) { num_classes = 2; }
  int64_t size() const override { return n_; }
  Shape sample_shape() const override { return {4}; }
  int64_t target_width() const override { return 1; }
  void gather(std::span<const int64_t> idx, Tensor& x, Tensor& y) const override {
    x.resize(static_cast<int64_t>(idx.size()), 4);
    y.resize(static_cast<int64_t>(idx.size()), 1);
    for (size_t i = 0; i < idx.size(); ++i) {
      for (int64_t j = 0; j < 4; ++j) x.data()[i * 4 + j] = static_cast<float>((idx[i] * 7 + j) % 5) - 2.0f;
      y.data()[i] = static_cast<float>(idx[i] % 2);
    }
    std::lock_guard<std::mutex> lock(mu_);
    (kernels::thread_flushes_denormals() ? flushing_ : plain_)++;
    threads_.insert(std::this_thread::get_id());
  }
  mutable std::mutex mu_;
  mutable int flushing_ = 0, plain_ = 0;
  mutable std::set<std::thread::id> threads_;

 private:
  int64_t n_;
};

// Reads every OpenMP thread's mode from inside a parallel region at each batch.
class ProbeCallback : public Callback {
 public:
  void on_batch_end(int64_t, const Logs&, TrainState&) override {
    std::atomic<int> flushing{0}, plain{0}, team{0};
#pragma omp parallel
    {
      (kernels::thread_flushes_denormals() ? flushing : plain)++;
      if (omp_get_thread_num() == 0) team = omp_get_num_threads();
    }
    flushing_ += flushing;
    plain_ += plain;
    max_team_ = std::max(max_team_, team.load());
    // A denormal result really becomes zero, in this thread.
    volatile float tiny = 1e-38f;
    volatile float half = tiny * 0.5f;
    (half == 0.0f ? zeroed_ : kept_)++;
  }
  int flushing_ = 0, plain_ = 0, max_team_ = 0, zeroed_ = 0, kept_ = 0;
};

Model small_model() {
  Model m;
  m.add<Dense>(8, "relu").add<Dense>(1, "sigmoid");
  m.build({4}, 1);
  return m;
}

// Runs fit on the probe data with two OpenMP threads and returns the probes.
void fit_with_probes(ProbeDataset& data, ProbeCallback& probe) {
  Model model = small_model();
  Trainer trainer(model, make_loss("binary_crossentropy"), make_optimizer("adam", {{"learning_rate", 0.01}}));
  FitOptions o;
  o.epochs = 2;
  o.batch_size = 16;
  o.verbose = 0;
  trainer.fit(data, o, nullptr, {&probe});
}

class Denormals : public ::testing::Test {
 protected:
  void SetUp() override {
    threads_before_ = kernels::num_threads();
    kernels::set_num_threads(2);
    kernels::set_thread_flush_denormals(false);
  }
  void TearDown() override {
    kernels::set_flush_denormals(true);
    kernels::set_num_threads(threads_before_);
  }
  int threads_before_ = 1;
};

}  // namespace

TEST_F(Denormals, ScopeSetsAndRestoresTheCallingThread) {
  ASSERT_FALSE(kernels::thread_flushes_denormals());
  {
    kernels::DenormalScope scope;
    EXPECT_TRUE(kernels::thread_flushes_denormals());
    {
      kernels::DenormalScope inner;  // nested scopes (fit calls evaluate) keep the mode
      EXPECT_TRUE(kernels::thread_flushes_denormals());
    }
    EXPECT_TRUE(kernels::thread_flushes_denormals());
  }
  EXPECT_FALSE(kernels::thread_flushes_denormals());
}

TEST_F(Denormals, EveryThreadFlushesDuringFit) {
  ProbeDataset data(64);
  ProbeCallback probe;
  fit_with_probes(data, probe);

  EXPECT_EQ(probe.max_team_, 2) << "the callback's parallel region should run on two OpenMP threads";
  EXPECT_GT(probe.flushing_, 0);
  EXPECT_EQ(probe.plain_, 0) << probe.plain_ << " OpenMP thread reads had FTZ or DAZ missing";
  EXPECT_GT(probe.zeroed_, 0);
  EXPECT_EQ(probe.kept_, 0) << "a denormal product was not flushed to zero";

  EXPECT_GT(data.flushing_, 0);
  EXPECT_EQ(data.plain_, 0) << "the prefetch worker gathered " << data.plain_ << " batches without FTZ and DAZ";
  EXPECT_FALSE(data.threads_.count(std::this_thread::get_id())) << "the gather should run on the prefetch worker";

  // Afterwards the caller and the pool are as they were.
  EXPECT_FALSE(kernels::thread_flushes_denormals());
  std::atomic<int> flushing{0};
#pragma omp parallel
  if (kernels::thread_flushes_denormals()) flushing++;
  EXPECT_EQ(flushing.load(), 0);
}

TEST_F(Denormals, KeepingDenormalsIsAnOption) {
  kernels::set_flush_denormals(false);
  ProbeDataset data(64);
  ProbeCallback probe;
  fit_with_probes(data, probe);
  EXPECT_EQ(probe.flushing_, 0);
  EXPECT_GT(probe.plain_, 0);
  EXPECT_EQ(probe.zeroed_, 0);
  EXPECT_GT(probe.kept_, 0) << "with denormals kept, 1e-38 * 0.5 is a denormal, not zero";
  EXPECT_EQ(data.flushing_, 0);
}

TEST_F(Denormals, EvaluateAndPredictFlushToo) {
  ProbeDataset data(40);
  Model model = small_model();
  Trainer trainer(model, make_loss("binary_crossentropy"), make_optimizer("sgd", {}));
  trainer.evaluate(data, 8);
  EXPECT_GT(data.flushing_, 0);  // evaluate gathers on the calling thread, inside its scope
  EXPECT_EQ(data.plain_, 0);
  EXPECT_FALSE(kernels::thread_flushes_denormals());

  // predict reads denormal inputs as zero (DAZ): a linear unit with unit weights and zero bias maps
  // four inputs of 1e-39 to 0, and to their denormal sum 4e-39 when denormals are kept.
  Model linear;
  linear.add<Dense>(1);
  linear.build({4}, 1);
  auto p = linear.params();  // kernel (4, 1), then bias (1)
  std::fill(p.begin(), p.end(), 1.0f);
  p[4] = 0.0f;
  const Tensor tiny({2, 4}, 1e-39f);
  EXPECT_EQ(linear.predict(tiny).data()[0], 0.0f);
  EXPECT_FALSE(kernels::thread_flushes_denormals());
  kernels::set_flush_denormals(false);
  EXPECT_GT(linear.predict(tiny).data()[0], 3e-39f);
}
