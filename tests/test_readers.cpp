// Dataset readers: IDX (raw and gzip), Kaggle CSV layouts, label maps, preprocessing, the
// built-in catalogue, nnlab's binary format and MappedDataset. Every file is generated here in
// the exact format, in a temporary folder; malformed files must fail with an nnlab::Error naming
// the file (and for CSV the line).
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "nnlab/data/binary.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/error.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace nnlab;

using namespace nnlab::testing;  // error_of, contains, write_file, random_dataset, ...

namespace {

// --- file makers ---------------------------------------------------------------------------

void put_be32(std::string& s, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
}

std::string idx_images(uint32_t n, uint32_t rows, uint32_t cols, const std::vector<uint8_t>& px,
                       uint32_t magic = 0x803) {
  std::string s;
  put_be32(s, magic);
  put_be32(s, n);
  put_be32(s, rows);
  put_be32(s, cols);
  s.append(px.begin(), px.end());
  return s;
}

std::string idx_labels(uint32_t n, const std::vector<uint8_t>& labels, uint32_t magic = 0x801) {
  std::string s;
  put_be32(s, magic);
  put_be32(s, n);
  s.append(labels.begin(), labels.end());
  return s;
}

void write_gz(const fs::path& p, const std::string& bytes) {
  fs::create_directories(p.parent_path());
  gzFile g = gzopen(p.c_str(), "wb");
  ASSERT_NE(g, nullptr) << p;
  ASSERT_EQ(gzwrite(g, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  ASSERT_EQ(gzclose(g), Z_OK);
}

// A pixel pattern that differs per image and pixel.
std::vector<uint8_t> pattern(size_t n, size_t pixels) {
  std::vector<uint8_t> px(n * pixels);
  for (size_t i = 0; i < px.size(); ++i) px[i] = static_cast<uint8_t>((i * 37 + i / pixels * 11) % 256);
  return px;
}

// A CSV with a header line `label,<prefix>...` (pixel_names gives the pixel column names), or none.
std::string csv_text(const std::vector<int>& labels, size_t pixels, const std::vector<std::string>& pixel_names,
                     const std::string& eol = "\n") {
  std::string s;
  if (!pixel_names.empty()) {
    s += "label";
    for (const auto& n : pixel_names) s += "," + n;
    s += eol;
  }
  for (size_t r = 0; r < labels.size(); ++r) {
    s += std::to_string(labels[r]);
    for (size_t j = 0; j < pixels; ++j) s += "," + std::to_string((r * 31 + j * 7) % 256);
    s += eol;
  }
  return s;
}

std::vector<std::string> sign_names() {  // pixel1..pixel784
  std::vector<std::string> v;
  for (int i = 1; i <= 784; ++i) v.push_back("pixel" + std::to_string(i));
  return v;
}

std::vector<std::string> mnist_csv_names() {  // 1x1..28x28
  std::vector<std::string> v;
  for (int r = 1; r <= 28; ++r)
    for (int c = 1; c <= 28; ++c) v.push_back(std::to_string(r) + "x" + std::to_string(c));
  return v;
}

using Readers = nnlab::testing::TempDirTest;

// Sets an environment variable for the scope of a test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace

// --- IDX ---------------------------------------------------------------------------------------

TEST_F(Readers, IdxRawShapesValuesAndScaling) {
  const auto px = pattern(3, 6);
  write_file(path("img"), idx_images(3, 2, 3, px));
  write_file(path("lab"), idx_labels(3, {7, 0, 9}));

  const InMemoryDataset d = read_idx(path("img"), path("lab"));
  EXPECT_EQ(d.x().shape(), (Shape{3, 6}));
  EXPECT_EQ(d.y().shape(), (Shape{3, 1}));
  EXPECT_EQ(d.num_classes, 10);
  ASSERT_EQ(d.class_names.size(), 10u);
  EXPECT_EQ(d.class_names[7], "7");
  EXPECT_EQ(d.y()[0], 7.0f);
  EXPECT_EQ(d.y()[1], 0.0f);
  EXPECT_EQ(d.y()[2], 9.0f);
  for (size_t i = 0; i < px.size(); ++i) EXPECT_EQ(d.x()[int64_t(i)], float(px[i]) / 255.0f) << i;

  Preprocess images;
  images.flatten = false;
  images.scale = false;
  const InMemoryDataset e = read_idx(path("img"), path("lab"), images);
  EXPECT_EQ(e.x().shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(e.sample_shape(), (Shape{2, 3}));
  for (size_t i = 0; i < px.size(); ++i) EXPECT_EQ(e.x()[int64_t(i)], float(px[i]));
}

TEST_F(Readers, IdxGzipEqualsRaw) {
  const auto px = pattern(5, 16);
  const std::vector<uint8_t> labels{1, 2, 3, 4, 5};
  write_file(path("img"), idx_images(5, 4, 4, px));
  write_file(path("lab"), idx_labels(5, labels));
  write_gz(path("img.gz"), idx_images(5, 4, 4, px));
  write_gz(path("lab.gz"), idx_labels(5, labels));
  ASSERT_EQ(static_cast<unsigned char>(read_bytes(path("img.gz"))[0]), 0x1f);

  const auto raw = read_idx(path("img"), path("lab"));
  const auto gz = read_idx(path("img.gz"), path("lab.gz"));
  EXPECT_EQ(gz.x().shape(), raw.x().shape());
  EXPECT_TRUE(std::equal(raw.x().span().begin(), raw.x().span().end(), gz.x().span().begin()));
  EXPECT_TRUE(std::equal(raw.y().span().begin(), raw.y().span().end(), gz.y().span().begin()));
  // Mixed: a gzip image file with a raw label file.
  EXPECT_EQ(read_idx(path("img.gz"), path("lab")).size(), 5);
}

TEST_F(Readers, IdxFashionNames) {
  write_file(path("img"), idx_images(2, 1, 1, {0, 255}));
  write_file(path("lab"), idx_labels(2, {9, 0}));
  const auto d = read_idx(path("img"), path("lab"), {}, LabelMap::fashion_mnist());
  EXPECT_EQ(d.class_names[size_t(d.y()[0])], "Ankle boot");
  EXPECT_EQ(d.class_names[size_t(d.y()[1])], "T-shirt/top");
  EXPECT_EQ(d.x()[1], 1.0f);
}

TEST_F(Readers, IdxErrorsNameTheFile) {
  const auto px = pattern(4, 4);
  write_file(path("img"), idx_images(4, 2, 2, px));
  write_file(path("lab"), idx_labels(4, {0, 1, 2, 3}));

  std::string m = error_of([&] { read_idx(path("nope-images"), path("lab")); });
  EXPECT_CONTAINS(m, path("nope-images"));
  EXPECT_CONTAINS(m, "no such file");

  // Images and labels swapped: wrong magic, shown in hex.
  m = error_of([&] { read_idx(path("lab"), path("img")); });
  EXPECT_CONTAINS(m, path("lab"));
  EXPECT_CONTAINS(m, "0x00000801");
  EXPECT_CONTAINS(m, "0x00000803");

  write_file(path("junk"), "label,pixel1\n1,2\n");
  m = error_of([&] { read_idx(path("junk"), path("lab")); });
  EXPECT_CONTAINS(m, path("junk"));
  EXPECT_CONTAINS(m, "0x6C616265");  // "labe"

  // Truncated raw: 16 + 16 bytes declared, 16 + 10 present.
  std::string cut = idx_images(4, 2, 2, px);
  cut.resize(cut.size() - 6);
  write_file(path("cut"), cut);
  m = error_of([&] { read_idx(path("cut"), path("lab")); });
  EXPECT_CONTAINS(m, path("cut"));
  EXPECT_CONTAINS(m, "truncated");
  EXPECT_CONTAINS(m, "32 bytes");
  EXPECT_CONTAINS(m, "26");

  // Truncated gzip.
  write_gz(path("cut.gz"), cut);
  m = error_of([&] { read_idx(path("cut.gz"), path("lab")); });
  EXPECT_CONTAINS(m, path("cut.gz"));
  EXPECT_CONTAINS(m, "truncated");
  EXPECT_CONTAINS(m, "32 bytes");

  // A gzip file whose compressed stream is itself cut short.
  write_gz(path("full.gz"), idx_images(4, 2, 2, px));
  std::string gz = read_bytes(path("full.gz"));
  gz.resize(gz.size() - 12);
  write_file(path("cutstream.gz"), gz);
  m = error_of([&] { read_idx(path("cutstream.gz"), path("lab")); });
  EXPECT_CONTAINS(m, path("cutstream.gz"));

  // Header only, shorter than a header.
  write_file(path("tiny"), std::string("\0\0\x08\x03\0\0", 6));
  m = error_of([&] { read_idx(path("tiny"), path("lab")); });
  EXPECT_CONTAINS(m, path("tiny"));
  EXPECT_CONTAINS(m, "truncated");

  // Extra bytes after the declared data.
  write_file(path("long"), idx_images(4, 2, 2, px) + "xyz");
  m = error_of([&] { read_idx(path("long"), path("lab")); });
  EXPECT_CONTAINS(m, path("long"));
  EXPECT_CONTAINS(m, "3 bytes more");

  // Count mismatch.
  write_file(path("lab3"), idx_labels(3, {0, 1, 2}));
  m = error_of([&] { read_idx(path("img"), path("lab3")); });
  EXPECT_CONTAINS(m, path("img"));
  EXPECT_CONTAINS(m, path("lab3"));
  EXPECT_CONTAINS(m, "4 images");
  EXPECT_CONTAINS(m, "3 labels");

  // A zero dimension.
  write_file(path("zero"), idx_images(4, 0, 2, {}));
  m = error_of([&] { read_idx(path("zero"), path("lab")); });
  EXPECT_CONTAINS(m, path("zero"));
  EXPECT_CONTAINS(m, "0x2");

  // Label >= declared classes.
  write_file(path("lab10"), idx_labels(4, {0, 1, 10, 3}));
  m = error_of([&] { read_idx(path("img"), path("lab10")); });
  EXPECT_CONTAINS(m, path("lab10"));
  EXPECT_CONTAINS(m, "label 10 of image 2");
  EXPECT_CONTAINS(m, "10 classes");
  // ...but fine when the declared set is larger.
  EXPECT_EQ(read_idx(path("img"), path("lab10"), {}, LabelMap::range(11)).num_classes, 11);
}

TEST_F(Readers, IdxAbsurdHeadersRefusedBeforeAllocating) {
  // 2^24 images of 256x256 = 2^40 bytes claimed by a 16-byte header.
  write_file(path("huge"), idx_images(1u << 24, 256, 256, {}));
  write_file(path("hugelab"), idx_labels(1u << 24, {}));
  write_gz(path("huge.gz"), idx_images(1u << 24, 256, 256, {}));
  // 2^32-1 MNIST-size images.
  write_file(path("many"), idx_images(0xFFFFFFFFu, 28, 28, {}));
  // Plausible size (1,000,000 MNIST images = 784 MB) but a file with no data.
  write_file(path("million"), idx_images(1000000, 28, 28, {1, 2, 3}));
  write_gz(path("million.gz"), idx_images(1000000, 28, 28, {1, 2, 3}));
  write_file(path("millionlab"), idx_labels(1000000, std::vector<uint8_t>(1000000, 0)));

  const auto start = std::chrono::steady_clock::now();
  for (const char* f : {"huge", "huge.gz", "many"}) {
    const std::string m = error_of([&] { read_idx(path(f), path("hugelab")); });
    EXPECT_CONTAINS(m, path(f));
    EXPECT_CONTAINS(m, "2^34");
  }
  for (const char* f : {"million", "million.gz"}) {
    const std::string m = error_of([&] { read_idx(path(f), path("millionlab")); });
    EXPECT_CONTAINS(m, path(f));
    EXPECT_CONTAINS(m, "truncated");
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(s, 1.0) << "absurd headers must be refused without reading or allocating";
}

// --- CSV ---------------------------------------------------------------------------------------

TEST_F(Readers, CsvSignLanguageLayout) {
  CsvOptions o;
  o.labels = LabelMap::sign_language_mnist();
  const std::vector<int> labels{0, 10, 24, 3, 10};
  write_file(path("sign_mnist_train.csv"), csv_text(labels, 784, sign_names()));
  const InMemoryDataset d = read_csv(path("sign_mnist_train.csv"), o);
  EXPECT_EQ(d.x().shape(), (Shape{5, 784}));
  EXPECT_EQ(d.num_classes, 24);
  ASSERT_EQ(d.class_names.size(), 24u);
  EXPECT_EQ(d.y()[0], 0.0f);
  EXPECT_EQ(d.y()[1], 9.0f);  // raw 10 (K) -> output 9
  EXPECT_EQ(d.y()[2], 23.0f);
  EXPECT_EQ(d.y()[3], 3.0f);
  EXPECT_EQ(d.class_names[9], "K");
  EXPECT_EQ(d.class_names[23], "Y");
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t j = 0; j < 784; ++j)
      ASSERT_EQ(d.x().at(r, j), float((r * 31 + j * 7) % 256) / 255.0f) << r << "," << j;

  Preprocess images;
  images.flatten = false;
  EXPECT_EQ(read_csv(path("sign_mnist_train.csv"), o, images).x().shape(), (Shape{5, 28, 28}));
}

TEST_F(Readers, CsvMnistLayoutCrlfAndGzip) {
  CsvOptions o;
  o.labels = LabelMap::mnist();
  const std::string text = csv_text({5, 0, 4, 1}, 784, mnist_csv_names(), "\r\n") + "\r\n\r\n";
  write_file(path("mnist_train.csv"), text);
  write_gz(path("mnist_train.csv.gz"), text);
  for (const char* f : {"mnist_train.csv", "mnist_train.csv.gz"}) {
    const InMemoryDataset d = read_csv(path(f), o);
    EXPECT_EQ(d.x().shape(), (Shape{4, 784})) << f;
    EXPECT_EQ(d.num_classes, 10);
    EXPECT_EQ(d.y()[0], 5.0f);
    EXPECT_EQ(d.y()[3], 1.0f);
    EXPECT_EQ(d.x().at(3, 783), float((3 * 31 + 783 * 7) % 256) / 255.0f);
  }
}

TEST_F(Readers, CsvWithoutHeaderInfersLabels) {
  write_file(path("plain.csv"), csv_text({7, 3, 7, 5}, 4, {}));
  const InMemoryDataset d = read_csv(path("plain.csv"));
  EXPECT_EQ(d.size(), 4);  // the first row is data
  EXPECT_EQ(d.num_classes, 3);  // {3, 5, 7}
  EXPECT_EQ(d.class_names, (std::vector<std::string>{"3", "5", "7"}));
  EXPECT_EQ(d.y()[0], 2.0f);
  EXPECT_EQ(d.y()[1], 0.0f);
  EXPECT_EQ(d.y()[3], 1.0f);
  EXPECT_EQ(d.x().at(0, 0), 0.0f);
  EXPECT_EQ(d.x().at(1, 1), float(31 + 7) / 255.0f);

  EXPECT_EQ(read_csv(path("plain.csv"), [] { CsvOptions o; o.header = CsvOptions::Header::Yes; o.label_index = 0; return o; }()).size(), 3);
}

TEST_F(Readers, CsvLabelColumnByNameOrIndex) {
  write_file(path("last.csv"), "a,b,cls\n1,2,4\n3,4.5,6\n-0,+7,4\n");
  CsvOptions o;
  o.label_column = "cls";
  Preprocess raw;
  raw.scale = false;
  InMemoryDataset d = read_csv(path("last.csv"), o, raw);
  EXPECT_EQ(d.x().shape(), (Shape{3, 2}));
  EXPECT_EQ(d.x().at(1, 1), 4.5f);
  EXPECT_EQ(d.x().at(2, 1), 7.0f);
  EXPECT_EQ(d.y()[1], 1.0f);  // labels {4, 6}

  CsvOptions by_index;
  by_index.label_index = 2;
  d = read_csv(path("last.csv"), by_index, raw);
  EXPECT_EQ(d.num_classes, 2);

  std::string m = error_of([&] { read_csv(path("last.csv")); });  // no column "label"
  EXPECT_CONTAINS(m, path("last.csv"));
  EXPECT_CONTAINS(m, "\"label\"");
}

TEST_F(Readers, CsvErrorsNameFileAndLine) {
  CsvOptions sign;
  sign.labels = LabelMap::sign_language_mnist();
  const std::string good = csv_text({0, 1, 2, 3}, 784, sign_names());
  auto lines_of = [](const std::string& s) {
    std::vector<std::string> v;
    size_t p = 0;
    while (p < s.size()) {
      const size_t q = s.find('\n', p);
      v.push_back(s.substr(p, q - p));
      p = q + 1;
    }
    return v;
  };
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& l : v) s += l + "\n";
    return s;
  };
  const auto lines = lines_of(good);  // header + 4 rows: the rows are lines 2-5
  ASSERT_EQ(lines.size(), 5u);

  // Ragged row on line 4: one pixel missing.
  auto v = lines;
  v[3] = v[3].substr(0, v[3].rfind(','));
  write_file(path("ragged.csv"), join(v));
  std::string m = error_of([&] { read_csv(path("ragged.csv"), sign); });
  EXPECT_CONTAINS(m, path("ragged.csv") + ":4:");
  EXPECT_CONTAINS(m, "expected 785 columns, got 784");

  // Too many columns on line 5.
  v = lines;
  v[4] += ",0";
  write_file(path("long.csv"), join(v));
  m = error_of([&] { read_csv(path("long.csv"), sign); });
  EXPECT_CONTAINS(m, path("long.csv") + ":5:");
  EXPECT_CONTAINS(m, "got 786");

  // Non-numeric field on line 3, column 4 (pixel3).
  v = lines;
  {
    std::string& l = v[2];
    size_t p = 0;
    for (int i = 0; i < 3; ++i) p = l.find(',', p) + 1;
    l.replace(p, l.find(',', p) - p, "abc");
  }
  write_file(path("text.csv"), join(v));
  m = error_of([&] { read_csv(path("text.csv"), sign); });
  EXPECT_CONTAINS(m, path("text.csv") + ":3:");
  EXPECT_CONTAINS(m, "\"abc\"");
  EXPECT_CONTAINS(m, "pixel3");

  // Empty field.
  write_file(path("emptyfield.csv"), "1,2,3\n1,,3\n");
  m = error_of([&] { read_csv(path("emptyfield.csv")); });
  EXPECT_CONTAINS(m, path("emptyfield.csv") + ":2:");
  EXPECT_CONTAINS(m, "empty field");

  // Empty file, blank file, header only.
  write_file(path("empty.csv"), "");
  m = error_of([&] { read_csv(path("empty.csv")); });
  EXPECT_CONTAINS(m, path("empty.csv"));
  EXPECT_CONTAINS(m, "empty");
  write_file(path("blank.csv"), "\n  \n");
  EXPECT_CONTAINS(error_of([&] { read_csv(path("blank.csv")); }), "empty");
  write_file(path("header.csv"), lines[0] + "\n");
  EXPECT_CONTAINS(error_of([&] { read_csv(path("header.csv"), sign); }), "no data rows");

  // Label 9 (J) is not in Sign Language MNIST's declared set: line 4.
  write_file(path("j.csv"), csv_text({0, 1, 9, 3}, 784, sign_names()));
  m = error_of([&] { read_csv(path("j.csv"), sign); });
  EXPECT_CONTAINS(m, path("j.csv") + ":4:");
  EXPECT_CONTAINS(m, "label 9");
  EXPECT_CONTAINS(m, "{0-8, 10-24}");

  // A fractional or negative label.
  write_file(path("frac.csv"), "label,p\n1,2\n1.5,3\n");
  EXPECT_CONTAINS(error_of([&] { read_csv(path("frac.csv")); }), path("frac.csv") + ":3:");
  write_file(path("neg.csv"), "label,p\n-1,2\n");
  EXPECT_CONTAINS(error_of([&] { read_csv(path("neg.csv")); }), "negative");

  // Pixel 256 on line 2; accepted when the range check is off.
  v = lines;
  v[1] = v[1].substr(0, v[1].rfind(',')) + ",256";
  write_file(path("range.csv"), join(v));
  m = error_of([&] { read_csv(path("range.csv"), sign); });
  EXPECT_CONTAINS(m, path("range.csv") + ":2:");
  EXPECT_CONTAINS(m, "256");
  EXPECT_CONTAINS(m, "[0, 255]");
  CsvOptions lax = sign;
  lax.check_pixel_range = false;
  EXPECT_FLOAT_EQ(read_csv(path("range.csv"), lax).x().at(0, 783), 256.0f / 255.0f);

  // The first error in the file is the one reported, whichever thread met it (a file big enough
  // to be parsed in parallel; errors on lines 90, 150 and 180).
  v = lines_of(csv_text(std::vector<int>(300, 1), 784, sign_names()));
  v[179] = "x" + v[179];
  v[149] = v[149] + ",1";
  v[89] = v[89].substr(0, v[89].rfind(','));
  write_file(path("three.csv"), join(v));
  m = error_of([&] { read_csv(path("three.csv"), sign); });
  EXPECT_CONTAINS(m, path("three.csv") + ":90:");
  EXPECT_CONTAINS(m, "got 784");

  EXPECT_CONTAINS(error_of([&] { read_csv(path("missing.csv")); }), path("missing.csv"));
}

// --- label maps and preprocessing ---------------------------------------------------------

TEST(LabelMap, SignLanguageMapsAndRoundTrips) {
  const LabelMap m = LabelMap::sign_language_mnist();
  EXPECT_EQ(m.size(), 24);
  EXPECT_EQ(m.output(0), 0);
  EXPECT_EQ(m.output(8), 8);
  EXPECT_EQ(m.output(10), 9);
  EXPECT_EQ(m.name(9), "K");
  EXPECT_EQ(m.output(24), 23);
  EXPECT_EQ(m.name(23), "Y");
  EXPECT_EQ(m.name(0), "A");
  EXPECT_EQ(m.name(8), "I");
  EXPECT_FALSE(m.find(9).has_value());
  EXPECT_FALSE(m.find(25).has_value());
  EXPECT_FALSE(m.output_of_name("J").has_value());
  EXPECT_CONTAINS(error_of([&] { m.output(9); }), "label 9");
  EXPECT_THROW(m.name(24), Error);
  EXPECT_EQ(m.describe(), "{0-8, 10-24}");
  for (int64_t o = 0; o < m.size(); ++o) {
    EXPECT_EQ(m.output(m.raw(o)), o);
    EXPECT_EQ(m.output_of_name(m.name(o)), o);
  }
}

TEST(LabelMap, DigitsFashionAndCustom) {
  EXPECT_EQ(LabelMap::mnist().names(), (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  const auto f = LabelMap::fashion_mnist();
  EXPECT_EQ(f.names(), (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                                                 "Shirt", "Sneaker", "Bag", "Ankle boot"}));
  // Custom labels are sorted, names follow their labels.
  const LabelMap c({30, 10, 20}, {"thirty", "ten", "twenty"});
  EXPECT_EQ(c.raw_labels(), (std::vector<int64_t>{10, 20, 30}));
  EXPECT_EQ(c.name(c.output(30)), "thirty");
  EXPECT_EQ(c.describe(), "{10, 20, 30}");
  EXPECT_EQ(LabelMap({1, 2}).describe(), "{1, 2}");
  EXPECT_THROW(LabelMap({1, 1}), Error);
  EXPECT_THROW(LabelMap({1, 2}, {"a"}), Error);
}

TEST(Preprocess, StandardiseGlobalPerFeatureAndTrainStatistics) {
  Tensor train({4, 2}, std::vector<float>{0, 10, 2, 10, 4, 10, 6, 10});
  Tensor test({1, 2}, std::vector<float>{3, 10});

  const Standardisation g = compute_standardisation(train);
  ASSERT_EQ(g.mean.size(), 1u);
  EXPECT_FLOAT_EQ(g.mean[0], 6.5f);  // (0+2+4+6+40)/8
  Tensor t = train;
  apply_standardisation(t, g);
  double sum = 0, sq = 0;
  for (float v : t.span()) sum += v, sq += double(v) * v;
  EXPECT_NEAR(sum / 8, 0.0, 1e-6);
  EXPECT_NEAR(sq / 8, 1.0, 1e-5);

  InMemoryDataset a(train, Tensor({4, 1}, 0.0f)), b(test, Tensor({1, 1}, 0.0f));
  const Standardisation s = standardise(a, b, /*per_feature=*/true);
  ASSERT_EQ(s.mean.size(), 2u);
  EXPECT_FLOAT_EQ(s.mean[0], 3.0f);
  EXPECT_FLOAT_EQ(s.stddev[1], 1.0f);  // a constant feature is left unscaled
  EXPECT_FLOAT_EQ(a.x().at(0, 0), -3.0f / std::sqrt(5.0f));
  EXPECT_FLOAT_EQ(a.x().at(0, 1), 0.0f);
  EXPECT_FLOAT_EQ(b.x().at(0, 0), 0.0f);  // the test set uses the training mean 3
  Tensor wrong({1, 3});
  EXPECT_THROW(apply_standardisation(wrong, s), Error);
}

TEST_F(Readers, PreprocessOptionsInReaders) {
  write_file(path("img"), idx_images(2, 1, 2, {0, 51, 102, 255}));
  write_file(path("lab"), idx_labels(2, {0, 1}));
  Preprocess p;
  p.standardise = true;
  const auto d = read_idx(path("img"), path("lab"), p);
  double sum = 0;
  for (float v : d.x().span()) sum += v;
  EXPECT_NEAR(sum, 0.0, 1e-5);
  // Given statistics are used as they are.
  p.statistics = Standardisation{{0.5f}, {0.5f}};
  const auto e = read_idx(path("img"), path("lab"), p);
  EXPECT_FLOAT_EQ(e.x()[0], -1.0f);
  EXPECT_FLOAT_EQ(e.x()[3], 1.0f);
}

// --- built-in catalogue --------------------------------------------------------------------

TEST_F(Readers, BuiltinSignMnistFromDataDir) {
  ScopedEnv home("HOME", path("home"));
  ScopedEnv data("NNLAB_DATA", path("nnlab_data"));
  const auto all = known_datasets();
  std::vector<std::string> names;
  for (const auto& i : all) names.push_back(i.name);
  EXPECT_EQ(names, (std::vector<std::string>{"mnist", "fashion-mnist", "sign-mnist"}));

  // Missing: the message says which files were looked for where, and how to get them.
  std::string m = error_of([&] { load_builtin("sign-mnist", path("mine")); });
  EXPECT_CONTAINS(m, "sign_mnist_train.csv");
  EXPECT_CONTAINS(m, "sign_mnist_test.csv");
  EXPECT_CONTAINS(m, path("mine"));
  EXPECT_CONTAINS(m, path("nnlab_data") + "/sign-mnist");
  EXPECT_CONTAINS(m, path("home") + "/.nnlab/data/sign-mnist");
  EXPECT_CONTAINS(m, "datamunge/sign-language-mnist");
  const DatasetInfo info = find_dataset("sign-mnist", path("mine"));
  EXPECT_FALSE(info.present);
  EXPECT_EQ(info.searched.front(), path("mine") + "/sign-mnist");

  // Only the train file: the message says which one is missing.
  write_file(dir_ / "mine" / "sign_mnist_train.csv", csv_text({0, 10, 24}, 784, sign_names()));
  m = error_of([&] { load_builtin("sign-mnist", path("mine")); });
  EXPECT_CONTAINS(m, "but not sign_mnist_test.csv");

  // Kaggle's archive layout: the test file in a folder of its own name.
  write_file(dir_ / "mine" / "sign_mnist_test" / "sign_mnist_test.csv", csv_text({1, 10}, 784, sign_names()));
  const auto [train, test] = load_builtin("sign-mnist", path("mine"));
  EXPECT_EQ(train.size(), 3);
  EXPECT_EQ(test.size(), 2);
  EXPECT_EQ(train.num_classes, 24);
  EXPECT_EQ(test.num_classes, 24);
  EXPECT_EQ(test.y()[1], 9.0f);
  EXPECT_EQ(test.class_names[9], "K");
  EXPECT_EQ(train.name, "sign-mnist/train");
  EXPECT_TRUE(find_dataset("sign-mnist", path("mine")).present);

  EXPECT_CONTAINS(error_of([&] { load_builtin("cifar-100"); }), "sign-mnist");
}

TEST_F(Readers, BuiltinMnistIdxGzInNnlabData) {
  ScopedEnv home("HOME", path("home"));
  ScopedEnv data("NNLAB_DATA", path("nnlab_data"));
  std::string m = error_of([&] { load_builtin("mnist"); });
  EXPECT_CONTAINS(m, "train-images-idx3-ubyte");
  EXPECT_CONTAINS(m, "mnist_train.csv");
  EXPECT_CONTAINS(m, "nnlab data download mnist");
  EXPECT_CONTAINS(m, path("home") + "/.nnlab/data/mnist");

  const fs::path d = dir_ / "nnlab_data" / "mnist";
  write_gz(d / "train-images-idx3-ubyte.gz", idx_images(3, 28, 28, pattern(3, 784)));
  write_gz(d / "train-labels-idx1-ubyte.gz", idx_labels(3, {1, 2, 3}));
  write_file(d / "t10k-images-idx3-ubyte", idx_images(2, 28, 28, pattern(2, 784)));
  write_file(d / "t10k-labels-idx1-ubyte", idx_labels(2, {9, 8}));
  Preprocess p;
  p.standardise = true;
  const auto [train, test] = load_builtin("mnist", "", p);
  EXPECT_EQ(train.x().shape(), (Shape{3, 784}));
  EXPECT_EQ(test.x().shape(), (Shape{2, 784}));
  EXPECT_EQ(test.y()[0], 9.0f);
  double sum = 0;
  for (float v : train.x().span()) sum += v;
  EXPECT_NEAR(sum / double(train.x().size()), 0.0, 1e-5);  // test uses the train statistics
  EXPECT_EQ(find_dataset("mnist").found_in, d.string());
}

TEST_F(Readers, BuiltinMnistCsvInDataDir) {
  ScopedEnv home("HOME", path("home"));
  ScopedEnv data("NNLAB_DATA", path("nnlab_data"));
  write_file(dir_ / "flat" / "mnist_train.csv", csv_text({1, 2, 7}, 784, mnist_csv_names()));
  write_file(dir_ / "flat" / "mnist_test.csv", csv_text({0}, 784, mnist_csv_names()));
  const auto [train, test] = load_builtin("mnist", path("flat"));
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.y()[2], 7.0f);
  EXPECT_EQ(test.size(), 1);
}

// --- binary format and MappedDataset ------------------------------------------------------

TEST_F(Readers, BinaryRoundTripFloat32) {
  const InMemoryDataset d = random_dataset(1000, {2, 3}, 5, false, 1);
  write_binary_dataset(path("f.nnlab"), d, BinaryDtype::F32);
  const MappedDataset m(path("f.nnlab"));
  EXPECT_EQ(m.size(), 1000);
  EXPECT_EQ(m.sample_shape(), (Shape{2, 3}));
  EXPECT_EQ(m.target_width(), 1);
  EXPECT_EQ(m.num_classes, 5);
  EXPECT_EQ(m.class_names, d.class_names);
  EXPECT_EQ(m.dtype(), BinaryDtype::F32);
  const std::vector<int64_t> idx{999, 0, 17, 17, 500, 3};
  expect_same_gather(d, m, idx);
  std::vector<int64_t> all(1000);
  std::iota(all.begin(), all.end(), 0);
  expect_same_gather(d, m, all);
  EXPECT_CONTAINS(error_of([&] { Tensor x, y; const int64_t bad[] = {1000}; m.gather(bad, x, y); }), path("f.nnlab"));
  MappedDataset a(path("f.nnlab"));
  const MappedDataset b(std::move(a));  // moves keep the mapping
  expect_same_gather(d, b, idx);
  // No temporary files left behind.
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(Readers, BinaryRoundTripUint8AndRegression) {
  const InMemoryDataset d = random_dataset(3000, {784}, 24, true, 2);  // more than one write chunk
  write_binary_dataset(path("u.nnlab"), d, BinaryDtype::U8);
  const MappedDataset m(path("u.nnlab"));
  EXPECT_EQ(m.dtype(), BinaryDtype::U8);
  // Header: 41 bytes, then 24 names ("class 0".."class 23") of 4 + 7 or 4 + 8 bytes, padded to 64.
  const uintmax_t header = (41 + 24 * 4 + 10 * 7 + 14 * 8 + 63) / 64 * 64;
  EXPECT_EQ(fs::file_size(path("u.nnlab")), header + 3000u * 784u + 3000u * 4u);
  std::vector<int64_t> idx(3000);
  std::iota(idx.rbegin(), idx.rend(), 0);
  expect_same_gather(d, m, idx);

  // Regression targets of width 3, float32.
  Tensor x({10, 4}), y({10, 3});
  for (int64_t i = 0; i < x.size(); ++i) x[i] = float(i) * 0.5f - 7;
  for (int64_t i = 0; i < y.size(); ++i) y[i] = -float(i);
  const InMemoryDataset r(x, y);
  write_binary_dataset(path("r.nnlab"), r);
  const MappedDataset mr(path("r.nnlab"));
  EXPECT_EQ(mr.num_classes, 0);
  EXPECT_EQ(mr.target_width(), 3);
  const std::vector<int64_t> some{9, 1};
  expect_same_gather(r, mr, some);

  // A uint8 file holds [0, 1] only.
  std::string m2 = error_of([&] { write_binary_dataset(path("bad.nnlab"), r, BinaryDtype::U8); });
  EXPECT_CONTAINS(m2, path("bad.nnlab"));
  EXPECT_FALSE(fs::exists(path("bad.nnlab")));
}

TEST_F(Readers, BinaryWriterStreamsChunks) {
  {
    BinaryDatasetWriter w(path("s.nnlab"), {2, 2}, 1, 3, BinaryDtype::U8, {"a", "b", "c"});
    for (int chunk = 0; chunk < 5; ++chunk) {
      std::vector<uint8_t> px(4 * 100);
      std::vector<float> y(100);
      for (size_t i = 0; i < px.size(); ++i) px[i] = uint8_t(chunk * 50 + i % 50);
      for (size_t i = 0; i < y.size(); ++i) y[i] = float((chunk + i) % 3);
      w.append_pixels(px, y);
    }
    EXPECT_EQ(w.count(), 500);
    EXPECT_FALSE(fs::exists(path("s.nnlab")));  // appears only when finished
    const std::vector<float> bad_y{3};
    const std::vector<uint8_t> px(4);
    EXPECT_CONTAINS(error_of([&] { w.append_pixels(px, bad_y); }), "not a class");
    w.finish();
  }
  const MappedDataset m(path("s.nnlab"));
  EXPECT_EQ(m.size(), 500);
  EXPECT_EQ(m.class_names, (std::vector<std::string>{"a", "b", "c"}));
  Tensor x, y;
  const std::vector<int64_t> idx{0, 499, 250};
  m.gather(idx, x, y);
  EXPECT_EQ(x.shape(), (Shape{3, 2, 2}));
  EXPECT_EQ(x[0], 0.0f);
  EXPECT_EQ(x.at(1, 3), float(4 * 50 + 399 % 50) / 255.0f);
  EXPECT_EQ(y[1], float((4 + 99) % 3));

  {  // An unfinished writer leaves nothing behind.
    BinaryDatasetWriter w(path("gone.nnlab"), {1}, 1, 0, BinaryDtype::F32);
    const std::vector<float> v{1.0f};
    w.append(v, v);
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir_)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(Readers, MappedDatasetRefusesBadFiles) {
  const InMemoryDataset d = random_dataset(50, {7}, 4, false, 3);
  write_binary_dataset(path("ok.nnlab"), d);
  const std::string good = read_bytes(path("ok.nnlab"));

  write_file(path("cut.nnlab"), good.substr(0, good.size() - 5));
  std::string m = error_of([&] { MappedDataset x(path("cut.nnlab")); });
  EXPECT_CONTAINS(m, path("cut.nnlab"));
  EXPECT_CONTAINS(m, "truncated");
  EXPECT_CONTAINS(m, std::to_string(good.size()) + " bytes");

  write_file(path("long.nnlab"), good + "x");
  EXPECT_CONTAINS(error_of([&] { MappedDataset x(path("long.nnlab")); }), "trailing");

  write_file(path("magic.nnlab"), "NNLABDS2" + good.substr(8));
  EXPECT_CONTAINS(error_of([&] { MappedDataset x(path("magic.nnlab")); }), "not an nnlab dataset");
  write_file(path("empty.nnlab"), "");
  EXPECT_CONTAINS(error_of([&] { MappedDataset x(path("empty.nnlab")); }), path("empty.nnlab"));
  write_file(path("head.nnlab"), good.substr(0, 20));
  EXPECT_CONTAINS(error_of([&] { MappedDataset x(path("head.nnlab")); }), "truncated header");

  // A header claiming 2^60 samples.
  std::string huge = good;
  const uint64_t n = uint64_t{1} << 60;
  std::memcpy(huge.data() + 8, &n, 8);
  write_file(path("huge.nnlab"), huge);
  EXPECT_CONTAINS(error_of([&] { MappedDataset x(path("huge.nnlab")); }), "truncated");

  EXPECT_CONTAINS(error_of([&] { MappedDataset x(path("none.nnlab")); }), path("none.nnlab"));
}

// --- real data ---------------------------------------------------------------------------------

TEST(RealData, FashionMnistFromDebianPackage) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"))
    GTEST_SKIP() << "Debian's dataset-fashion-mnist is not installed";
  const DatasetInfo info = find_dataset("fashion-mnist");
  ASSERT_TRUE(info.present);
  const auto start = std::chrono::steady_clock::now();
  const auto [train, test] = load_builtin("fashion-mnist");
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "fashion-mnist loaded from " << info.found_in << " in " << s << " s\n";
  EXPECT_EQ(train.x().shape(), (Shape{60000, 784}));
  EXPECT_EQ(test.x().shape(), (Shape{10000, 784}));
  EXPECT_EQ(train.num_classes, 10);
  EXPECT_EQ(train.class_names[9], "Ankle boot");
  float lo = 1, hi = 0;
  for (float v : train.x().span()) lo = std::min(lo, v), hi = std::max(hi, v);
  EXPECT_EQ(lo, 0.0f);
  EXPECT_EQ(hi, 1.0f);
  std::vector<int> counts(10, 0);
  for (float c : train.y().span()) ++counts[size_t(c)];
  for (int c = 0; c < 10; ++c) EXPECT_EQ(counts[size_t(c)], 6000) << c;
#ifdef NDEBUG
  EXPECT_LT(s, 10.0);  // about 0.3 s on one core in Release; loose so a busy machine does not fail it
#endif
}
