// Datasets: samples x (features...) and targets y (target width per sample). Classification
// datasets hold class indices 0..classes-1 as floats in a (n, 1) target, with optional class
// names for printouts (Sign Language MNIST names its classes A-Y).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "nnlab/tensor.hpp"

namespace nnlab {

class Dataset {
 public:
  virtual ~Dataset() = default;
  virtual int64_t size() const = 0;
  virtual Shape sample_shape() const = 0;  // x per sample, e.g. (784) or (28, 28)
  virtual int64_t target_width() const = 0;
  // Copies the samples at the given indices into x (n, sample...) and y (n, target_width); both
  // are resized.
  virtual void gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const = 0;
  // gather() of one rank's shard of a larger batch (data-parallel training): `position` is the place
  // of the shard's first sample in the whole batch, so a dataset whose samples depend on their place
  // in the batch (AugmentedDataset's random streams) gives each sample what one process gathering
  // the whole batch would. Plain data ignores it.
  virtual void gather_shard(std::span<const int64_t> indices, int64_t /*position*/, Tensor& x, Tensor& y) const {
    gather(indices, x, y);
  }
  // True when gather is a plain copy from memory: cheaper than handing the batch to another thread,
  // so the trainer gathers on its own thread instead of prefetching.
  virtual bool gather_is_copy() const { return false; }
  // Called by Trainer::fit when it resumes from a checkpoint, before the first batch, with the number
  // of training batches (gather calls) the interrupted run had taken: a dataset whose batches
  // depend on how many came before (AugmentedDataset's random stream) continues from there, so the
  // resumed run sees the batches the uninterrupted one saw. Nothing to do for plain data.
  virtual void seek_batches(uint64_t /*batches_done*/) const {}

  int64_t num_classes = 0;               // 0 for regression targets
  std::vector<std::string> class_names;  // empty, or one per class
  std::string name;                      // for messages: a file or dataset name
};

class InMemoryDataset : public Dataset {
 public:
  InMemoryDataset() = default;
  InMemoryDataset(Tensor x, Tensor y, int64_t classes = 0);  // x (n, ...), y (n, k)
  int64_t size() const override { return x_.rows(); }
  Shape sample_shape() const override;
  int64_t target_width() const override { return y_.cols(); }
  void gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const override;
  bool gather_is_copy() const override { return true; }

  const Tensor& x() const { return x_; }
  const Tensor& y() const { return y_; }
  Tensor& x() { return x_; }
  Tensor& y() { return y_; }

  // Splits off the last `fraction` of samples (Keras's validation_split takes the tail, unshuffled).
  std::pair<InMemoryDataset, InMemoryDataset> split_tail(double fraction) const;
  InMemoryDataset head(int64_t n) const;  // the first n samples

 private:
  Tensor x_, y_;
};

}  // namespace nnlab
