// The safetensors layout, written and read defensively:
//   [8 bytes]  N, the header length, little-endian u64
//   [N bytes]  JSON header: {"__metadata__": {str: str}, "<name>": {"dtype": "F32", "shape": [...],
//              "data_offsets": [begin, end]}, ...}, padded with spaces so the data starts 8-aligned
//   [rest]     the tensors' float32 little-endian bytes, back to back in sorted name order; offsets
//              are relative to the start of this block
// Reading checks everything it can before allocating or trusting an offset, and every failure is an
// nnlab::Error that starts with the path.
#include "nnlab/io/safetensors.hpp"


#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <vector>

#include "nnlab/config_reader.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/error.hpp"

namespace nnlab {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000;  // as the reference implementation: refuse larger
constexpr const char* kModelKey = "nnlab.model";
constexpr const char* kFormatKey = "nnlab.format";
constexpr const char* kFormatVersion = "1";

[[noreturn]] void fail(const std::string& path, const std::string& problem) { throw Error(path + ": " + problem); }

std::string system_error() { return std::strerror(errno); }

// A tensor to write: the name, its shape and its values (shape_size(shape) floats).
struct TensorView {
  const std::string* name;
  const Shape* shape;
  std::span<const float> values;
};

void put_u64_le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t get_u64_le(const unsigned char* b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
  return v;
}

// float32 values <-> little-endian bytes, whatever the host's byte order.
void append_f32_le(std::string& out, std::span<const float> values) {
  const size_t at = out.size();
  out.resize(at + values.size() * sizeof(float));
  char* dst = out.data() + at;
  if constexpr (std::endian::native == std::endian::little) {
    if (!values.empty()) std::memcpy(dst, values.data(), values.size() * sizeof(float));
  } else {
    for (size_t i = 0; i < values.size(); ++i) {
      const auto u = std::bit_cast<uint32_t>(values[i]);
      for (int b = 0; b < 4; ++b) dst[4 * i + b] = static_cast<char>((u >> (8 * b)) & 0xFF);
    }
  }
}

void f32_from_le(float* values, size_t n) {
  if constexpr (std::endian::native != std::endian::little) {
    for (size_t i = 0; i < n; ++i) {
      unsigned char b[4];
      std::memcpy(b, &values[i], 4);
      const uint32_t u = uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
      values[i] = std::bit_cast<float>(u);
    }
  } else {
    (void)values;
    (void)n;
  }
}

// The whole file as bytes. `tensors` must be sorted by name (they are laid out in this order).
std::string encode(const std::string& path, const std::map<std::string, std::string>& metadata,
                   const std::vector<TensorView>& tensors) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const TensorView& t : tensors) {
    const std::string& name = *t.name;
    if (name.empty() || name == "__metadata__") fail(path, "cannot write a tensor named '" + name + "'");
    if (std::any_of(t.shape->begin(), t.shape->end(), [](int64_t d) { return d < 0; }) ||
        shape_size(*t.shape) != static_cast<int64_t>(t.values.size())) {
      fail(path, "tensor '" + name + "' has shape " + shape_str(*t.shape) + " but " +
                     std::to_string(t.values.size()) + " values");
    }
    const uint64_t bytes = t.values.size() * sizeof(float);
    header[name] = {{"dtype", "F32"}, {"shape", *t.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {  // a name or metadata string that is not valid UTF-8
    fail(path, std::string("cannot encode the header: ") + e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');

  std::string out;
  out.reserve(8 + text.size() + offset);
  put_u64_le(out, text.size());
  out += text;
  for (const TensorView& t : tensors) append_f32_le(out, t.values);
  return out;
}

// One tensor entry of a header, checked against the size of the data block.
struct Entry {
  std::string name;
  Shape shape;
  uint64_t begin = 0, end = 0;
};

Entry parse_entry(const std::string& path, const std::string& name, const json& value, uint64_t data_bytes) {
  const std::string what = "tensor '" + name + "'";
  if (!value.is_object()) fail(path, what + " is not described by a JSON object: " + value.dump());
  const auto dtype = value.find("dtype");
  if (dtype == value.end()) fail(path, what + " has no dtype");
  if (!dtype->is_string() || dtype->get<std::string>() != "F32") {
    fail(path, what + " has dtype " + dtype->dump() + "; only F32 (float32) is supported");
  }

  Entry e{name, {}, 0, 0};
  const auto shape = value.find("shape");
  if (shape == value.end() || !shape->is_array()) fail(path, what + " has no shape array");
  // The element count; `huge` once it exceeds anything a file can hold (a zero dimension still wins).
  uint64_t elements = 1;
  bool zero = false, huge = false;
  for (const json& d : *shape) {
    if (!d.is_number_unsigned() || d.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail(path, what + " has shape " + shape->dump() + " with a dimension that is not a count");
    }
    const uint64_t dim = d.get<uint64_t>();
    e.shape.push_back(static_cast<int64_t>(dim));
    if (dim == 0) zero = true;
    else if (!huge && elements > (UINT64_MAX / sizeof(float)) / dim) huge = true;
    else if (!huge) elements *= dim;
  }
  if (zero) {
    elements = 0;
    huge = false;
  }

  const auto offsets = value.find("data_offsets");
  if (offsets == value.end()) fail(path, what + " has no data_offsets [begin, end]");
  if (!offsets->is_array() || offsets->size() != 2 || !(*offsets)[0].is_number_unsigned() ||
      !(*offsets)[1].is_number_unsigned()) {
    fail(path, what + " has data_offsets " + offsets->dump() +
                   "; they must be [begin, end], two byte offsets (whole numbers of at least 0)");
  }
  e.begin = (*offsets)[0].get<uint64_t>();
  e.end = (*offsets)[1].get<uint64_t>();
  if (e.begin > e.end || e.end > data_bytes) {
    fail(path, what + " has data_offsets " + offsets->dump() + " outside the " + std::to_string(data_bytes) +
                   " bytes of tensor data (truncated or corrupt file?)");
  }
  if (e.end - e.begin != elements * sizeof(float)) {
    fail(path, what + " has shape " + shape_str(e.shape) + " (" +
                   (huge ? std::string("more bytes than the file holds")
                            : std::to_string(elements * sizeof(float)) + " bytes") +
                   ") but data_offsets " + offsets->dump() + " span " + std::to_string(e.end - e.begin) + " bytes");
  }
  return e;
}

}  // namespace

void write_safetensors(const std::string& path, const SafetensorsFile& file) {
  std::vector<TensorView> views;  // std::map iterates in sorted name order
  views.reserve(file.tensors.size());
  for (const auto& [name, t] : file.tensors) views.push_back({&name, &t.shape(), t.span()});
  write_file_atomic(path, encode(path, file.metadata, views));
}

static // The tensors must tile the data block exactly: no overlap, no gap, nothing left over. Sorts them
// by offset, the order of one sequential read.
void sort_and_check_tiling(const std::string& path, std::vector<Entry>& entries, uint64_t data_bytes) {
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  uint64_t covered = 0;
  const std::string* previous = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < covered) {
      fail(path, "tensor '" + e.name + "' overlaps tensor '" + *previous + "' in the data (corrupt header)");
    }
    if (e.begin > covered) {
      fail(path, "tensor '" + e.name + "' starts at byte " + std::to_string(e.begin) + " but the data before it ends at " +
                     std::to_string(covered) + " (corrupt header)");
    }
    covered = e.end;
    previous = &e.name;
  }
  if (covered != data_bytes) {
    fail(path, "the tensors cover " + std::to_string(covered) + " bytes of data but the file holds " +
                   std::to_string(data_bytes) + " (corrupt file?)");
  }
}

SafetensorsFile read_safetensors(const std::string& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(status)) fail(path, "no such file");
  if (!std::filesystem::is_regular_file(status)) fail(path, "not a regular file");
  const uint64_t file_bytes = std::filesystem::file_size(path, ec);
  if (ec) fail(path, "cannot read: " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot read: " + system_error());

  if (file_bytes < 8) {
    fail(path, "only " + std::to_string(file_bytes) + " bytes, too short for a safetensors file (truncated?)");
  }
  unsigned char len_bytes[8];
  if (!in.read(reinterpret_cast<char*>(len_bytes), 8)) fail(path, "cannot read the header length");
  const uint64_t header_bytes = get_u64_le(len_bytes);
  if (header_bytes > kMaxHeaderBytes) {
    fail(path, "header length " + std::to_string(header_bytes) + " is absurd (more than " +
                   std::to_string(kMaxHeaderBytes) + " bytes): not a safetensors file, or corrupt");
  }
  if (header_bytes > file_bytes - 8) {
    fail(path, "header length " + std::to_string(header_bytes) + " is more than the " +
                   std::to_string(file_bytes - 8) + " bytes that follow it (truncated or not a safetensors file)");
  }
  std::string text(header_bytes, '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(header_bytes))) fail(path, "cannot read the header");

  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {
    fail(path, std::string("header is not valid JSON (corrupt or not a safetensors file): ") + e.what());
  }
  if (!header.is_object()) fail(path, "header is not a JSON object");
  try {
    check_json_depth(header, "header");
  } catch (const Error& e) {
    fail(path, e.what());
  }

  const uint64_t data_bytes = file_bytes - 8 - header_bytes;
  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(path, "__metadata__ is not a JSON object");
      for (const auto& [k, v] : value.items()) {
        if (!v.is_string()) fail(path, "__metadata__ entry '" + k + "' is not a string: " + v.dump());
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value, data_bytes));
  }

  sort_and_check_tiling(path, entries, data_bytes);

  // Offsets are contiguous from 0 in this order, so the data is one sequential read.
  for (const Entry& e : entries) {
    Tensor t(e.shape);
    const auto bytes = static_cast<std::streamsize>(e.end - e.begin);
    if (bytes > 0 && !in.read(reinterpret_cast<char*>(t.data()), bytes)) {
      fail(path, "cannot read the data of tensor '" + e.name + "' (file truncated while reading?)");
    }
    f32_from_le(t.data(), static_cast<size_t>(t.size()));
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

void save_model(Model& model, const std::string& path, const std::map<std::string, std::string>& metadata) {
  if (!model.built()) fail(path, "cannot save a model that is not built");
  for (const char* reserved : {kModelKey, kFormatKey}) {
    if (metadata.count(reserved)) fail(path, std::string("metadata key '") + reserved + "' is reserved for nnlab");
  }
  std::vector<NamedTensor> named = model.named_tensors();
  std::sort(named.begin(), named.end(), [](const NamedTensor& a, const NamedTensor& b) { return a.name < b.name; });
  std::vector<TensorView> views;
  views.reserve(named.size());
  for (size_t i = 0; i < named.size(); ++i) {
    if (i > 0 && named[i].name == named[i - 1].name) fail(path, "the model has two tensors named '" + named[i].name + "'");
    views.push_back({&named[i].name, &named[i].shape, named[i].value});
  }
  std::map<std::string, std::string> meta = metadata;
  meta[kModelKey] = model.config().dump();
  meta[kFormatKey] = kFormatVersion;
  write_file_atomic(path, encode(path, meta, views));
}

std::string model_file(const std::string& run_or_model) {
  std::error_code ec;
  if (std::filesystem::is_directory(run_or_model, ec)) return (std::filesystem::path(run_or_model) / "model.safetensors").string();
  return run_or_model;
}

std::vector<std::string> model_class_names(const std::string& model_path, const std::map<std::string, std::string>& metadata) {
  namespace fs = std::filesystem;
  auto names_in = [](const nlohmann::json& list, const std::string& where) {
    check(list.is_array(), where + " must be a list of class names");
    std::vector<std::string> names;
    for (const auto& n : list) {
      check(n.is_string(), where + " must be a list of class names, got " + n.dump());
      names.push_back(n.get<std::string>());
    }
    return names;
  };
  if (auto it = metadata.find("nnlab.class_names"); it != metadata.end()) {
    const std::string where = model_path + ": metadata 'nnlab.class_names'";
    return names_in(parse_json(it->second, where), where);
  }
  const fs::path run_json = fs::path(model_path).parent_path() / "run.json";
  std::error_code ec;
  if (!fs::is_regular_file(run_json, ec)) return {};
  const nlohmann::json run = parse_json(read_file(run_json.string()), run_json.string());
  if (!run.is_object() || !run.contains("class_names")) return {};
  return names_in(run["class_names"], run_json.string() + ": \"class_names\"");
}

Model load_model(const std::string& path, std::map<std::string, std::string>* metadata) {
  SafetensorsFile file = read_safetensors(path);
  const auto arch = file.metadata.find(kModelKey);
  if (arch == file.metadata.end()) {
    fail(path, std::string("not an nnlab model: the header has no \"") + kModelKey + "\" metadata");
  }
  const auto format = file.metadata.find(kFormatKey);
  if (format == file.metadata.end() || format->second != kFormatVersion) {
    fail(path, std::string("unsupported ") + kFormatKey + " '" +
                   (format == file.metadata.end() ? std::string("(missing)") : format->second) +
                   "'; this build reads format " + kFormatVersion);
  }

  // The architecture is checked against the file's tensors before it is allocated: metadata that
  // asks for more values than the file holds is refused without allocating them.
  int64_t file_values = 0;
  for (const auto& [name, t] : file.tensors) file_values += t.size();
  Model model;
  try {
    const json config = json::parse(arch->second);
    check_json_depth(config, std::string("\"") + kModelKey + "\"");
    model = Model::from_config(config, 42, file_values);
  } catch (const json::exception& e) {
    fail(path, std::string("the model architecture in \"") + kModelKey + "\" is invalid: " + e.what());
  } catch (const Error& e) {
    fail(path, std::string("cannot rebuild the model architecture in \"") + kModelKey + "\": " + e.what());
  }

  std::set<std::string> expected;
  for (const NamedTensor& t : model.named_tensors()) {
    expected.insert(t.name);
    const auto found = file.tensors.find(t.name);
    if (found == file.tensors.end()) {
      fail(path, "tensor '" + t.name + "' " + shape_str(t.shape) + " of the model is missing from the file");
    }
    if (found->second.shape() != t.shape) {
      fail(path, "tensor '" + t.name + "' has shape " + shape_str(found->second.shape()) +
                     " in the file but the model expects " + shape_str(t.shape));
    }
    const auto values = found->second.span();
    const auto bad = std::find_if(values.begin(), values.end(), [](float v) { return !std::isfinite(v); });
    if (bad != values.end()) {
      fail(path, "tensor '" + t.name + "' holds " + (std::isnan(*bad) ? "NaN" : "infinity") + " at element " +
                     std::to_string(bad - values.begin()) + "; a model's weights must be finite numbers");
    }
    std::copy(values.begin(), values.end(), t.value.begin());
  }
  for (const auto& [name, t] : file.tensors) {
    if (!expected.count(name)) {
      fail(path, "the file has tensor '" + name + "' " + shape_str(t.shape()) + " that the model does not have");
    }
  }

  if (metadata) {
    metadata->clear();
    for (const auto& [k, v] : file.metadata) {
      if (k != kModelKey && k != kFormatKey) (*metadata)[k] = v;
    }
  }
  return model;
}

}  // namespace nnlab
