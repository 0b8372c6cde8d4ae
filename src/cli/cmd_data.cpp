// `nnlab data`: which datasets are on this machine and how to get the others (list), conversion
// to nnlab's binary format (convert), synthetic datasets of any size (synth), and MNIST's download
// through curl or wget (download).
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

#include "commands.hpp"
#include "nnlab/data/binary.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/data/source.hpp"
#include "nnlab/error.hpp"

extern char** environ;

namespace nnlab::cli {

namespace {

namespace fs = std::filesystem;

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (const auto& e : v) s += (s.empty() ? "" : sep) + e;
  return s;
}

// 1234567 -> "1,234,567"
std::string grouped(uint64_t v) {
  const std::string digits = std::to_string(v);
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return buf;
}

BinaryDtype parse_dtype(const std::string& s) {
  if (s == "u8" || s == "uint8") return BinaryDtype::U8;
  if (s == "f32" || s == "float32") return BinaryDtype::F32;
  throw Error("--dtype must be u8 or f32, got '" + s + "'");
}

const char* dtype_name(BinaryDtype d) { return d == BinaryDtype::U8 ? "uint8" : "float32"; }

bool is_builtin(const std::string& name) {
  for (const DatasetInfo& d : known_datasets())
    if (d.name == name) return true;
  return false;
}

// uint8 when every value is a pixel / 255 (what the readers make of images), else float32.
BinaryDtype natural_dtype(const Dataset& d) {
  if (const auto* m = dynamic_cast<const MappedDataset*>(&d)) return m->dtype();
  if (const auto* mem = dynamic_cast<const InMemoryDataset*>(&d)) {
    for (float v : mem->x().span()) {
      const float p = v * 255.0f;
      if (!(v >= 0.0f && v <= 1.0f) || static_cast<float>(std::lround(p)) / 255.0f != v) return BinaryDtype::F32;
    }
    return BinaryDtype::U8;
  }
  return BinaryDtype::F32;
}

// --- list ---------------------------------------------------------------------------------------

void list(const std::string& dir) {
  for (const DatasetInfo& d : known_datasets(dir)) {
    std::printf("%-14s %s\n", d.name.c_str(), d.present ? ("present in " + d.found_in).c_str() : "not found");
    std::printf("  %s\n", d.description.c_str());
    if (!d.present) {
      std::printf("  looked in: %s\n", join(d.searched, ", ").c_str());
      std::vector<std::string> first;  // each file's usual name (variants and .gz are accepted too)
      for (const std::string& f : d.files) first.push_back(f.substr(0, f.find(" or ")));
      std::printf("  files:     %s (or .gz, or the usual variant names)\n", join(first, ", ").c_str());
      std::printf("  to get it: %s\n", d.hint.c_str());
    }
  }
  std::printf("\nAny file trains too: `nnlab data convert` writes nnlab's binary format (.nnds), which streams "
              "from disk.\n");
}

// --- convert ------------------------------------------------------------------------------------

struct ConvertArgs {
  std::vector<std::string> inputs;
  std::string out, dtype = "auto", split = "train", dir;
};

void convert(const ConvertArgs& a) {
  check(!a.out.empty(), "--out is required");
  check(a.split == "train" || a.split == "test", "--split must be train or test, got '" + a.split + "'");
  const auto t0 = std::chrono::steady_clock::now();
  std::shared_ptr<Dataset> data;
  if (a.inputs.size() == 1 && is_builtin(a.inputs[0]) && !fs::exists(a.inputs[0])) {
    auto [train, test] = load_builtin(a.inputs[0], a.dir);
    data = std::make_shared<InMemoryDataset>(a.split == "train" ? std::move(train) : std::move(test));
  } else if (a.inputs.size() == 1) {
    data = open_dataset_file(a.inputs[0]);
  } else if (a.inputs.size() == 2) {
    data = open_dataset_file(a.inputs[0] + "," + a.inputs[1]);  // IDX images and labels
  } else {
    throw Error("convert takes one input (a built-in dataset name, a .csv/.csv.gz file, an .nnds file, or IDX "
                "images) or two (IDX images and labels), got " + std::to_string(a.inputs.size()));
  }
  check(fs::absolute(a.out) != fs::absolute(a.inputs[0]), a.out + ": the output would replace the input");
  const BinaryDtype dtype = a.dtype == "auto" ? natural_dtype(*data) : parse_dtype(a.dtype);
  write_binary_dataset(a.out, *data, dtype);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s samples of shape %s (%s, %s) to %s: %s bytes (%s) in %.1f s\n",
              grouped(static_cast<uint64_t>(data->size())).c_str(), shape_str(data->sample_shape()).c_str(),
              dtype_name(dtype),
              data->num_classes ? (std::to_string(data->num_classes) + " classes").c_str()
                                : ("targets of width " + std::to_string(data->target_width())).c_str(),
              a.out.c_str(), grouped(fs::file_size(a.out)).c_str(), mib(fs::file_size(a.out)).c_str(), s);
}

// --- synth --------------------------------------------------------------------------------------

void synth(SynthOptions o, const std::string& dtype, const std::string& out) {
  check(!out.empty(), "--out is required");
  o.dtype = parse_dtype(dtype);
  o.validate();
  const auto t0 = std::chrono::steady_clock::now();
  write_synthetic_dataset(out, o);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s samples (%lld features, %lld classes, %s, noise %g) to %s: %s bytes (%s) in %.1f s\n",
              grouped(static_cast<uint64_t>(o.samples)).c_str(), static_cast<long long>(o.features),
              static_cast<long long>(o.classes), dtype_name(o.dtype), o.noise, out.c_str(),
              grouped(fs::file_size(out)).c_str(), mib(fs::file_size(out)).c_str(), s);
}

// --- download -----------------------------------------------------------------------------------

constexpr const char* kMnistUrl = "https://ossci-datasets.s3.amazonaws.com/mnist/";
constexpr const char* kMnistFiles[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

std::string find_program(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (!path) return "";
  std::string p = path;
  for (size_t begin = 0; begin <= p.size();) {
    const size_t end = std::min(p.find(':', begin), p.size());
    const std::string dir = p.substr(begin, end - begin);
    if (!dir.empty()) {
      const std::string full = dir + "/" + name;
      if (::access(full.c_str(), X_OK) == 0) return full;
    }
    begin = end + 1;
  }
  return "";
}

// Runs argv[0] with argv; returns its exit status (128 + signal when killed).
int run_program(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0], nullptr, nullptr, args.data(), environ);
  check(rc == 0, "cannot run " + argv[0] + ": " + std::generic_category().message(rc));
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) throw Error("waiting for " + argv[0] + ": " + std::generic_category().message(errno));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Fetches url into path with curl or wget: fails within seconds when the host cannot be reached
// (5 s to connect) or the transfer stalls (under 1 KB/s for 20 s), without capping a slow download.
void fetch(const std::string& url, const std::string& path) {
  const std::string part = path + ".part";
  std::vector<std::string> argv;
  if (const std::string curl = find_program("curl"); !curl.empty()) {
    argv = {curl, "-fsSL", "--connect-timeout", "5", "--speed-limit", "1000", "--speed-time", "20", "-o", part, url};
  } else if (const std::string wget = find_program("wget"); !wget.empty()) {
    argv = {wget, "-q", "--connect-timeout=5", "--read-timeout=20", "--tries=1", "-O", part, url};
  } else {
    throw Error("cannot download " + url + ": neither curl nor wget is installed (install one, or download the "
                "file by other means into " + fs::path(path).parent_path().string() + ")");
  }
  const int rc = run_program(argv);
  if (rc != 0) {
    std::error_code ec;
    fs::remove(part, ec);
    throw Error("cannot download " + url + ": " + fs::path(argv[0]).filename().string() + " failed with exit code " +
                std::to_string(rc) + " (no internet connection, or the URL is wrong; set NNLAB_MNIST_URL to use "
                "another mirror)");
  }
  fs::rename(part, path);
}

std::string default_dir(const std::string& name) {
  if (const char* d = std::getenv("NNLAB_DATA"); d && *d) return (fs::path(d) / name).string();
  const char* home = std::getenv("HOME");
  check(home && *home, "HOME is not set; give the target folder with --dir");
  return (fs::path(home) / ".nnlab" / "data" / name).string();
}

void download(const std::string& name, std::string dir) {
  if (name != "mnist") {
    const DatasetInfo info = find_dataset(name);  // throws for an unknown name
    if (info.present) throw Error("nnlab downloads only mnist; " + name + " is already present in " + info.found_in);
    throw Error("nnlab downloads only mnist; to get " + name + ", " + info.hint +
                (name == "sign-mnist" ? " (https://www.kaggle.com/datasets/datamunge/sign-language-mnist, which "
                                        "needs a Kaggle account)"
                                      : ""));
  }
  if (dir.empty()) dir = default_dir(name);
  std::string base = kMnistUrl;
  if (const char* u = std::getenv("NNLAB_MNIST_URL"); u && *u) base = u;
  if (base.back() != '/') base += '/';
  std::error_code ec;
  fs::create_directories(dir, ec);
  check(!ec && fs::is_directory(dir), dir + ": cannot create the folder: " + ec.message());
  for (const char* file : kMnistFiles) {
    const std::string path = (fs::path(dir) / file).string();
    if (fs::exists(path)) {
      std::printf("%s: already there\n", path.c_str());
      continue;
    }
    std::printf("downloading %s%s\n", base.c_str(), file);
    std::fflush(stdout);
    fetch(base + file, path);
  }
  // Read them back, so a damaged download is reported now rather than at training time.
  const fs::path d(dir);
  const auto train = read_idx((d / kMnistFiles[0]).string(), (d / kMnistFiles[1]).string());
  const auto test = read_idx((d / kMnistFiles[2]).string(), (d / kMnistFiles[3]).string());
  std::printf("mnist in %s: %s training and %s test samples\n", dir.c_str(),
              grouped(static_cast<uint64_t>(train.size())).c_str(), grouped(static_cast<uint64_t>(test.size())).c_str());
}

}  // namespace

void add_data(CLI::App& app) {
  auto* data = app.add_subcommand("data", "Datasets: list those found, convert, synthesise, download");
  data->require_subcommand(0, 1);
  auto list_dir = std::make_shared<std::string>();

  auto* l = data->add_subcommand("list", "Each known dataset: found or not, where looked, how to get it (the default)");
  l->add_option("--dir", *list_dir, "Also look in this folder (and its NAME subfolders)");
  l->callback([list_dir] { list(*list_dir); });

  auto c = std::make_shared<ConvertArgs>();
  auto* cv = data->add_subcommand("convert", "Write a dataset in nnlab's binary format (.nnds), which streams from disk");
  cv->add_option("input", c->inputs,
                 "A built-in dataset (mnist, fashion-mnist, sign-mnist), a .csv/.csv.gz file, an .nnds file, or IDX "
                 "images and labels files")
      ->required();
  cv->add_option("--out", c->out, "The .nnds file to write")->required();
  cv->add_option("--dtype", c->dtype, "u8 (pixels, 1 byte a value), f32, or auto (u8 when every value is a pixel / 255)")
      ->capture_default_str();
  cv->add_option("--split", c->split, "train or test, for a built-in dataset")->capture_default_str();
  cv->add_option("--dir", c->dir, "Where to look for a built-in dataset's files first");
  cv->callback([c] { convert(*c); });

  auto so = std::make_shared<SynthOptions>();
  so->samples = 0;
  auto sdtype = std::make_shared<std::string>("f32");
  auto sout = std::make_shared<std::string>();
  auto* sy = data->add_subcommand("synth", "Write a synthetic classification dataset (Gaussian blobs), chunk by chunk");
  sy->add_option("--samples", so->samples, "Number of samples")->required();
  sy->add_option("--features", so->features, "Features per sample")->capture_default_str();
  sy->add_option("--classes", so->classes, "Number of classes")->capture_default_str();
  sy->add_option("--out", *sout, "The .nnds file to write")->required();
  sy->add_option("--seed", so->seed, "Seed for the class centres and the samples")->capture_default_str();
  sy->add_option("--noise", so->noise, "Standard deviation around each class centre (centres are N(0, 1))")
      ->capture_default_str();
  sy->add_option("--first", so->first, "Index of the first sample: another range gives a test set of the same classes")
      ->capture_default_str();
  sy->add_option("--dtype", *sdtype, "f32 or u8")->capture_default_str();
  sy->callback([so, sdtype, sout] { synth(*so, *sdtype, *sout); });

  auto dname = std::make_shared<std::string>();
  auto ddir = std::make_shared<std::string>();
  auto* dl = data->add_subcommand("download", "Download mnist's four IDX files with curl or wget (needs internet)");
  dl->add_option("dataset", *dname, "mnist (sign-mnist and fashion-mnist: prints where to get them)")->required();
  dl->add_option("--dir", *ddir, "Target folder (default $NNLAB_DATA/mnist or ~/.nnlab/data/mnist)");
  dl->callback([dname, ddir] { download(*dname, *ddir); });

  // `nnlab data` alone lists.
  data->callback([data, list_dir] {
    if (data->get_subcommands().empty()) list(*list_dir);
  });
}

}  // namespace nnlab::cli
