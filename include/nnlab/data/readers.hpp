// Dataset readers: MNIST's IDX files (raw or gzip), Kaggle's image CSVs (Sign Language MNIST,
// MNIST-in-CSV, Fashion-MNIST CSV), and the built-in catalogue that finds mnist, fashion-mnist and
// sign-mnist on disk. Every reader fails with an nnlab::Error naming the file (and for CSV the
// line) and saying what was expected, before allocating anything a bad header claims.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/data/label_map.hpp"
#include "nnlab/data/preprocess.hpp"

namespace nnlab {

// --- IDX (MNIST format) ---------------------------------------------------------------------
// images: magic 0x00000803, big-endian u32 n, rows, cols, then n*rows*cols bytes;
// labels: magic 0x00000801, big-endian u32 n, then n bytes. Either file may be gzip-compressed
// (detected by its first bytes 1f 8b). The labels must belong to `labels` (default: digits 0-9);
// they become outputs 0..k-1 and the map's names become the dataset's class names.
// x: (n, rows*cols), or (n, rows, cols) without flatten; y: (n, 1) class indices.
InMemoryDataset read_idx(const std::string& images_path, const std::string& labels_path,
                         const Preprocess& preprocess = {}, const LabelMap& labels = LabelMap::mnist());

// --- CSV (one sample a line: a label column and pixel columns) ------------------------------
struct CsvOptions {
  enum class Header { Auto, Yes, No };
  Header header = Header::Auto;       // Auto: the first line is a header when a field is not a number
  std::string label_column = "label";  // the label's column by header name...
  int64_t label_index = -1;            // ...or by index (0-based; wins when >= 0); no header: column 0
  char delimiter = ',';
  LabelMap labels;                      // the declared label set; empty: the sorted labels found
  bool check_pixel_range = true;        // refuse pixels outside [pixel_min, pixel_max]
  float pixel_min = 0.0f;
  float pixel_max = 255.0f;
  Shape image_shape;  // shape per sample when Preprocess::flatten is false; empty: square (28, 28)
};

// Reads a whole CSV file (gzip allowed). x: (n, features) or (n, image_shape...); y: (n, 1).
InMemoryDataset read_csv(const std::string& path, const CsvOptions& options = {},
                         const Preprocess& preprocess = {});

// --- Built-in datasets ------------------------------------------------------------------------
struct DatasetInfo {
  std::string name;                   // "mnist", "fashion-mnist", "sign-mnist"
  std::string description;            // one line
  std::vector<std::string> files;     // the files looked for (a layout's alternatives joined by " or ")
  std::vector<std::string> searched;  // the directories looked in, in order
  bool present = false;
  std::string found_in;  // the directory the files are in, when present
  std::string hint;      // how to get the files, when absent
};

// Where the files are looked for, in order: data_dir/NAME and data_dir (when data_dir is given),
// $NNLAB_DATA/NAME, ~/.nnlab/data/NAME, /usr/share/datasets/NAME (Debian's dataset-fashion-mnist).
std::vector<DatasetInfo> known_datasets(const std::string& data_dir = "");
DatasetInfo find_dataset(const std::string& name, const std::string& data_dir = "");  // throws if unknown

// (train, test) of a built-in dataset. With preprocess.standardise the test set is standardised
// with the training set's statistics. Throws when the files are missing, saying which files were
// looked for where and how to get them.
std::pair<InMemoryDataset, InMemoryDataset> load_builtin(const std::string& name, const std::string& data_dir = "",
                                                         const Preprocess& preprocess = {});

}  // namespace nnlab
