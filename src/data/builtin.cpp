// The built-in dataset catalogue: where mnist, fashion-mnist and sign-mnist are looked for, in
// which layouts, and how to get them when they are missing.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <future>

#include "nnlab/data/readers.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

namespace {

namespace fs = std::filesystem;

// One way a dataset's files can lie in a directory: IDX (train images, train labels, test images,
// test labels) or CSV (train, test). Each file has alternative names, tried in order.
struct Layout {
  enum class Kind { Idx, Csv } kind;
  std::string summary;  // for messages
  std::vector<std::vector<std::string>> files;
};

struct Entry {
  std::string name, description;
  LabelMap (*labels)();
  std::vector<Layout> layouts;
  std::string (*hint)(const std::string& dir);
};

std::vector<std::string> idx_names(const std::string& stem, const std::string& dotted) {
  return {stem, stem + ".gz", dotted, dotted + ".gz"};
}

Layout idx_layout(const std::string& summary) {
  return {Layout::Kind::Idx,
          summary,
          {idx_names("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
           idx_names("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
           idx_names("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
           idx_names("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte")}};
}

std::vector<std::string> csv_names(const std::string& stem) {
  // Kaggle's archives sometimes hold the file in a folder of the same name.
  return {stem + ".csv", stem + ".csv.gz", stem + "/" + stem + ".csv"};
}

const std::vector<Entry>& catalogue() {
  static const std::vector<Entry> entries = {
      {"mnist", "handwritten digits 0-9, 28x28 grey, 60,000 train / 10,000 test", &LabelMap::mnist,
       {idx_layout("the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                   "t10k-labels-idx1-ubyte, each optionally .gz)"),
        {Layout::Kind::Csv, "Kaggle's mnist-in-csv files (mnist_train.csv, mnist_test.csv)",
         {csv_names("mnist_train"), csv_names("mnist_test")}}},
       [](const std::string& dir) {
         return "run `nnlab data download mnist` on a machine with internet and copy the files it downloads to " +
                dir;
       }},
      {"fashion-mnist", "Zalando's clothing images in 10 classes, 28x28 grey, 60,000 train / 10,000 test",
       &LabelMap::fashion_mnist,
       {idx_layout("the four IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
                   "t10k-labels-idx1-ubyte, each optionally .gz)"),
        {Layout::Kind::Csv, "Kaggle's fashion-mnist CSV files (fashion-mnist_train.csv, fashion-mnist_test.csv)",
         {csv_names("fashion-mnist_train"), csv_names("fashion-mnist_test")}}},
       [](const std::string& dir) {
         return "install Debian's package dataset-fashion-mnist (apt install dataset-fashion-mnist), or put the "
                "files in " + dir;
       }},
      {"sign-mnist", "Sign Language MNIST: hand signs for 24 letters (no J, Z), 28x28 grey, 27,455 train / 7,172 test",
       &LabelMap::sign_language_mnist,
       {{Layout::Kind::Csv, "Kaggle's CSV files (sign_mnist_train.csv, sign_mnist_test.csv)",
         {csv_names("sign_mnist_train"), csv_names("sign_mnist_test")}}},
       [](const std::string& dir) {
         return "download the Kaggle dataset datamunge/sign-language-mnist and put the two CSV files "
                "(sign_mnist_train.csv, sign_mnist_test.csv) in " + dir;
       }},
  };
  return entries;
}

const Entry& entry(const std::string& name) {
  std::string known;
  for (const Entry& e : catalogue()) {
    if (e.name == name) return e;
    known += (known.empty() ? "" : ", ") + e.name;
  }
  throw Error("unknown dataset \"" + name + "\"; the built-in datasets are " + known);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::vector<std::string> search_dirs(const std::string& name, const std::string& data_dir) {
  std::vector<std::string> dirs;
  auto add = [&](const fs::path& p) {
    const std::string s = p.lexically_normal().string();
    if (std::find(dirs.begin(), dirs.end(), s) == dirs.end()) dirs.push_back(s);
  };
  if (!data_dir.empty()) {
    add(fs::path(data_dir) / name);  // first, so a flat folder of another dataset's IDX files is not taken
    add(data_dir);
  }
  if (const std::string d = env("NNLAB_DATA"); !d.empty()) add(fs::path(d) / name);
  if (const std::string h = env("HOME"); !h.empty()) add(fs::path(h) / ".nnlab" / "data" / name);
  add(fs::path("/usr/share/datasets") / name);
  return dirs;
}

// Where a user should put the files: the directory they named, else $NNLAB_DATA's or ~/.nnlab's.
std::string preferred_dir(const std::string& name, const std::string& data_dir) {
  if (!data_dir.empty()) return data_dir;
  if (const std::string d = env("NNLAB_DATA"); !d.empty()) return (fs::path(d) / name).string();
  if (const std::string h = env("HOME"); !h.empty()) return (fs::path(h) / ".nnlab" / "data" / name).string();
  return "a folder given with the data directory option";
}

std::string first_existing(const fs::path& dir, const std::vector<std::string>& alternatives) {
  for (const std::string& a : alternatives) {
    std::error_code ec;
    const fs::path p = dir / a;
    if (fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

struct Found {
  DatasetInfo info;
  const Layout* layout = nullptr;
  std::vector<std::string> paths;
  std::string partial;  // "found X in D but not Y" for the first incomplete layout
};

Found locate(const Entry& e, const std::string& data_dir) {
  Found f;
  f.info.name = e.name;
  f.info.description = e.description;
  for (const Layout& l : e.layouts)
    for (const auto& alts : l.files) {
      std::string s;
      for (const std::string& a : alts) s += (s.empty() ? "" : " or ") + a;
      f.info.files.push_back(s);
    }
  f.info.searched = search_dirs(e.name, data_dir);
  for (const std::string& dir : f.info.searched) {
    for (const Layout& l : e.layouts) {
      std::vector<std::string> paths, missing;
      for (const auto& alts : l.files) {
        const std::string p = first_existing(dir, alts);
        if (p.empty())
          missing.push_back(alts.front());
        else
          paths.push_back(p);
      }
      if (missing.empty()) {
        f.info.present = true;
        f.info.found_in = dir;
        f.layout = &l;
        f.paths = std::move(paths);
        return f;
      }
      if (!paths.empty() && f.partial.empty()) {
        std::string m;
        for (const std::string& s : missing) m += (m.empty() ? "" : ", ") + s;
        f.partial = "in " + dir + " some of " + l.summary + " are present but not " + m;
      }
    }
  }
  f.info.hint = e.hint(preferred_dir(e.name, data_dir));
  return f;
}

}  // namespace

std::vector<DatasetInfo> known_datasets(const std::string& data_dir) {
  std::vector<DatasetInfo> out;
  for (const Entry& e : catalogue()) out.push_back(locate(e, data_dir).info);
  return out;
}

DatasetInfo find_dataset(const std::string& name, const std::string& data_dir) {
  return locate(entry(name), data_dir).info;
}

std::pair<InMemoryDataset, InMemoryDataset> load_builtin(const std::string& name, const std::string& data_dir,
                                                         const Preprocess& preprocess) {
  const Entry& e = entry(name);
  const Found f = locate(e, data_dir);
  if (!f.info.present) {
    std::string looked;
    for (const std::string& d : f.info.searched) looked += (looked.empty() ? "" : ", ") + d;
    std::string layouts;
    for (const Layout& l : e.layouts) layouts += (layouts.empty() ? "" : " or ") + l.summary;
    if (e.layouts.size() > 1) layouts = "either " + layouts;
    throw Error("dataset \"" + name + "\" not found: looked for " + layouts + " in " + looked + ". " +
                (f.partial.empty() ? "" : "Note: " + f.partial + ". ") + "To get it: " + f.info.hint + ".");
  }

  // Standardising uses the training set's statistics for both sets, so it happens after reading.
  Preprocess p = preprocess;
  p.standardise = false;
  const LabelMap labels = e.labels();
  CsvOptions csv;
  csv.labels = labels;
  auto read = [&](size_t part) {  // 0: train, 1: test
    return f.layout->kind == Layout::Kind::Idx ? read_idx(f.paths[2 * part], f.paths[2 * part + 1], p, labels)
                                               : read_csv(f.paths[part], csv, p);
  };
  // Decompressing is single-threaded, so the test set is read beside the training set.
  auto pending_test = std::async(std::launch::async, read, size_t{1});
  InMemoryDataset train = read(0);
  InMemoryDataset test = pending_test.get();
  if (preprocess.standardise) {
    const Standardisation s =
        preprocess.statistics ? *preprocess.statistics : compute_standardisation(train.x(), preprocess.per_feature);
    apply_standardisation(train.x(), s);
    apply_standardisation(test.x(), s);
  }
  train.name = name + "/train";
  test.name = name + "/test";
  return {std::move(train), std::move(test)};
}

}  // namespace nnlab
