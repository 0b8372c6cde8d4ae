// The safetensors file layer: byte layout checked directly, round trips, atomic writes, and every
// kind of damaged file refused with the path in the message. (Model save/load: test_model_io.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/safetensors.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using nnlab::SafetensorsFile;
using nnlab::Tensor;

using nnlab::testing::error_of;

namespace {

class Safetensors : public nnlab::testing::TempDirTest {
 protected:
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string u64_le(uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return s;
}

std::string f32_le(std::initializer_list<float> values) {
  std::string s;
  for (float f : values) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    for (int i = 0; i < 4; ++i) s.push_back(static_cast<char>((u >> (8 * i)) & 0xFF));
  }
  return s;
}

// A file from a header (any text) and data bytes; header_len overrides the length field.
void write_raw(const std::string& path, const std::string& header, const std::string& data,
               int64_t header_len = -1) {
  std::ofstream out(path, std::ios::binary);
  out << u64_le(header_len < 0 ? header.size() : static_cast<uint64_t>(header_len)) << header << data;
}

SafetensorsFile sample() {
  SafetensorsFile f;
  f.metadata = {{"epochs", "10"}, {"note", "a \"quoted\" value"}};
  f.tensors.emplace("dense_2.kernel", Tensor({2, 3}, {1, 2, 3, 4, 5, 6}));
  f.tensors.emplace("dense_1.bias", Tensor({4}, {-0.5f, 0.25f, 1e-30f, 3.4e38f}));
  f.tensors.emplace("a_scalar", Tensor(nnlab::Shape{}, std::vector<float>{42.0f}));
  f.tensors.emplace("empty", Tensor({0, 5}));
  return f;
}

}  // namespace

TEST_F(Safetensors, RoundTrip) {
  const SafetensorsFile f = sample();
  nnlab::write_safetensors(path("m.safetensors"), f);
  const SafetensorsFile g = nnlab::read_safetensors(path("m.safetensors"));
  EXPECT_EQ(g.metadata, f.metadata);
  ASSERT_EQ(g.tensors.size(), f.tensors.size());
  for (const auto& [name, t] : f.tensors) {
    ASSERT_TRUE(g.tensors.count(name)) << name;
    const Tensor& u = g.tensors.at(name);
    EXPECT_EQ(u.shape(), t.shape()) << name;
    EXPECT_EQ(std::vector<float>(u.span().begin(), u.span().end()),
              std::vector<float>(t.span().begin(), t.span().end()))
        << name;
  }
}

TEST_F(Safetensors, ByteLayout) {
  nnlab::write_safetensors(path("m.safetensors"), sample());
  const std::string bytes = nnlab::read_file(path("m.safetensors"));
  ASSERT_GE(bytes.size(), 8u);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[static_cast<size_t>(i)]);
  EXPECT_EQ(n % 8, 0u) << "the data must start 8-aligned";
  ASSERT_LE(8 + n, bytes.size());
  const std::string header_text = bytes.substr(8, n);
  EXPECT_EQ(header_text.front(), '{');
  EXPECT_EQ(header_text.find_last_not_of(' '), header_text.rfind('}')) << "padding is spaces only";
  const json header = json::parse(header_text);

  EXPECT_EQ(header["__metadata__"], json({{"epochs", "10"}, {"note", "a \"quoted\" value"}}));
  // Tensors are laid out in sorted name order, back to back from offset 0.
  const std::vector<std::pair<std::string, json>> expect = {
      {"a_scalar", {{"dtype", "F32"}, {"shape", json::array()}, {"data_offsets", {0, 4}}}},
      {"dense_1.bias", {{"dtype", "F32"}, {"shape", {4}}, {"data_offsets", {4, 20}}}},
      {"dense_2.kernel", {{"dtype", "F32"}, {"shape", {2, 3}}, {"data_offsets", {20, 44}}}},
      {"empty", {{"dtype", "F32"}, {"shape", {0, 5}}, {"data_offsets", {44, 44}}}},
  };
  EXPECT_EQ(header.size(), expect.size() + 1);
  for (const auto& [name, entry] : expect) EXPECT_EQ(header[name], entry) << name;

  EXPECT_EQ(bytes.size(), 8 + n + 44);
  const std::string data = bytes.substr(8 + n);
  EXPECT_EQ(data, f32_le({42.0f, -0.5f, 0.25f, 1e-30f, 3.4e38f, 1, 2, 3, 4, 5, 6}));
}

TEST_F(Safetensors, NoMetadataWritesNoMetadataEntry) {
  SafetensorsFile f;
  f.tensors.emplace("w", Tensor({1}, {7.0f}));
  nnlab::write_safetensors(path("w.safetensors"), f);
  const std::string bytes = nnlab::read_file(path("w.safetensors"));
  const json header = json::parse(bytes.substr(8, bytes.size() - 8 - 4));
  EXPECT_FALSE(header.contains("__metadata__"));
  EXPECT_TRUE(nnlab::read_safetensors(path("w.safetensors")).metadata.empty());
}

TEST_F(Safetensors, ReadsAHandWrittenFile) {
  // As another writer might lay it out: tensors not in name order, unpadded header.
  const std::string header =
      R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]},"__metadata__":{"k":"v"}})";
  write_raw(path("h.safetensors"), header, f32_le({1.0f, 2.0f, 3.0f}));
  const SafetensorsFile f = nnlab::read_safetensors(path("h.safetensors"));
  EXPECT_EQ(f.metadata.at("k"), "v");
  EXPECT_EQ(f.tensors.at("b")[0], 1.0f);
  EXPECT_EQ(f.tensors.at("a")[0], 2.0f);
  EXPECT_EQ(f.tensors.at("a")[1], 3.0f);
}

TEST_F(Safetensors, DamagedFilesAreRefusedNamingThePath) {
  const std::string ok_entry = R"("w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})";
  const std::string data8 = f32_le({1.0f, 2.0f});
  struct Case {
    std::string label, header, data;
    int64_t header_len;
    std::string expect;  // a fragment of the message
  };
  const std::vector<Case> cases = {
      {"absurd header length", "{}", "", int64_t{1} << 40, "absurd"},
      {"header longer than the file", "{" + ok_entry + "}", data8, 1000, "header length 1000"},
      {"garbage header", "this is not json", "", -1, "not valid JSON"},
      {"header not an object", "[1, 2, 3]", "", -1, "not a JSON object"},
      {"wrong dtype", R"({"w":{"dtype":"F16","shape":[4],"data_offsets":[0,8]}})", data8, -1, "\"F16\""},
      {"missing dtype", R"({"w":{"shape":[2],"data_offsets":[0,8]}})", data8, -1, "no dtype"},
      {"negative dimension", R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", data8, -1, "not a count"},
      {"offsets past the data", R"({"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", data8, -1,
       "outside the 8 bytes"},
      {"offsets reversed", R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", data8, -1, "outside"},
      {"offsets not matching shape", R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", data8, -1,
       "span 8 bytes"},
      {"huge shape", R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", data8, -1,
       "more bytes than the file holds"},
      {"overlapping tensors",
       R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       data8, -1, "overlaps"},
      {"gap between tensors",
       R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
       data8 + f32_le({3.0f}), -1, "starts at byte 8"},
      {"trailing bytes", "{" + ok_entry + "}", data8 + "xxxx", -1, "cover 8 bytes of data but the file holds 12"},
      {"metadata not strings", R"({"__metadata__":{"epochs":10}})", "", -1, "'epochs' is not a string"},
      {"no data_offsets", R"({"w":{"dtype":"F32","shape":[2]}})", data8, -1, "no data_offsets"},
  };
  for (const auto& c : cases) {
    const std::string p = path("bad.safetensors");
    write_raw(p, c.header, c.data, c.header_len);
    const std::string msg = error_of([&] { nnlab::read_safetensors(p); });
    EXPECT_NE(msg.find(p), std::string::npos) << c.label << ": " << msg;
    EXPECT_NE(msg.find(c.expect), std::string::npos) << c.label << ": " << msg;
  }
}

TEST_F(Safetensors, TruncatedFilesAreRefused) {
  nnlab::write_safetensors(path("m.safetensors"), sample());
  const std::string bytes = nnlab::read_file(path("m.safetensors"));
  // Every proper prefix: inside the length field, inside the header, inside the data.
  for (size_t len : {size_t{0}, size_t{5}, size_t{8}, size_t{30}, bytes.size() - 4, bytes.size() - 1}) {
    const std::string p = path("cut.safetensors");
    {
      std::ofstream out(p, std::ios::binary);
      out << bytes.substr(0, len);
    }
    const std::string msg = error_of([&] { nnlab::read_safetensors(p); });
    EXPECT_NE(msg.find(p), std::string::npos) << len << ": " << msg;
  }
  const std::string short_msg = error_of([&] { nnlab::read_safetensors(path("cut.safetensors")); });
  EXPECT_NE(short_msg.find("outside"), std::string::npos) << short_msg;
}

TEST_F(Safetensors, MissingFilesAndDirectories) {
  const std::string missing = path("nope.safetensors");
  EXPECT_NE(error_of([&] { nnlab::read_safetensors(missing); }).find(missing + ": no such file"), std::string::npos);
  EXPECT_NE(error_of([&] { nnlab::read_file(missing); }).find(missing), std::string::npos);
  EXPECT_NE(error_of([&] { nnlab::read_safetensors(dir_.string()); }).find("not a regular file"), std::string::npos);
  EXPECT_NE(error_of([&] { nnlab::read_file(dir_.string()); }).find("directory"), std::string::npos);
}

TEST_F(Safetensors, WriteRefusesBadInput) {
  SafetensorsFile f;
  f.tensors.emplace("__metadata__", Tensor({1}, {1.0f}));
  EXPECT_NE(error_of([&] { nnlab::write_safetensors(path("x"), f); }).find("'__metadata__'"), std::string::npos);
  SafetensorsFile g;
  g.tensors.emplace("w", Tensor());  // no shape, no values: inconsistent
  EXPECT_NE(error_of([&] { nnlab::write_safetensors(path("x"), g); }).find("'w'"), std::string::npos);
  const std::string nowhere = path("no/such/dir/m.safetensors");
  EXPECT_NE(error_of([&] { nnlab::write_safetensors(nowhere, sample()); }).find(nowhere), std::string::npos);
  EXPECT_EQ(listing(), std::vector<std::string>{});
}

TEST_F(Safetensors, AtomicWriteReplacesAndLeavesNoTemporary) {
  const std::string p = path("f.bin");
  nnlab::write_file_atomic(p, "first version, longer");
  EXPECT_EQ(nnlab::read_file(p), "first version, longer");
  nnlab::write_file_atomic(p, "second");
  EXPECT_EQ(nnlab::read_file(p), "second");
  nnlab::write_file_atomic(p, std::string("\0\1\2", 3));
  EXPECT_EQ(nnlab::read_file(p), std::string("\0\1\2", 3));
  EXPECT_EQ(listing(), std::vector<std::string>{"f.bin"});

  // Overwriting a model file keeps nothing of the old one.
  nnlab::write_safetensors(path("m.safetensors"), sample());
  SafetensorsFile small;
  small.tensors.emplace("w", Tensor({1}, {9.0f}));
  nnlab::write_safetensors(path("m.safetensors"), small);
  EXPECT_EQ(nnlab::read_safetensors(path("m.safetensors")).tensors.size(), 1u);
  EXPECT_EQ(listing(), (std::vector<std::string>{"f.bin", "m.safetensors"}));
}

TEST_F(Safetensors, FailedAtomicWriteKeepsTheTargetAndRemovesTheTemporary) {
  // The target is a directory, so the final rename fails after the temporary was written.
  fs::create_directory(path("target"));
  fs::create_directory(path("target/inside"));  // non-empty: rename cannot replace it
  const std::string msg = error_of([&] { nnlab::write_file_atomic(path("target"), "data"); });
  EXPECT_NE(msg.find(path("target")), std::string::npos) << msg;
  EXPECT_EQ(listing(), std::vector<std::string>{"target"});
  EXPECT_TRUE(fs::is_directory(path("target/inside")));
}
