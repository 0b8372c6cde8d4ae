// Datasets larger than memory (issue 3): MappedDataset keeps resident memory within its budget over a
// shuffled epoch, reads the same values in every mode, and trains to exactly the weights of the same
// data in memory; data sources open .nnds, CSV and IDX files; synthetic data is deterministic and
// learnable; and the `nnlab data` command lists, synthesises, converts and fails cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "nnlab/data/binary.hpp"
#include "nnlab/data/source.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace nnlab;
using namespace nnlab::testing;  // run_nnlab, error_of, contains, write_file, random_dataset, ...

namespace {

// VmRSS of this process in bytes.
int64_t rss_bytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  return -1;
}

// All of a dataset, read through gather(), held in memory.
InMemoryDataset load_all(const Dataset& d) {
  std::vector<int64_t> idx(static_cast<size_t>(d.size()));
  std::iota(idx.begin(), idx.end(), 0);
  Tensor x, y;
  d.gather(idx, x, y);
  InMemoryDataset m(std::move(x), std::move(y), d.num_classes);
  m.class_names = d.class_names;
  return m;
}


MappedDatasetOptions budget(int64_t bytes) {
  MappedDatasetOptions o;
  o.memory_budget = bytes;
  return o;
}

using Streaming = nnlab::testing::TempDirTest;

}  // namespace

// --- MappedDataset's memory -------------------------------------------------------------------------

TEST_F(Streaming, ResidentMemoryStaysWithinTheBudgetOverAShuffledEpoch) {
  if (NNLAB_UNDER_ASAN) {
    GTEST_SKIP() << "resident memory is not the program's own under AddressSanitizer (shadow memory, "
                    "quarantine); the ordinary build runs this test";
  }
  // 500,000 samples of 32 float32 features: a 66 MB file, read with an 8 MiB budget.
  SynthOptions s;
  s.samples = 500'000;
  s.features = 32;
  write_synthetic_dataset(path("big.nnds"), s);
  const auto file_bytes = static_cast<int64_t>(fs::file_size(path("big.nnds")));
  ASSERT_EQ(file_bytes, 64 + 500'000 * (32 * 4 + 4));

  auto epoch_growth = [&](const MappedDataset& d) {
    std::vector<int64_t> order(static_cast<size_t>(d.size()));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), std::mt19937_64(7));
    Tensor x({1000, 32}), y({1000, 1});  // the batch buffers, allocated before measuring
    const int64_t before = rss_bytes();
    int64_t peak = before;
    double sum = 0;
    for (size_t b = 0; b < order.size(); b += 1000) {
      d.gather(std::span<const int64_t>(order).subspan(b, 1000), x, y);
      sum += x[0] + y[0];
      peak = std::max(peak, rss_bytes());
    }
    EXPECT_TRUE(std::isfinite(sum));
    return peak - before;
  };

  const MappedDataset streamed(path("big.nnds"), budget(8 << 20));
  EXPECT_TRUE(streamed.streaming());
  EXPECT_TRUE(streamed.targets_in_memory());  // 2 MB of targets fit in 8 MiB
  const int64_t growth = epoch_growth(streamed);
  EXPECT_LT(growth, 16 << 20) << "RSS grew by " << growth << " bytes reading a " << file_bytes << "-byte file";

  // The measurement can see file pages: the same epoch through a whole-file mapping (a budget
  // above the file's size) makes most of the file resident.
  const MappedDataset mapped(path("big.nnds"), budget(int64_t{1} << 30));
  EXPECT_FALSE(mapped.streaming());
  EXPECT_GT(epoch_growth(mapped), file_bytes / 2);
}

TEST_F(Streaming, EveryReadingModeGathersTheSameValues) {
  for (const bool pixels : {false, true}) {
    const InMemoryDataset d = random_dataset(5000, {4, 3}, 7, pixels, pixels ? 11u : 12u);
    write_binary_dataset(path("d.nnds"), d, pixels ? BinaryDtype::U8 : BinaryDtype::F32);
    const int64_t size = static_cast<int64_t>(fs::file_size(path("d.nnds")));
    const MappedDataset mapped(path("d.nnds"), budget(size));          // the whole file fits
    const MappedDataset targets(path("d.nnds"), budget(size - 1));     // streams, targets in memory
    const MappedDataset nothing(path("d.nnds"), budget(0));            // streams targets too
    EXPECT_FALSE(mapped.streaming());
    EXPECT_TRUE(targets.streaming());
    EXPECT_TRUE(targets.targets_in_memory());
    EXPECT_TRUE(nothing.streaming());
    EXPECT_FALSE(nothing.targets_in_memory());

    std::vector<int64_t> shuffled(5000);
    std::iota(shuffled.begin(), shuffled.end(), 0);
    std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(3));
    std::vector<int64_t> sequential(3000);
    std::iota(sequential.begin(), sequential.end(), 1000);  // coalesced into long reads
    const std::vector<int64_t> odd{4999, 0, 17, 17, 18, 2500, 0};  // repeats and neighbours
    for (const Dataset* m : {static_cast<const Dataset*>(&mapped), static_cast<const Dataset*>(&targets),
                             static_cast<const Dataset*>(&nothing)}) {
      expect_same_gather(d, *m, shuffled);
      expect_same_gather(d, *m, sequential);
      expect_same_gather(d, *m, odd);
      EXPECT_CONTAINS(error_of([&] { Tensor x, y; const int64_t bad[] = {5000}; m->gather(bad, x, y); }),
                      path("d.nnds"));
    }
    MappedDataset moved_from(path("d.nnds"), budget(0));
    const MappedDataset moved(std::move(moved_from));  // a move keeps the open file
    expect_same_gather(d, moved, odd);
  }
  EXPECT_CONTAINS(error_of([&] { MappedDataset m(path("d.nnds"), budget(-1)); }), "-1");
}

TEST_F(Streaming, TrainingFromAFileGivesTheWeightsOfTrainingInMemory) {
  SynthOptions s;
  s.samples = 20'000;
  s.features = 16;
  s.classes = 5;
  write_synthetic_dataset(path("train.nnds"), s);
  SynthOptions t = s;
  t.first = s.samples;
  t.samples = 5'000;
  write_synthetic_dataset(path("test.nnds"), t);

  const MappedDataset file(path("train.nnds"), budget(0));  // streamed, targets read per batch
  ASSERT_TRUE(file.streaming());
  const InMemoryDataset memory = load_all(file);

  auto train = [&](const Dataset& data) {
    Model m;
    m.add<Dense>(32, "relu");
    m.add<Dense>(5, "softmax");
    m.build({16}, 5);
    Trainer tr(m, make_loss("sparse_categorical_crossentropy"), make_optimizer("adam", {{"learning_rate", 0.01}}));
    FitOptions fit;
    fit.epochs = 2;
    fit.batch_size = 100;
    fit.verbose = 0;
    fit.seed = 9;
    tr.fit(data, fit);
    const MappedDataset test(path("test.nnds"));
    const double accuracy = tr.evaluate(test).at("accuracy");
    return std::make_pair(std::vector<float>(m.params().begin(), m.params().end()), accuracy);
  };
  const auto [from_file, file_accuracy] = train(file);
  const auto [from_memory, memory_accuracy] = train(memory);
  ASSERT_EQ(from_file.size(), from_memory.size());
  for (size_t i = 0; i < from_file.size(); ++i) ASSERT_EQ(from_file[i], from_memory[i]) << "parameter " << i;
  EXPECT_EQ(file_accuracy, memory_accuracy);
  // 16 features, 5 classes: learnable far above chance (20%).
  EXPECT_GT(file_accuracy, 0.6);
}

// --- synthetic data ----------------------------------------------------------------------------------

TEST_F(Streaming, SyntheticSamplesDependOnlyOnSeedAndIndex) {
  SynthOptions a;
  a.samples = 3000;
  a.features = 5;
  a.classes = 3;
  write_synthetic_dataset(path("a.nnds"), a);
  write_synthetic_dataset(path("a2.nnds"), a);
  EXPECT_EQ(read_bytes(path("a.nnds")), read_bytes(path("a2.nnds")));

  SynthOptions tail = a;  // samples 1000..2999 written on their own
  tail.first = 1000;
  tail.samples = 2000;
  write_synthetic_dataset(path("tail.nnds"), tail);
  const MappedDataset whole(path("a.nnds")), part(path("tail.nnds"));
  EXPECT_EQ(part.size(), 2000);
  EXPECT_EQ(part.num_classes, 3);
  std::vector<int64_t> from(2000), to(2000);
  std::iota(from.begin(), from.end(), 1000);
  std::iota(to.begin(), to.end(), 0);
  Tensor xa, ya, xb, yb;
  whole.gather(from, xa, ya);
  part.gather(to, xb, yb);
  EXPECT_EQ(std::vector<float>(xa.span().begin(), xa.span().end()), std::vector<float>(xb.span().begin(), xb.span().end()));
  EXPECT_EQ(std::vector<float>(ya.span().begin(), ya.span().end()), std::vector<float>(yb.span().begin(), yb.span().end()));
  // Every class appears; another seed gives other data.
  std::vector<int> counts(3);
  for (float c : ya.span()) counts[static_cast<size_t>(c)]++;
  for (int c : counts) EXPECT_GT(c, 500);
  SynthOptions other = a;
  other.seed = 43;
  write_synthetic_dataset(path("b.nnds"), other);
  EXPECT_NE(read_bytes(path("a.nnds")), read_bytes(path("b.nnds")));

  SynthOptions u8 = a;  // uint8 files hold the values squeezed into [0, 1]
  u8.dtype = BinaryDtype::U8;
  write_synthetic_dataset(path("u8.nnds"), u8);
  const MappedDataset px(path("u8.nnds"));
  EXPECT_EQ(px.dtype(), BinaryDtype::U8);
  EXPECT_EQ(fs::file_size(path("u8.nnds")), 64u + 3000u * (5u + 4u));

  SynthOptions bad = a;
  bad.samples = 0;
  EXPECT_CONTAINS(error_of([&] { write_synthetic_dataset(path("bad.nnds"), bad); }), "samples must be at least 1, got 0");
  bad = a;
  bad.classes = 1;
  EXPECT_CONTAINS(error_of([&] { write_synthetic_dataset(path("bad.nnds"), bad); }), "got 1");
  bad = a;
  bad.noise = -1;
  EXPECT_CONTAINS(error_of([&] { write_synthetic_dataset(path("bad.nnds"), bad); }), "got -1");
  EXPECT_FALSE(fs::exists(path("bad.nnds")));
}

// --- data sources ------------------------------------------------------------------------------------

namespace {

void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

// n 2x2 IDX images with pixel values 10*i + j, and labels i % 10.
void write_idx(const std::string& images, const std::string& labels, uint32_t n) {
  std::string im, lb;
  put_be32(im, 0x803);
  put_be32(im, n);
  put_be32(im, 2);
  put_be32(im, 2);
  put_be32(lb, 0x801);
  put_be32(lb, n);
  for (uint32_t i = 0; i < n; ++i) {
    for (uint32_t j = 0; j < 4; ++j) im.push_back(static_cast<char>(10 * i + j));
    lb.push_back(static_cast<char>(i % 10));
  }
  write_file(images, im);
  write_file(labels, lb);
}

}  // namespace

TEST_F(Streaming, SourcesOpenBinaryCsvAndIdxFiles) {
  write_binary_dataset(path("t.nnds"), random_dataset(50, {4}, 3, true, 5), BinaryDtype::U8);
  write_file(path("t.csv"), "label,a,b,c,d\n2,0,255,0,0\n7,51,0,0,0\n2,0,0,0,0\n");
  write_file(path("u.csv"), "label,a,b,c,d\n7,255,255,255,255\n");
  write_idx(path("train-images-idx3-ubyte"), path("train-labels-idx1-ubyte"), 20);
  write_idx(path("imgs.bin"), path("labs.bin"), 8);

  EXPECT_EQ(detect_format(path("t.nnds")), FileFormat::Binary);
  EXPECT_EQ(detect_format(path("t.csv")), FileFormat::Csv);
  EXPECT_EQ(detect_format(path("train-images-idx3-ubyte")), FileFormat::Idx);
  EXPECT_EQ(detect_format(path("imgs.bin") + "," + path("labs.bin")), FileFormat::Idx);

  const auto bin = open_dataset_file(path("t.nnds"));
  EXPECT_NE(dynamic_cast<const MappedDataset*>(bin.get()), nullptr);
  EXPECT_EQ(bin->size(), 50);
  EXPECT_EQ(bin->name, path("t.nnds"));

  // CSV train and test: the test file takes the training file's labels (2 -> 0, 7 -> 1).
  const auto [csv_train, csv_test] = open_dataset_files(path("t.csv"), path("u.csv"));
  EXPECT_EQ(csv_train->size(), 3);
  EXPECT_EQ(csv_train->num_classes, 2);
  Tensor x, y;
  const std::vector<int64_t> first{0};
  csv_test->gather(first, x, y);
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(x[0], 1.0f);  // 255 / 255

  // IDX: labels named after the images file, or given after a comma; formats may be mixed.
  const auto [idx_train, idx_test] =
      open_dataset_files(path("train-images-idx3-ubyte"), path("imgs.bin") + "," + path("labs.bin"));
  EXPECT_EQ(idx_train->size(), 20);
  EXPECT_EQ(idx_train->sample_shape(), (Shape{4}));
  EXPECT_EQ(idx_test->size(), 8);
  const std::vector<int64_t> third{3};
  idx_train->gather(third, x, y);
  EXPECT_EQ(x[1], 31.0f / 255.0f);
  EXPECT_EQ(y[0], 3.0f);
  const auto [only, none] = open_dataset_files(path("t.nnds"), "");
  EXPECT_EQ(none, nullptr);

  // Standardising uses the training file's statistics, and is refused for binary files.
  SourceOptions st;
  st.preprocess.standardise = true;
  const auto [s_train, s_test] = open_dataset_files(path("train-images-idx3-ubyte"), path("imgs.bin") + "," + path("labs.bin"), st);
  const Tensor& sx = static_cast<const InMemoryDataset&>(*s_train).x();
  double mean = 0;
  for (float v : sx.span()) mean += v;
  EXPECT_NEAR(mean / static_cast<double>(sx.size()), 0.0, 1e-5);
  EXPECT_CONTAINS(error_of([&] { open_dataset_files(path("t.nnds"), "", st); }), path("t.nnds"));

  // Clear errors: a missing file, an unknown format, a test set that does not match.
  EXPECT_CONTAINS(error_of([&] { open_dataset_file(path("missing.nnds")); }), path("missing.nnds"));
  EXPECT_CONTAINS(error_of([&] { open_dataset_file(path("missing.csv")); }), "no such file");
  write_file(path("notes.txt"), "hello");
  EXPECT_CONTAINS(error_of([&] { open_dataset_file(path("notes.txt")); }), "cannot tell the dataset format");
  EXPECT_CONTAINS(error_of([&] { open_dataset_file(path("imgs.bin") + "," + path("nolabels")); }), path("nolabels"));
  write_binary_dataset(path("wide.nnds"), random_dataset(5, {6}, 3, true, 6));
  EXPECT_CONTAINS(error_of([&] { open_dataset_files(path("t.nnds"), path("wide.nnds")); }), "(6)");
}

TEST_F(Streaming, SliceDatasetIsAViewOfARange) {
  const InMemoryDataset d = random_dataset(100, {3}, 4, false, 8);
  write_binary_dataset(path("d.nnds"), d);
  auto file = std::make_shared<MappedDataset>(path("d.nnds"), budget(0));
  const SliceDataset tail(file, 80, 100);
  EXPECT_EQ(tail.size(), 20);
  EXPECT_EQ(tail.num_classes, 4);
  std::vector<int64_t> a(20), b(20);
  std::iota(a.begin(), a.end(), 80);
  std::iota(b.begin(), b.end(), 0);
  Tensor x1, y1, x2, y2;
  d.gather(a, x1, y1);
  tail.gather(b, x2, y2);
  EXPECT_EQ(std::vector<float>(x1.span().begin(), x1.span().end()), std::vector<float>(x2.span().begin(), x2.span().end()));
  EXPECT_CONTAINS(error_of([&] { Tensor x, y; const int64_t bad[] = {20}; tail.gather(bad, x, y); }), "20");
  EXPECT_CONTAINS(error_of([&] { SliceDataset s(file, 50, 101); }), "101");

  // split_tail cuts where InMemoryDataset::split_tail does.
  for (const double f : {0.1, 0.25, 0.333, 0.9}) {
    const auto [a, b] = split_tail(file, f);
    const auto [ma, mb] = d.split_tail(f);
    EXPECT_EQ(a->size(), ma.size()) << f;
    EXPECT_EQ(b->size(), mb.size()) << f;
    std::vector<int64_t> all(static_cast<size_t>(mb.size()));
    std::iota(all.begin(), all.end(), 0);
    expect_same_gather(mb, *b, all);
  }
  EXPECT_CONTAINS(error_of([&] { split_tail(file, 0.001); }), "leaves an empty part of 100 samples");
}

// --- nnlab data ------------------------------------------------------------------------------------------

TEST_F(Streaming, DataListSaysWhatIsPresentAndHowToGetTheRest) {
  const auto r = run_nnlab("data");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* name : {"mnist", "fashion-mnist", "sign-mnist"}) EXPECT_CONTAINS(r.output, name);
  if (find_dataset("fashion-mnist").present)
    EXPECT_CONTAINS(r.output, "fashion-mnist  present in " + find_dataset("fashion-mnist").found_in);
  EXPECT_CONTAINS(r.output, "datamunge/sign-language-mnist");
  const auto l = run_nnlab("data list --dir " + dir_.string());
  ASSERT_EQ(l.exit_code, 0) << l.output;
  EXPECT_CONTAINS(l.output, dir_.string());  // looked there
}

TEST_F(Streaming, DataSynthAndConvertRoundTrip) {
  auto r = run_nnlab("data synth --samples 3000 --features 8 --classes 4 --seed 5 --out " + path("s.nnds"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "3,000 samples");
  EXPECT_CONTAINS(r.output, "108,064 bytes");  // 64 header + 3000 x (8 x 4 + 4)
  const MappedDataset s(path("s.nnds"));
  EXPECT_EQ(s.size(), 3000);
  EXPECT_EQ(s.sample_shape(), (Shape{8}));
  EXPECT_EQ(s.num_classes, 4);

  // .nnds to .nnds keeps float32 and every byte.
  r = run_nnlab("data convert " + path("s.nnds") + " --out " + path("copy.nnds"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "float32");
  EXPECT_EQ(read_bytes(path("s.nnds")), read_bytes(path("copy.nnds")));

  // IDX pair and CSV: pixels, so uint8 by default.
  write_idx(path("i.bin"), path("l.bin"), 30);
  r = run_nnlab("data convert " + path("i.bin") + " " + path("l.bin") + " --out " + path("idx.nnds"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "30 samples");
  EXPECT_CONTAINS(r.output, "uint8");
  const MappedDataset idx(path("idx.nnds"));
  const InMemoryDataset direct = read_idx(path("i.bin"), path("l.bin"));
  std::vector<int64_t> all(30);
  std::iota(all.begin(), all.end(), 0);
  expect_same_gather(direct, idx, all);
  write_file(path("c.csv"), "label,a,b\n1,0,255\n0,3,4\n");
  r = run_nnlab("data convert " + path("c.csv") + " --dtype f32 --out " + path("c.nnds"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(MappedDataset(path("c.nnds")).dtype(), BinaryDtype::F32);

  if (find_dataset("fashion-mnist").present) {
    r = run_nnlab("data convert fashion-mnist --split test --out " + path("fm.nnds"));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_CONTAINS(r.output, "10,000 samples");
    const MappedDataset fm(path("fm.nnds"));
    EXPECT_EQ(fm.class_names.at(9), "Ankle boot");
    EXPECT_EQ(fm.dtype(), BinaryDtype::U8);
  }
}

TEST_F(Streaming, DataCommandRefusesBadArgumentsInOneLine) {
  struct Bad {
    std::string args, expected;
  };
  const std::vector<Bad> cases = {
      {"data synth --samples 0 --out " + path("x.nnds"), "samples must be at least 1, got 0"},
      {"data synth --samples 10 --classes 1 --out " + path("x.nnds"), "classes must be in [2, 65536], got 1"},
      {"data synth --samples 10 --dtype f16 --out " + path("x.nnds"), "f16"},
      {"data synth --samples 10", "--out"},
      {"data convert " + path("none.csv") + " --out " + path("x.nnds"), path("none.csv")},
      {"data convert fashion-mnist --split validation --out " + path("x.nnds"), "validation"},
      {"data convert a b c --out " + path("x.nnds"), "got 3"},
      {"data download sign-mnist", "datamunge/sign-language-mnist"},
      {"data download cifar", "unknown dataset \"cifar\""},
      {"data frobnicate", "frobnicate"},
  };
  for (const Bad& c : cases) {
    const auto r = run_nnlab(c.args);
    EXPECT_NE(r.exit_code, 0) << c.args << "\n" << r.output;
    EXPECT_CONTAINS(r.output, c.expected);
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
  }
  EXPECT_FALSE(fs::exists(path("x.nnds")));
}

TEST_F(Streaming, DataDownloadFailsFastNamingTheUrl) {
  // Nothing listens on port 9 of this machine: the connection is refused at once.
  ::setenv("NNLAB_MNIST_URL", "http://127.0.0.1:9/mnist", 1);
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_nnlab("data download mnist --dir " + path("mnist"));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::unsetenv("NNLAB_MNIST_URL");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, "http://127.0.0.1:9/mnist/train-images-idx3-ubyte.gz");
  EXPECT_LT(s, 30.0);
  // Nothing half-downloaded is left where the catalogue would find it.
  EXPECT_FALSE(fs::exists(path("mnist/train-images-idx3-ubyte.gz")));
  EXPECT_FALSE(fs::exists(path("mnist/train-images-idx3-ubyte.gz.part")));

  // Without curl and wget on the PATH: a message that says so.
  const std::string saved = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", dir_.c_str(), 1);
  const auto n = run_nnlab("data download mnist --dir " + path("mnist"));
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_EQ(n.exit_code, 1) << n.output;
  EXPECT_CONTAINS(n.output, "neither curl nor wget");
}
