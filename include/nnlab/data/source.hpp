// Data sources: datasets opened from files whatever their format (nnlab's binary .nnds streamed
// from disk, Kaggle-style CSV, MNIST's IDX pairs), views of part of a dataset, and synthetic
// classification data written straight to a .nnds file, so a dataset need never fit in memory.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "nnlab/data/binary.hpp"
#include "nnlab/data/dataset.hpp"
#include "nnlab/data/label_map.hpp"
#include "nnlab/data/preprocess.hpp"
#include "nnlab/data/readers.hpp"

namespace nnlab {

// --- files ------------------------------------------------------------------------------------

enum class FileFormat { Binary, Csv, Idx };

// What a file spec names:
//   Binary: a file that starts with "NNLABDS1" (nnlab's format, written as .nnds), or any *.nnds;
//   Csv:    *.csv or *.csv.gz;
//   Idx:    "IMAGES,LABELS", or an images file whose name holds images-idx3 / images.idx3 (the labels
//           file is the same name with labels-idx1 / labels.idx1), each optionally gzip-compressed.
// Throws naming the spec when the file is missing or its format cannot be told.
FileFormat detect_format(const std::string& spec);
const char* format_name(FileFormat f);  // "nnlab binary", "CSV", "IDX"

struct SourceOptions {
  Preprocess preprocess;                // CSV and IDX: scale, standardise, flatten
  CsvOptions csv;                       // CSV: columns, header, labels (empty: the training file's)
  LabelMap idx_labels = LabelMap::mnist();  // IDX: the declared labels
  MappedDatasetOptions binary;          // .nnds: how much of the file may be held in memory
};

// Opens one file: .nnds files stream from disk (MappedDataset, stored values as they are: uint8
// files read as pixel / 255, preprocess does not apply); CSV and IDX files are read into memory
// (InMemoryDataset) with options.preprocess. The dataset's name is the spec.
std::shared_ptr<Dataset> open_dataset_file(const std::string& spec, const SourceOptions& options = {});

// (train, test) from two file specs; test_spec "" gives a null test set. The formats may differ.
// Standardising uses the training file's statistics for both and needs both in memory (it is
// refused for .nnds files: standardise before writing them). A CSV test file takes the training
// file's labels unless options.csv.labels declares them. Throws when the two files' samples or
// targets do not match.
std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> open_dataset_files(
    const std::string& train_spec, const std::string& test_spec, const SourceOptions& options = {});

// Samples [begin, end) of another dataset, without copying: a head (data.limit) or a validation
// tail (validation_split) of any dataset, streamed ones included.
class SliceDataset : public Dataset {
 public:
  SliceDataset(std::shared_ptr<const Dataset> base, int64_t begin, int64_t end);
  int64_t size() const override { return end_ - begin_; }
  Shape sample_shape() const override { return base_->sample_shape(); }
  int64_t target_width() const override { return base_->target_width(); }
  void gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const override;
  bool gather_is_copy() const override { return base_->gather_is_copy(); }
  // One gather of the slice is one of its base: the base continues at the same batch.
  void seek_batches(uint64_t batches_done) const override { base_->seek_batches(batches_done); }

 private:
  std::shared_ptr<const Dataset> base_;
  int64_t begin_, end_;
};

// (first part, last `fraction`) of a dataset as two slices: InMemoryDataset::split_tail's cut (Keras's
// validation_split) for any dataset. Throws when a part would be empty.
std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> split_tail(std::shared_ptr<const Dataset> data,
                                                                         double fraction);

// --- synthetic data -------------------------------------------------------------------------------

// Gaussian blobs: class c has a centre drawn from N(0, 1) per feature; sample i has a uniformly
// drawn class and features centre + N(0, noise^2). A linear model can learn it; the best possible
// accuracy with 10 classes and noise 2 is about 42% with 8 features, 84% with 32 and 98% with 64
// (chance: 10%). Sample i depends only on (seed, i), so [first, first + samples) with another
// `first` is a test set of the same classes.
struct SynthOptions {
  int64_t samples = 0;
  int64_t features = 32;
  int64_t classes = 10;
  uint64_t seed = 42;
  int64_t first = 0;    // index of the first sample
  double noise = 2.0;   // standard deviation around the class centre
  BinaryDtype dtype = BinaryDtype::F32;  // U8 stores clamp((value + 8) / 16, 0, 1) as pixels
  void validate() const;                 // throws nnlab::Error naming the bad value
};

// Writes the dataset to path chunk by chunk (a few MiB in memory whatever options.samples is).
void write_synthetic_dataset(const std::string& path, const SynthOptions& options);

}  // namespace nnlab
