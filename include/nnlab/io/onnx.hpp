// Models in ONNX, the format ONNX Runtime, PyTorch and Keras's exporters share (opset 17, ONNX 1.12's
// protobuf classes from Debian's libonnx-dev).
//
// Export writes one graph: input "input" (N, features...) with N any batch size, output "output"
// (N, outputs); dense -> Gemm, maxout -> Gemm + Reshape + ReduceMax, batch_norm -> BatchNormalization
// (inference form), flatten -> Flatten, dropout -> nothing (identity at inference), each activation
// -> the ONNX operators computing nnlab's formula (gelu through Erf, swish as x * Sigmoid(x)). Images
// stay NHWC at the graph's input and output, as nnlab's: one Transpose to NCHW before the first of
// conv2d -> Conv, max_pool2d / average_pool2d -> MaxPool / AveragePool, global_average_pool2d ->
// GlobalAveragePool + Flatten and batch_norm over channels, one back before a flatten, a reshape
// (-> Reshape) or the output; "same" padding as the explicit pads nnlab uses (TensorFlow's). The
// metadata carries nnlab.version and whatever the caller adds (nnlab.experiment_name,
// nnlab.class_names as a JSON list, nnlab.experiment).
//
// Import reads such a chain back, as nnlab, PyTorch's exporters (TorchScript and torch.export) and
// Keras 3's model.export(format="onnx") (tf2onnx or torch.onnx) write an MLP: Gemm or MatMul + Add,
// the activations above (also as Gelu, gelu's Erfc formula, softsign as x / (1 + |x|), hard_sigmoid
// as relu6(x + 3) / 6), Softmax, Flatten or a Reshape to (-1, features) or a computed (batch, -1),
// BatchNormalization or constant Sub / Mul / Add (folded into the dense layer before it, else a
// batch_norm), Dropout / Identity / Cast; and nnlab's own CNN exports (the Transposes, Conv, MaxPool,
// AveragePool, GlobalAveragePool, BatchNormalization of NCHW images, Reshape to (0, target...)), Keras
// 3's (constant Add / Sub / Mul per channel of NHWC images: a conv2d's bias or a batch_norm), or a
// PyTorch CNN whose input is one-channel images (N, 1, H, W) (the bytes of nnlab's (N, H, W, 1)) and
// whose Flatten of NCHW values feeds a Gemm (read as nnlab's flatten, the Gemm's rows reordered).
// Anything else is refused with one line naming the node and its operator (or the attribute, such as
// pads that are neither none nor TensorFlow's "same").
#pragma once
#include <map>
#include <string>
#include <vector>

#include "nnlab/model.hpp"

namespace nnlab {

inline constexpr int kOnnxOpset = 17;

// The model as a serialized ONNX ModelProto. Throws nnlab::Error when the model is not built.
std::string onnx_export(Model& model, const std::map<std::string, std::string>& metadata = {});
// An ensemble as one graph: every member reads "input"; "output" is the combination (vote: the vote
// shares, average: the mean probabilities, stacking: the combiner's outputs on the members' outputs
// side by side) and "class" (N, int64) its decision, as Ensemble::predict's. combination is "vote",
// "average" or "stacking" (which needs the combiner).
std::string onnx_export_ensemble(const std::vector<Model*>& members, const std::string& combination, Model* combiner,
                                 const std::map<std::string, std::string>& metadata = {});
// The same written atomically to `path` (io/files.hpp).
void save_onnx(Model& model, const std::string& path, const std::map<std::string, std::string>& metadata = {});

// A model from a serialized ONNX ModelProto; `source` names it in errors (the file). The file's
// metadata_props go to *metadata when given.
Model onnx_import(const std::string& bytes, const std::string& source,
                  std::map<std::string, std::string>* metadata = nullptr);
Model load_onnx(const std::string& path, std::map<std::string, std::string>* metadata = nullptr);

// The files: a run folder (its model.safetensors) or a model file -> an ONNX file, with the model's
// metadata (its experiment), the experiment's name and the class names of the run folder's run.json.
void export_onnx_file(const std::string& run_or_model, const std::string& out);
// An ONNX file -> `out_folder`/model.safetensors (the folder made if missing), with the ONNX file's
// metadata and `extra` (e.g. nnlab.experiment, which evaluate reads). Returns the model.
Model import_onnx_file(const std::string& onnx_path, const std::string& out_folder,
                       const std::map<std::string, std::string>& extra = {});

}  // namespace nnlab
