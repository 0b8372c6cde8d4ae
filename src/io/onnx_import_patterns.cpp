// The ONNX importer's multi-node formulas: activations as exporters write them (swish, softsign,
// gelu with Erf or Erfc, hard_sigmoid as relu6), and constant Add / Sub / Mul / Div as an affine map.
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "nnlab/text.hpp"
#include "onnx_importer.hpp"

namespace nnlab::onnx_import_detail {

// The next node (after k more) when it exists, has an output and takes `value` as one of its inputs.
const onnx::NodeProto* Importer::next_using(size_t k, const std::string& value) const {
  if (i_ + k >= nodes_.size()) return nullptr;
  const onnx::NodeProto* n = nodes_[i_ + k];
  if (n->output_size() < 1) return nullptr;
  for (const auto& in : n->input())
    if (in == value) return n;
  return nullptr;
}

// Whether input `input` of n is a constant scalar (one value) close to v.
bool Importer::scalar_is(const onnx::NodeProto& n, int input, float v) const {
  if (input >= n.input_size() || !consts_.count(n.input(input))) return false;
  const onnx::TensorProto& t = *consts_.at(n.input(input));
  if (t.data_type() != onnx::TensorProto::FLOAT || count(t) != 1) return false;
  const float x = floats(n, input).values[0];
  return std::fabs(x - v) <= 1e-6f * std::fabs(v);
}

// Whether n takes `value` and, as its other input, a constant scalar close to v.
bool Importer::operand_is(const onnx::NodeProto& n, const std::string& value, float v) const {
  if (n.input_size() != 2 || (n.input(0) != value && n.input(1) != value)) return false;
  return scalar_is(n, n.input(0) == value ? 1 : 0, v);
}

// gelu as torch.onnx.export writes it: x * (1 / sqrt 2) (or x / sqrt 2) -> Erf -> + 1 -> * x -> * 0.5.
// n (the first Mul or Div) is consumed; the rest follow it.
bool Importer::gelu_erf(const onnx::NodeProto& n, const std::string& out) {
  const bool scaled = n.op_type() == "Mul" ? scalar_is(n, 1, 0.70710678f) : scalar_is(n, 1, 1.41421356f);
  const onnx::NodeProto* erf = next_using(0, out);
  const onnx::NodeProto* add = erf && erf->op_type() == "Erf" ? next_using(1, erf->output(0)) : nullptr;
  const bool add_one = add && add->op_type() == "Add" && add->input_size() == 2 &&
                       scalar_is(*add, add->input(0) == erf->output(0) ? 1 : 0, 1.0f);
  const onnx::NodeProto* m1 = add_one ? next_using(2, add->output(0)) : nullptr;
  const onnx::NodeProto* m2 = m1 && m1->op_type() == "Mul" && other(*m1, add->output(0)) == cur_
                                  ? next_using(3, m1->output(0))
                                  : nullptr;
  const bool half = m2 && m2->op_type() == "Mul" && m2->input_size() == 2 &&
                    scalar_is(*m2, m2->input(0) == m1->output(0) ? 1 : 0, 0.5f);
  if (!(scaled && half)) return false;
  i_ += 4;
  add_activation("gelu", where(n));
  cur_ = m2->output(0);
  return true;
}

// gelu as tf2onnx writes it, 0.5 x erfc(-x / sqrt 2): Mul(x, 0.5), Neg(x), Mul by 1 / sqrt 2, Erfc,
// and the product. n (the first Mul) is consumed; the rest follow it.
bool Importer::gelu_erfc(const onnx::NodeProto& n, const std::string& out) {
  if (n.op_type() != "Mul" || !operand_is(n, cur_, 0.5f)) return false;
  const onnx::NodeProto* neg = next_using(0, cur_);
  if (!neg || neg->op_type() != "Neg") return false;
  const onnx::NodeProto* scaled = next_using(1, neg->output(0));
  if (!scaled || scaled->op_type() != "Mul" || !operand_is(*scaled, neg->output(0), 0.70710678f)) return false;
  const onnx::NodeProto* erfc = next_using(2, scaled->output(0));
  if (!erfc || erfc->op_type() != "Erfc") return false;
  const onnx::NodeProto* product = next_using(3, erfc->output(0));
  if (!product || product->op_type() != "Mul" || other(*product, erfc->output(0)) != out) return false;
  i_ += 4;
  add_activation("gelu", where(n));
  cur_ = product->output(0);
  return true;
}

// hard_sigmoid as Keras 3 writes it on tensorflow, relu6(x + 3) / 6: Add 3, Clip(0, 6), then Mul by
// 1/6 or Div by 6 (nnlab's clip(x / 6 + 0.5, 0, 1)).
bool Importer::hard_sigmoid_relu6(const onnx::NodeProto& n) {
  const onnx::NodeProto* scale = relu6_sixth(n, cur_, 0);
  if (!scale) return false;
  i_ += 2;
  add_activation("hard_sigmoid", where(n));
  cur_ = scale->output(0);
  return true;
}

// The last node of that pattern when `add` (of `value`) starts it and the Clip is `at` nodes after
// i_; else null.
const onnx::NodeProto* Importer::relu6_sixth(const onnx::NodeProto& add, const std::string& value, size_t at) const {
  if (add.op_type() != "Add" || add.output_size() != 1 || !operand_is(add, value, 3.0f)) return nullptr;
  const std::string& out = add.output(0);
  const onnx::NodeProto* clip = next_using(at, out);
  if (!clip || clip->op_type() != "Clip" || clip->input(0) != out) return nullptr;
  const bool bounds = clip->input_size() == 3 ? scalar_is(*clip, 1, 0.0f) && scalar_is(*clip, 2, 6.0f)
                                              : attr_f(*clip, "min", -1.0f) == 0.0f && attr_f(*clip, "max", -1.0f) == 6.0f;
  const onnx::NodeProto* scale = bounds ? next_using(at + 1, clip->output(0)) : nullptr;
  const bool sixth = scale && ((scale->op_type() == "Mul" && operand_is(*scale, clip->output(0), 1.0f / 6.0f)) ||
                               (scale->op_type() == "Div" && scale->input(0) == clip->output(0) && scalar_is(*scale, 1, 6.0f)));
  return sixth ? scale : nullptr;
}

void Importer::add_activation(const std::string& spec, const std::string& node) {
  // Into the dense or conv2d layer before it while that has none (conv2d's runs per pixel: the
  // element-wise ones, or softmax when the Softmax is over the channels, which activation() checks).
  const bool fuses = !layers_.empty() && (layers_.back().config["type"] == "dense" || layers_.back().config["type"] == "conv2d");
  if (fuses && layers_.back().config["activation"] == "linear") {
    layers_.back().config["activation"] = spec;
    return;
  }
  layers_.push_back({{{"type", "activation"}, {"activation", spec}}, {}, node});
}

// Add, Sub, Mul and Div of the chain's value and a constant (one value, or one per feature), and
// those right after it: y = x * scale + shift per feature. Folded into the dense layer before it
// while that has no activation yet (a bias, Keras's batch normalisation after a dense layer); else
// a batch_norm layer in inference form (mean 0, variance 1 - epsilon, gamma scale, beta shift).
void Importer::affine(const onnx::NodeProto& first) {
  // Per feature of flat values, or per channel of NHWC images (Keras's bias and batch normalisation
  // after a convolution, as its torch backend exports them).
  const bool images = rank_ == 4 && !nchw_;
  check((rank_ == 2 || images) && features_ >= 1, where(first) + ": nnlab reads " + first.op_type() +
                                                      " by a constant only on flat values (N, features) or per channel "
                                                      "of NHWC images");
  const int64_t features = images ? dims_[2] : features_;
  const auto f = static_cast<size_t>(features);
  // One value for all features until a constant has one per feature (whose size in the file then
  // bounds f: an input shape alone may claim any number of features).
  std::vector<double> scale{1.0}, shift{0.0};
  auto widen = [&] {
    if (scale.size() == f) return;
    scale.assign(f, scale[0]);
    shift.assign(f, shift[0]);
  };
  const size_t start = --i_;  // first is nodes_[i_] again
  while (i_ < nodes_.size()) {
    const onnx::NodeProto& n = *nodes_[i_];
    const std::string& op = n.op_type();
    const bool arith = op == "Add" || op == "Sub" || op == "Mul" || op == "Div";
    if (!arith || n.input_size() != 2 || n.output_size() != 1 || (n.input(0) != cur_ && n.input(1) != cur_)) break;
    const std::string c = other(n, cur_);
    const bool commutes = op == "Add" || op == "Mul";
    check(!c.empty() && consts_.count(c) && (commutes || n.input(0) == cur_),
          where(n) + ": nnlab reads " + op + " only with a constant " + (commutes ? "" : "after the value ") +
              "(a bias or a per-feature scale), or as part of gelu, swish or softsign");
    const Weights w = floats(n, n.input(0) == cur_ ? 1 : 0);
    const size_t per = w.values.size();
    bool leading_ones = w.dims.size() <= rank_;  // (f), (1, f), (1, 1, 1, f) for images
    for (size_t d = 0; d + 1 < w.dims.size(); ++d) leading_ones = leading_ones && w.dims[d] == 1;
    check((per == 1 || per == f) && (w.dims.empty() || w.dims.back() == static_cast<int64_t>(per)) && leading_ones,
          where(n) + ": the constant has shape " + dims_str(w.dims) + ", not one value or (" + std::to_string(f) + ")" +
              (images ? " per channel" : ""));
    if (per == f) widen();
    for (size_t j = 0; j < scale.size(); ++j) {
      const double v = w.values[per == 1 ? 0 : j];
      check(op != "Div" || v != 0.0, where(n) + ": a division by zero");
      if (op == "Add") shift[j] += v;
      else if (op == "Sub") shift[j] -= v;
      else if (op == "Mul") scale[j] *= v, shift[j] *= v;
      else scale[j] /= v, shift[j] /= v;
    }
    cur_ = n.output(0);
    ++i_;
  }
  check(i_ > start, where(first) + ": nnlab reads " + first.op_type() +
                        " only of the value and a constant (two inputs, one output), or as part of gelu, swish, "
                        "softsign or hard_sigmoid");
  auto as_floats = [&](const std::vector<double>& v) {
    return Weights{{features}, std::vector<float>(v.begin(), v.end())};
  };
  LayerOut* d = layers_.empty() ? nullptr : &layers_.back();
  const bool folds = d && (d->config["type"] == "dense" || (images && d->config["type"] == "conv2d"));
  if (folds && d->config["activation"] == "linear") {
    widen();  // f is the layer's units or filters: its kernel in the file holds f columns
    Weights& k = d->params.at("kernel");  // (inputs, units) or (kh, kw, in, filters)
    for (size_t r = 0; r < k.values.size() / f; ++r)
      for (size_t j = 0; j < f; ++j) k.values[r * f + j] = static_cast<float>(k.values[r * f + j] * scale[j]);
    if (auto b = d->params.find("bias"); b != d->params.end())
      for (size_t j = 0; j < f; ++j) shift[j] += b->second.values[j] * scale[j];
    d->params["bias"] = as_floats(shift);
    d->config["use_bias"] = true;
    return;
  }
  check(scale.size() == f || f <= (size_t{1} << 24),
        where(first) + ": a " + first.op_type() + " by one constant over " + std::to_string(f) +
            " features; nnlab reads it as a batch_norm only up to 16,777,216 features");
  widen();
  constexpr float epsilon = 1e-3f;
  layers_.push_back({{{"type", "batch_norm"}, {"epsilon", epsilon}},
                     {{"gamma", as_floats(scale)}, {"beta", as_floats(shift)},
                      {"moving_mean", Weights{{features}, std::vector<float>(f, 0.0f)}},
                      {"moving_variance", Weights{{features}, std::vector<float>(f, 1.0f - epsilon)}}},
                     where(first)});
}

// The element-wise activations, alone or as the formulas exporters write for them; constant
// arithmetic (affine()).
void Importer::activation(const onnx::NodeProto& n, const std::string& out) {
  const std::string& op = n.op_type();
  // Element-wise activations.
  std::string spec;
  if (op == "Relu") spec = "relu";
  else if (op == "Gelu") {  // opset 20
    const auto* a = attr(n, "approximate");
    check(!a || a->s() == "none", where(n) + ": approximate='" + (a ? a->s() : std::string()) +
                                      "'; nnlab's gelu is the exact one (erf)");
    spec = "gelu";
  }
  else if (op == "Tanh") spec = "tanh";
  else if (op == "Softplus") spec = "softplus";
  else if (op == "Softsign") spec = "softsign";
  else if (op == "LeakyRelu") {
    const float a = attr_f(n, "alpha", 0.01f);
    check(a >= 0.0f, where(n) + ": alpha " + number_str(a) + " is negative; nnlab's leaky_relu needs alpha >= 0");
    spec = "leaky_relu(" + number_str(a) + ")";
  } else if (op == "Elu") {
    spec = "elu(" + number_str(attr_f(n, "alpha", 1.0f)) + ")";
  } else if (op == "Selu") {
    const float a = attr_f(n, "alpha", 1.67326319217681884765625f), g = attr_f(n, "gamma", 1.05070102214813232421875f);
    check(std::fabs(a - 1.6732632f) < 1e-5f && std::fabs(g - 1.0507010f) < 1e-5f,
          where(n) + ": alpha " + number_str(a) + " and gamma " + number_str(g) +
              " differ from selu's constants (1.6732632, 1.0507010), which nnlab's selu fixes");
    spec = "selu";
  } else if (op == "HardSigmoid") {
    const float a = attr_f(n, "alpha", 0.2f), b = attr_f(n, "beta", 0.5f);
    check(std::fabs(a - 1.0f / 6.0f) < 1e-6f && std::fabs(b - 0.5f) < 1e-6f,
          where(n) + ": alpha " + number_str(a) + ", beta " + number_str(b) +
              "; nnlab's hard_sigmoid is clip(x / 6 + 0.5, 0, 1) (alpha 1/6, beta 0.5)");
    spec = "hard_sigmoid";
  } else if (op == "Softmax") {
    const int64_t axis = attr_i(n, "axis", opset_ >= 13 ? -1 : 1);
    // Over NCHW's channels (opset 13's Softmax reads one axis): conv2d's softmax, per pixel.
    const bool channels = rank_ == 4 && nchw_ && opset_ >= 13 && (axis == 1 || axis == -3);
    const bool conv_before = !layers_.empty() && layers_.back().config["type"] == "conv2d" &&
                             layers_.back().config["activation"] == "linear";
    if (channels && conv_before) {
      add_activation("softmax", where(n));
      cur_ = out;
      return;
    }
    check(rank_ == 2 && (axis == 1 || axis == -1),
          where(n) + ": axis " + std::to_string(axis) + " of a rank-" + std::to_string(rank_) +
              " value; nnlab's softmax runs over each sample's features (N, features)");
    spec = "softmax";
  } else if (op == "Sigmoid") {
    // x * Sigmoid(x) is swish.
    const onnx::NodeProto* mul = next_using(0, out);
    if (mul && mul->op_type() == "Mul" && other(*mul, out) == cur_) {
      ++i_;
      add_activation("swish", where(n));
      cur_ = mul->output(0);
      return;
    }
    spec = "sigmoid";
  } else if (op == "Abs") {
    // softsign as PyTorch writes it: x / (1 + |x|)
    const onnx::NodeProto* add = next_using(0, out);
    const bool add_one = add && add->op_type() == "Add" && add->input_size() == 2 &&
                         scalar_is(*add, add->input(0) == out ? 1 : 0, 1.0f);
    const onnx::NodeProto* div = add_one ? next_using(1, add->output(0)) : nullptr;
    check(div && div->op_type() == "Div" && div->input_size() == 2 && div->input(0) == cur_ &&
              div->input(1) == add->output(0),
          where(n) + ": nnlab reads Abs only as part of softsign (x / (1 + |x|))");
    i_ += 2;
    add_activation("softsign", where(n));
    cur_ = div->output(0);
    return;
  } else if (op == "Mul" || op == "Div") {
    if (gelu_erfc(n, out) || gelu_erf(n, out)) return;
    return affine(n);
  } else if (op == "Add" || op == "Sub") {
    if (hard_sigmoid_relu6(n)) return;
    return affine(n);
  } else {
    throw Error(where(n) + " is not an operator nnlab can represent (it reads Gemm, MatMul, Add, Relu, Sigmoid, "
                           "Tanh, LeakyRelu, Elu, Selu, Gelu, Softplus, Softsign, HardSigmoid, Softmax, Flatten, Reshape, "
                           "BatchNormalization, Conv, MaxPool, AveragePool, GlobalAveragePool, Transpose, Dropout, "
                           "Identity, Cast, Add, Sub, Mul and Div by constants, "
                           "a Reshape's shape arithmetic, and the formulas of gelu, swish, softsign and hard_sigmoid)");
  }
  add_activation(spec, where(n));
  cur_ = out;
}

}  // namespace nnlab::onnx_import_detail
