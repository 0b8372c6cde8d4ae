// Models on disk in the safetensors layout: 8-byte little-endian header length, a JSON header
// naming each tensor's dtype ("F32"), shape and byte offsets, then the raw little-endian float32
// data. The header's "__metadata__" holds the architecture ("nnlab.model", the model config as a JSON
// string) and any extra string entries (training config). Python's safetensors and numpy read it.
// Writes are atomic (io/files.hpp): a temporary file beside the target, flushed, then renamed over it.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nnlab/model.hpp"

namespace nnlab {

void save_model(Model& model, const std::string& path, const std::map<std::string, std::string>& metadata = {});
// Rebuilds the architecture from the metadata and loads every tensor. A truncated, corrupt or
// mismatched file raises nnlab::Error naming the file and what is wrong.
Model load_model(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);
// The model file a command argument names: a run folder's model.safetensors, or the file itself.
std::string model_file(const std::string& run_or_model);
// The class names a model's outputs stand for: its metadata's "nnlab.class_names" (a JSON list, which
// an ONNX import keeps), else the "class_names" of the run.json beside the file (a run folder's);
// empty when neither says. A corrupt list is an nnlab::Error naming where it is.
std::vector<std::string> model_class_names(const std::string& model_path, const std::map<std::string, std::string>& metadata);

// Low-level: the tensors and metadata of any safetensors file of float32 tensors.
struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::map<std::string, Tensor> tensors;
};
void write_safetensors(const std::string& path, const SafetensorsFile& file);
SafetensorsFile read_safetensors(const std::string& path);

}  // namespace nnlab
