// AugmentedDataset: gathers a batch from the base dataset and augments every sample, each with an
// Rng seeded from (seed, gather call, position) so that results do not depend on the thread count.
#include <omp.h>

#include <cmath>
#include <exception>
#include <mutex>
#include <numeric>

#include "nnlab/data/augment.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t augment_sample_seed(uint64_t seed, uint64_t call, uint64_t position) {
  return splitmix64(splitmix64(splitmix64(seed) ^ call) ^ position);
}

// (H, W, C) of the base dataset's samples.
static Shape image_layout(const Dataset& base, const Shape& given) {
  const Shape s = base.sample_shape();
  const int64_t features = shape_size(s);
  const std::string what = "augment: dataset '" + base.name + "' with samples of shape " + shape_str(s);
  if (!given.empty()) {
    check(given.size() == 2 || given.size() == 3,
          "augment: image_shape must be (height, width) or (height, width, channels), got " + shape_str(given));
    for (int64_t d : given) check(d >= 1, "augment: image_shape " + shape_str(given) + " has a dimension below 1");
    check(shape_size(given) == features,
          what + " cannot be seen as images of shape " + shape_str(given) + " (" + std::to_string(shape_size(given)) +
              " values, not " + std::to_string(features) + ")");
    return {given[0], given[1], given.size() == 3 ? given[2] : 1};
  }
  if (s.size() == 2) return {s[0], s[1], 1};
  if (s.size() == 3) return {s[0], s[1], s[2]};
  if (s.size() == 1) {
    const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(features))));
    // Only sizes that look like images (8x8 or more) are guessed; a 4-feature table is not 2x2 pixels.
    check(side * side == features && side >= 8,
          what + " are not square images of 8x8 pixels or more: give the image shape (height, width[, channels])");
    return {side, side, 1};
  }
  throw Error(what + " are not images: expected (height, width), (height, width, channels) or flat pixels");
}

AugmentedDataset::AugmentedDataset(const Dataset& base, ImageAugmenter augmenter, uint64_t seed, Shape image_shape)
    : base_(base), aug_(std::move(augmenter)), seed_(seed), image_(image_layout(base, image_shape)) {
  num_classes = base.num_classes;
  class_names = base.class_names;
  name = base.name;
}

void AugmentedDataset::set_threads(int threads) {
  check(threads >= 0, "augment: threads must be 0 (OpenMP's count) or more, got " + std::to_string(threads));
  threads_ = threads;
}

void AugmentedDataset::gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const {
  gather_shard(indices, 0, x, y);
}

void AugmentedDataset::gather_shard(std::span<const int64_t> indices, int64_t position, Tensor& x, Tensor& y) const {
  base_.gather(indices, x, y);
  if (!enabled_ || aug_.empty()) return;
  const uint64_t call = calls_.fetch_add(1);
  const int64_t n = x.rows(), per = image_[0] * image_[1] * image_[2];
  if (x.cols() != per)
    throw Error("augment: a batch of " + shape_str(x.shape()) + " does not hold images of shape " + shape_str(image_));
  const int threads = threads_ > 0 ? threads_ : omp_get_max_threads();
  // Not inside another parallel region (nested teams oversubscribe the cores).
  const bool parallel = threads > 1 && n >= min_parallel_batch() && !omp_in_parallel();
  std::exception_ptr error;
  std::mutex error_mutex;
  float* data = x.data();  // (n, H, W, C)
#pragma omp parallel for num_threads(threads) schedule(static) if (parallel)
  for (int64_t i = 0; i < n; ++i) {
    try {
      static thread_local Rng rng;
      rng.engine().seed(augment_sample_seed(seed_, call, static_cast<uint64_t>(position + i)));
      aug_.apply(ImageView{data + i * per, image_[0], image_[1], image_[2]}, rng);
    } catch (...) {
      std::lock_guard<std::mutex> lock(error_mutex);
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

std::vector<Tensor> augmented_copies(const Dataset& data, const ImageAugmenter& augmenter, int copies, uint64_t seed,
                                     Shape image_shape) {
  check(copies >= 0, "test-time augmentation: copies must be 0 or more, got " + std::to_string(copies));
  std::vector<Tensor> out;
  const int64_t n = data.size(), per = shape_size(data.sample_shape()), batch = 256;
  std::vector<int64_t> indices;
  Tensor x, y;
  for (int k = 0; k < copies; ++k) {
    const AugmentedDataset augmented(data, augmenter, seed + static_cast<uint64_t>(k), image_shape);
    Shape shape = data.sample_shape();
    shape.insert(shape.begin(), n);
    Tensor copy(shape);  // (n, sample shape)
    for (int64_t begin = 0; begin < n; begin += batch) {
      const int64_t end = std::min(n, begin + batch);
      indices.resize(static_cast<size_t>(end - begin));
      std::iota(indices.begin(), indices.end(), begin);
      augmented.gather(indices, x, y);
      std::copy(x.data(), x.data() + x.size(), copy.data() + begin * per);
    }
    out.push_back(std::move(copy));
  }
  return out;
}

}  // namespace nnlab
