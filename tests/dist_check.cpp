// dist_check: the program test_dist starts with mpirun. It trains a small classifier on fixed
// synthetic 8x8 images through Trainer::fit on every rank of a dist::Session, and rank 0 writes the
// final weights (raw float32) to --out. Run alone (no mpirun) it is the single-process reference, or,
// with --emulate R, one process that computes the R shards of every global batch one after the other
// with the ranks' random streams: what R ranks must reproduce when dropout makes each rank's masks its
// own. --throw-rank / --kill-rank make one rank fail at a step, for the failure tests.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <optional>
#include <string>

#include "nnlab/data/binary.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;

namespace {

struct Args {
  std::string out, checkpoint, nnds;
  int64_t batch = 16;
  int epochs = 2, emulate = 0, throw_rank = -1, kill_rank = -1;
  bool dropout = false, augment = false, resume = false, cnn = false;
  uint64_t seed = 11;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      check(i + 1 < argc, "dist_check: " + k + " needs a value");
      return argv[++i];
    };
    if (k == "--out") a.out = value();
    else if (k == "--batch") a.batch = std::stoll(value());
    else if (k == "--epochs") a.epochs = std::stoi(value());
    else if (k == "--emulate") a.emulate = std::stoi(value());
    else if (k == "--throw-rank") a.throw_rank = std::stoi(value());
    else if (k == "--kill-rank") a.kill_rank = std::stoi(value());
    else if (k == "--checkpoint") a.checkpoint = value();
    else if (k == "--nnds") a.nnds = value();
    else if (k == "--resume") a.resume = true;
    else if (k == "--dropout") a.dropout = true;
    else if (k == "--augment") a.augment = true;
    else if (k == "--cnn") a.cnn = true;
    else throw Error("dist_check: unknown argument " + k);
  }
  check(!a.out.empty(), "dist_check: --out FILE is required");
  return a;
}

// 200 images of 8x8 pixels; the class is the brightest quadrant, so there is something to learn.
InMemoryDataset synthetic_images() {
  const int64_t n = 200;
  Tensor x({n, 8, 8}), y({n, 1});
  Rng rng(3);
  for (int64_t i = 0; i < n; ++i) {
    double quadrant[4] = {0, 0, 0, 0};
    for (int64_t p = 0; p < 64; ++p) {
      const float v = rng.uniform(0.0f, 1.0f);
      x.data()[i * 64 + p] = v;
      quadrant[(p / 8 >= 4) * 2 + (p % 8 >= 4)] += v;
    }
    y.data()[i] = static_cast<float>(std::max_element(quadrant, quadrant + 4) - quadrant);
  }
  return InMemoryDataset(std::move(x), std::move(y), 4);
}

// --cnn: the images go through a convolution (8 filters, 3x3, "same", relu) and a 2x2 max pooling
// first, as the image layers of issue #19 run under data-parallel training.
Model make_model(const Args& a) {
  Model m;
  if (a.cnn) {
    m.add<Reshape>(Shape{8, 8, 1});
    Conv2DOptions conv;
    conv.filters = 8;
    conv.kernel_size = {3, 3};
    conv.padding = "same";
    conv.activation = "relu";
    m.add<Conv2D>(conv);
    m.add<Pool2D>(Pool2DOptions{});
  }
  m.add<Flatten>();
  m.add<Dense>(32, "relu");
  if (a.dropout) m.add<Dropout>(0.3f);
  m.add<Dense>(4, "softmax");
  m.build({8, 8}, /*seed=*/5);
  return m;
}

ImageAugmenter augmenter() {
  return ImageAugmenter::from_json({{"rotation_range", 15}, {"width_shift_range", 0.1}, {"horizontal_flip", true}});
}

// Counts the samples training gathers from a dataset: each rank must read only its shards.
class Counting : public Dataset {
 public:
  explicit Counting(const Dataset& base) : base_(base) {
    num_classes = base.num_classes;
    name = base.name;
  }
  int64_t size() const override { return base_.size(); }
  Shape sample_shape() const override { return base_.sample_shape(); }
  int64_t target_width() const override { return base_.target_width(); }
  void gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const override {
    base_.gather(indices, x, y);
    rows += static_cast<int64_t>(indices.size());
  }
  mutable std::atomic<int64_t> rows{0};

 private:
  const Dataset& base_;
};

// One rank failing at its third step, as a broken shard or a killed process would.
class FailAt : public Callback {
 public:
  explicit FailAt(const Args& a) : a_(a) {}
  void on_batch_end(int64_t batch, const Logs&, TrainState&) override {
    if (batch != 2) return;
    if (dist::rank() == a_.kill_rank) raise(SIGKILL);
    if (dist::rank() == a_.throw_rank) throw Error("rank " + std::to_string(dist::rank()) + " met bad data in its shard");
  }

 private:
  const Args& a_;
};

// R ranks in one process: every global batch's shards, each with its rank's dropout stream and its
// own augmentation call counter, the gradients weighted by shard size and summed, then one step.
void emulate(const Args& a, const Dataset& data, Model& model) {
  const int ranks = a.emulate;
  auto loss = make_loss("sparse_categorical_crossentropy");
  auto optimizer = make_optimizer("adam", {{"learning_rate", 0.01}});
  const Objective objective(*loss, model);
  std::vector<std::optional<AugmentedDataset>> shards_data(static_cast<size_t>(ranks));
  for (auto& d : shards_data)
    if (a.augment) d.emplace(data, augmenter(), a.seed);
  std::vector<Rng> streams(static_cast<size_t>(ranks));
  Rng shuffle(a.seed);
  const int64_t n = data.size(), global = std::min(a.batch * ranks, n);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::vector<float> sum(model.grads().size());
  Tensor x, y, grad;
  for (int epoch = 0; epoch < a.epochs; ++epoch) {
    for (int r = 1; r < ranks; ++r)  // as Trainer::fit seeds rank r's dropout stream
      streams[static_cast<size_t>(r)] =
          Rng(splitmix64(splitmix64(splitmix64(a.seed) ^ static_cast<uint64_t>(r)) ^ static_cast<uint64_t>(epoch)));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), shuffle.engine());
    for (int64_t begin = 0; begin < n; begin += global) {
      const int64_t rows = std::min(n, begin + global) - begin;
      std::fill(sum.begin(), sum.end(), 0.0f);
      for (int r = 0; r < ranks; ++r) {
        const dist::Share s = dist::share(rows, r, ranks);
        const std::span<const int64_t> idx(order.data() + begin + s.first, static_cast<size_t>(s.n));
        const Dataset& d = a.augment ? static_cast<const Dataset&>(*shards_data[static_cast<size_t>(r)]) : data;
        d.gather_shard(idx, s.first, x, y);
        if (s.n == 0) continue;
        if (r > 0) std::swap(model.rng(), streams[static_cast<size_t>(r)]);  // rank 0: the model's own stream
        const Tensor& out = model.forward(x, Mode::Train);
        objective.loss_and_gradient(model, out, y, &grad);
        model.backward(grad, objective.fused());
        if (r > 0) std::swap(model.rng(), streams[static_cast<size_t>(r)]);
        const float w = static_cast<float>(static_cast<double>(s.n) / static_cast<double>(rows));
        for (size_t i = 0; i < sum.size(); ++i) sum[i] += w * model.grads()[i];
      }
      std::copy(sum.begin(), sum.end(), model.grads().begin());
      optimizer->step(model.params(), model.grads(), static_cast<float>(optimizer->initial_learning_rate()));
    }
  }
}

int run(const Args& a) {
  const InMemoryDataset data = synthetic_images();
  Model model = make_model(a);
  if (a.emulate > 0) {
    emulate(a, data, model);
  } else {
    Trainer trainer(model, make_loss("sparse_categorical_crossentropy"),
                    make_optimizer("adam", {{"learning_rate", 0.01}}));
    std::optional<AugmentedDataset> augmented;
    if (a.augment) augmented.emplace(data, augmenter(), a.seed);
    FitOptions fit;
    fit.epochs = a.epochs;
    fit.batch_size = a.batch;
    fit.seed = a.seed;
    fit.verbose = 0;
    fit.checkpoint_path = a.checkpoint;
    fit.resume = a.resume;
    FailAt fail_at(a);
    if (!a.nnds.empty()) {  // streamed from a .nnds file (no memory budget: every batch read with pread)
      if (dist::is_root()) write_binary_dataset(a.nnds, data);
      dist::barrier();
      const MappedDataset streamed(a.nnds, MappedDatasetOptions{0});
      check(streamed.streaming(), "dist_check: " + a.nnds + " is mapped, not streamed");
      const Counting counted(streamed);
      trainer.fit(counted, fit, nullptr, {&fail_at});
      std::vector<double> rows(static_cast<size_t>(dist::size()), 0.0);
      rows[static_cast<size_t>(dist::rank())] = static_cast<double>(counted.rows.load());
      dist::sum(rows);
      if (dist::is_root()) {
        std::printf("samples read per rank:");
        for (double r : rows) std::printf(" %.0f", r);
        std::printf("\n");
      }
    } else {
      trainer.fit(a.augment ? static_cast<const Dataset&>(*augmented) : data, fit, nullptr, {&fail_at});
    }
    const Logs ev = trainer.evaluate(data, 64);  // sharded and reduced under mpirun
    if (dist::is_root()) std::printf("loss %.9f accuracy %.9f\n", ev.at("loss"), ev.at("accuracy"));
  }
  if (dist::is_root()) {
    std::ofstream out(a.out, std::ios::binary);
    out.write(reinterpret_cast<const char*>(model.params().data()),
              static_cast<std::streamsize>(model.params().size() * sizeof(float)));
    check(out.good(), "dist_check: cannot write " + a.out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::optional<dist::Session> session;
  try {
    session.emplace(argc, argv);
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    return dist::fail(std::string("dist_check: error: ") + e.what(), 1);
  }
}
