// Augmentation throughput: Fashion-MNIST batches of 128 through AugmentedDataset with the course's
// augmentation (rotation 10, shifts 0.1, zoom 0.1), on 1 and 2 threads, in images per second, next
// to the plain gather it wraps. Compare with training throughput (bench_train_step: about 25,000
// samples/s for the 784-512-256-10 MLP at batch 128 on 2 threads); augmentation done on the
// training threads costs train_rate / aug_rate of the training time.
//   ./build/bench/bench_augment [seconds per measurement, default 1]
// A plain main (no Google Benchmark): each line is one configuration.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <numeric>
#include <string>
#include <vector>

#include <nnlab/data/augment.hpp>
#include <nnlab/data/readers.hpp>
#include <nnlab/nnlab.hpp>

namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {  // the process's CPU time, all threads
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Rate {
  double images_per_s;    // wall clock
  double cpu_us_per_image;  // CPU time of all threads (spinning included)
};

// Images per second of `gather` over random batches of 128, for about `seconds`.
template <class D>
Rate rate(const D& data, double seconds) {
  const int64_t batch = 128;
  nnlab::Rng rng(1);
  std::vector<int64_t> order(static_cast<size_t>(data.size()));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng.engine());
  nnlab::Tensor x, y;
  auto indices = [&](int64_t b) {
    const int64_t begin = (b * batch) % (data.size() - batch);
    return std::span<const int64_t>(order).subspan(static_cast<size_t>(begin), batch);
  };
  for (int b = 0; b < 20; ++b) data.gather(indices(b), x, y);  // warm-up: buffers, thread pool
  int64_t images = 0, b = 0;
  const auto start = Clock::now();
  const double cpu0 = cpu_seconds();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int k = 0; k < 20; ++k, ++b) data.gather(indices(b), x, y);
    images += 20 * batch;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return {static_cast<double>(images) / elapsed, (cpu_seconds() - cpu0) * 1e6 / static_cast<double>(images)};
}

// Samples per second of one epoch of the course MLP (784-512-256-10 ReLU, Adam, batch 128).
double train_rate(const nnlab::Dataset& data) {
  nnlab::Model m;
  m.add<nnlab::Dense>(512, "relu").add<nnlab::Dense>(256, "relu").add<nnlab::Dense>(10, "softmax");
  m.build({784}, 1);
  nnlab::Trainer t(m, nnlab::make_loss("sparse_categorical_crossentropy"), nnlab::make_optimizer("adam", {}));
  nnlab::FitOptions fit;
  fit.batch_size = 128;
  fit.verbose = 0;
  const auto start = Clock::now();
  t.fit(data, fit);
  return static_cast<double>(data.size()) / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 1.0;
  nnlab::InMemoryDataset train;
  if (nnlab::find_dataset("fashion-mnist").present) {
    train = nnlab::load_builtin("fashion-mnist").first;  // (60000, 784), pixels / 255
  } else {
    std::printf("fashion-mnist not installed: random 28x28 images instead\n");
    nnlab::Rng rng(3);
    nnlab::Tensor x({60000, 784}), y({60000, 1});
    for (float& v : x.span()) v = rng.uniform(0, 1);
    for (float& v : y.span()) v = static_cast<float>(rng.below(10));
    train = nnlab::InMemoryDataset(x, y, 10);
  }
  nnlab::AugmentOptions course;
  course.rotation_range = 10;
  course.width_shift_range = course.height_shift_range = 0.1;
  course.zoom_range = nnlab::AugmentOptions::zoom(0.1);
  nnlab::AugmentOptions heavy = course;  // every built-in on
  heavy.shear_range = 10;
  heavy.horizontal_flip = true;
  heavy.elastic_alpha = 34;
  heavy.elastic_sigma = 4;
  heavy.brightness_range = {0.8, 1.2};
  heavy.gaussian_noise = 0.05;
  heavy.erasing_probability = 0.5;

  std::printf("%-52s %7s %10s %9s %13s\n", "configuration (batch 128)", "threads", "images/s", "us/image",
              "CPU us/image");
  for (int threads : {1, 2}) {
    nnlab::kernels::set_num_threads(threads);
    const Rate plain = rate(train, seconds);
    std::printf("%-52s %7d %10.0f %9.2f %13.2f\n", "gather only (no augmentation)", threads, plain.images_per_s,
                1e6 / plain.images_per_s, plain.cpu_us_per_image);
    for (const auto& [name, options] : {std::pair<const char*, nnlab::AugmentOptions>{"rotation 10, shifts 0.1, zoom 0.1", course},
                                        {"+ shear, flip, elastic, brightness, noise, erasing", heavy}}) {
      nnlab::AugmentedDataset aug(train, nnlab::ImageAugmenter(options), 42);
      aug.set_threads(threads);
      const Rate r = rate(aug, seconds);
      std::printf("%-52s %7d %10.0f %9.2f %13.2f\n", name, threads, r.images_per_s, 1e6 / r.images_per_s,
                  r.cpu_us_per_image);
    }
  }

  // End to end: the trainer gathers on its prefetch thread, so augmentation overlaps training.
  const nnlab::InMemoryDataset part = train.head(12800);
  std::printf("\n%-52s %7s %10s %9s\n", "training one epoch of 12,800 samples (batch 128)", "threads", "samples/s",
              "overhead");
  for (int threads : {1, 2}) {
    nnlab::kernels::set_num_threads(threads);
    train_rate(part.head(1280));  // warm-up
    const double plain = train_rate(part);
    nnlab::AugmentedDataset aug(part, nnlab::ImageAugmenter(course), 42);
    const double augmented = train_rate(aug);
    std::printf("%-52s %7d %10.0f\n", "course MLP, no augmentation", threads, plain);
    std::printf("%-52s %7d %10.0f %8.1f%%\n", "course MLP, rotation 10, shifts 0.1, zoom 0.1", threads, augmented,
                100.0 * (plain / augmented - 1));
  }
  return 0;
}
