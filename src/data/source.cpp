// Data sources: datasets opened from files of any supported format, slices of datasets, and
// synthetic Gaussian blobs written in chunks.
#include "nnlab/data/source.hpp"

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <vector>

#include "nnlab/error.hpp"

namespace nnlab {

namespace {

namespace fs = std::filesystem;

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_file(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

bool starts_with_magic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[8] = {};
  return in.read(magic, 8) && std::memcmp(magic, "NNLABDS1", 8) == 0;
}

// "IMAGES,LABELS", or the labels file named after an images file; {"", ""} when neither applies.
std::pair<std::string, std::string> idx_pair(const std::string& spec) {
  if (const size_t comma = spec.find(','); comma != std::string::npos && !is_file(spec))
    return {spec.substr(0, comma), spec.substr(comma + 1)};
  const std::string file = fs::path(spec).filename().string();
  for (const auto& [images, labels] : {std::pair<std::string, std::string>{"images-idx3", "labels-idx1"},
                                      std::pair<std::string, std::string>{"images.idx3", "labels.idx1"}}) {
    if (const size_t at = file.find(images); at != std::string::npos) {
      std::string l = file;
      l.replace(at, images.size(), labels);
      return {spec, (fs::path(spec).parent_path() / l).string()};
    }
  }
  return {"", ""};
}

void require_file(const std::string& path, const std::string& what) {
  check(is_file(path), path + ": no such file" + (what.empty() ? "" : " (" + what + ")"));
}

// The raw labels of a CSV dataset read without declared labels: its class names are the numbers.
LabelMap labels_of(const InMemoryDataset& d) {
  std::vector<int64_t> raw;
  for (const std::string& s : d.class_names) raw.push_back(std::stoll(s));
  return LabelMap(raw, d.class_names);
}

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// --- a small counter-based generator, so sample i depends only on (seed, i) ------------------------

uint64_t mix(uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct SplitMix {
  uint64_t state;
  uint64_t next() { return mix(state += 0x9e3779b97f4a7c15ULL); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  // Two standard normal draws (Box-Muller).
  std::pair<double, double> normals() {
    const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
    const double a = 2.0 * std::numbers::pi * uniform();
    return {r * std::cos(a), r * std::sin(a)};
  }
};

}  // namespace

// --- files ------------------------------------------------------------------------------------------

const char* format_name(FileFormat f) {
  switch (f) {
    case FileFormat::Binary: return "nnlab binary";
    case FileFormat::Csv: return "CSV";
    case FileFormat::Idx: return "IDX";
  }
  return "?";
}

FileFormat detect_format(const std::string& spec) {
  check(!spec.empty(), "empty dataset file name");
  if (is_file(spec)) {
    if (starts_with_magic(spec) || ends_with(spec, ".nnds")) return FileFormat::Binary;
    if (ends_with(spec, ".csv") || ends_with(spec, ".csv.gz")) return FileFormat::Csv;
  }
  const auto [images, labels] = idx_pair(spec);
  if (!images.empty()) return FileFormat::Idx;
  require_file(spec, "");
  throw Error(spec + ": cannot tell the dataset format; expected an nnlab binary file (.nnds, see `nnlab data "
                     "convert`), a .csv or .csv.gz file, or IDX files given as IMAGES,LABELS (or an images file named "
                     "*images-idx3*)");
}

std::shared_ptr<Dataset> open_dataset_file(const std::string& spec, const SourceOptions& options) {
  std::shared_ptr<Dataset> d;
  switch (detect_format(spec)) {
    case FileFormat::Binary:
      d = std::make_shared<MappedDataset>(spec, options.binary);
      break;
    case FileFormat::Csv:
      d = std::make_shared<InMemoryDataset>(read_csv(spec, options.csv, options.preprocess));
      break;
    case FileFormat::Idx: {
      const auto [images, labels] = idx_pair(spec);
      require_file(images, "IDX images");
      require_file(labels, "the IDX labels for " + images);
      d = std::make_shared<InMemoryDataset>(read_idx(images, labels, options.preprocess, options.idx_labels));
      break;
    }
  }
  d->name = spec;
  return d;
}

std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> open_dataset_files(const std::string& train_spec,
                                                                                 const std::string& test_spec,
                                                                                 const SourceOptions& options) {
  const bool standardise = options.preprocess.standardise;
  if (standardise) {
    for (const std::string& s : {train_spec, test_spec})
      check(s.empty() || detect_format(s) != FileFormat::Binary,
            s + ": an nnlab binary file is read as stored and cannot be standardised on the fly; standardise the "
                "data before writing it, or set standardize = false");
  }
  SourceOptions o = options;
  o.preprocess.standardise = false;  // done below with the training file's statistics
  std::shared_ptr<Dataset> train = open_dataset_file(train_spec, o);
  std::shared_ptr<Dataset> test;
  if (!test_spec.empty()) {
    if (o.csv.labels.empty() && detect_format(train_spec) == FileFormat::Csv)
      o.csv.labels = labels_of(static_cast<const InMemoryDataset&>(*train));
    test = open_dataset_file(test_spec, o);
    check(shape_size(test->sample_shape()) == shape_size(train->sample_shape()),
          test_spec + " has samples of shape " + shape_str(test->sample_shape()) + " but the training file " +
              train_spec + " has " + shape_str(train->sample_shape()));
    check(test->target_width() == train->target_width() && (test->num_classes == 0) == (train->num_classes == 0),
          test_spec + " has " + (test->num_classes ? std::to_string(test->num_classes) + " classes" :
                                                     "targets of width " + std::to_string(test->target_width())) +
              " but the training file " + train_spec + " has " +
              (train->num_classes ? std::to_string(train->num_classes) + " classes" :
                                    "targets of width " + std::to_string(train->target_width())));
  }
  if (standardise) {
    auto& tr = static_cast<InMemoryDataset&>(*train);
    const Standardisation s = options.preprocess.statistics
                                  ? *options.preprocess.statistics
                                  : compute_standardisation(tr.x(), options.preprocess.per_feature);
    apply_standardisation(tr.x(), s);
    if (test) apply_standardisation(static_cast<InMemoryDataset&>(*test).x(), s);
  }
  return {train, test};
}

SliceDataset::SliceDataset(std::shared_ptr<const Dataset> base, int64_t begin, int64_t end)
    : base_(std::move(base)), begin_(begin), end_(end) {
  check(base_ != nullptr, "slice of a null dataset");
  check(0 <= begin_ && begin_ <= end_ && end_ <= base_->size(),
        "slice [" + std::to_string(begin_) + ", " + std::to_string(end_) + ") of " +
            (base_->name.empty() ? std::string("a dataset") : base_->name) + " of " + std::to_string(base_->size()) +
            " samples");
  num_classes = base_->num_classes;
  class_names = base_->class_names;
  name = base_->name + "[" + std::to_string(begin_) + ":" + std::to_string(end_) + "]";
}

void SliceDataset::gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const {
  std::vector<int64_t> shifted(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t s = indices[i];
    check(s >= 0 && s < size(), name + ": sample index " + std::to_string(s) + " is not in [0, " +
                                    std::to_string(size()) + ")");
    shifted[i] = s + begin_;
  }
  base_->gather(shifted, x, y);
}

std::pair<std::shared_ptr<Dataset>, std::shared_ptr<Dataset>> split_tail(std::shared_ptr<const Dataset> data,
                                                                         double fraction) {
  check(data != nullptr, "split of a null dataset");
  check(fraction > 0 && fraction < 1, "validation_split must be in (0, 1), got " + num(fraction));
  const int64_t n = data->size();
  const int64_t cut = n - static_cast<int64_t>(static_cast<double>(n) * fraction);  // as InMemoryDataset's
  check(cut > 0 && cut < n,
        "validation_split " + num(fraction) + " leaves an empty part of " + std::to_string(n) + " samples");
  return {std::make_shared<SliceDataset>(data, 0, cut), std::make_shared<SliceDataset>(data, cut, n)};
}

// --- synthetic data -----------------------------------------------------------------------------------

void SynthOptions::validate() const {
  check(samples >= 1, "synthetic data: samples must be at least 1, got " + std::to_string(samples));
  check(features >= 1 && features <= (int64_t{1} << 24),
        "synthetic data: features must be in [1, 2^24], got " + std::to_string(features));
  check(classes >= 2 && classes <= 65536, "synthetic data: classes must be in [2, 65536], got " + std::to_string(classes));
  check(first >= 0 && first <= INT64_MAX - samples,
        "synthetic data: first must be from 0 to 2^63 - 1 - samples, got " + std::to_string(first));
  // The class centres are held in memory: classes x features floats, at most 2^28 (1 GiB).
  check(classes * features <= (int64_t{1} << 28),
        "synthetic data: classes x features = " + std::to_string(classes) + " x " + std::to_string(features) + " = " +
            std::to_string(classes * features) + " class-centre values (" + num(4.0 * double(classes * features) / 1e9) +
            " GB), more than the 2^28 (1.07 GB) allowed; use fewer classes or features");
  check(std::isfinite(noise) && noise >= 0, "synthetic data: noise must be a finite number >= 0, got " + num(noise));
}

void write_synthetic_dataset(const std::string& path, const SynthOptions& options) {
  options.validate();
  const int64_t f = options.features, k = options.classes;
  // Class centres: (classes, features), N(0, 1).
  std::vector<float> centres(static_cast<size_t>(k * f));
  SplitMix c{mix(options.seed ^ 0x5ca1ab1e0ddba11ULL)};
  for (size_t i = 0; i < centres.size(); i += 2) {
    const auto [a, b] = c.normals();
    centres[i] = static_cast<float>(a);
    if (i + 1 < centres.size()) centres[i + 1] = static_cast<float>(b);
  }

  BinaryDatasetWriter w(path, {f}, 1, k, options.dtype);
  // Chunks of about 4 MiB of features, generated in parallel and appended in order.
  const int64_t chunk = std::clamp<int64_t>((int64_t{1} << 20) / f, 1, 65536);
  std::vector<float> x, y;
  const bool u8 = options.dtype == BinaryDtype::U8;
  const float noise = static_cast<float>(options.noise);
  for (int64_t begin = 0; begin < options.samples; begin += chunk) {
    const int64_t m = std::min(chunk, options.samples - begin);
    x.resize(static_cast<size_t>(m * f));
    y.resize(static_cast<size_t>(m));
#pragma omp parallel for schedule(static) if (m * f >= (int64_t{1} << 16))
    for (int64_t i = 0; i < m; ++i) {
      SplitMix g{mix(options.seed) ^ mix(static_cast<uint64_t>(options.first + begin + i) + 0x1234567ULL)};
      const int64_t label = static_cast<int64_t>(g.below(static_cast<uint64_t>(k)));
      y[static_cast<size_t>(i)] = static_cast<float>(label);
      const float* centre = centres.data() + label * f;
      float* row = x.data() + i * f;
      for (int64_t j = 0; j < f; j += 2) {
        const auto [a, b] = g.normals();
        row[j] = centre[j] + noise * static_cast<float>(a);
        if (j + 1 < f) row[j + 1] = centre[j + 1] + noise * static_cast<float>(b);
      }
      if (u8)
        for (int64_t j = 0; j < f; ++j) row[j] = std::clamp((row[j] + 8.0f) / 16.0f, 0.0f, 1.0f);
    }
    w.append(x, y);
  }
  w.finish();
}

}  // namespace nnlab
