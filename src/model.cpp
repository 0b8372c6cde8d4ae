#include "nnlab/model.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "nnlab/error.hpp"
#include "nnlab/kernels/denormals.hpp"
#include "nnlab/layers/pool2d.hpp"

namespace nnlab {

Model& Model::add(std::unique_ptr<Layer> layer) {
  check(!built_, "model: cannot add a layer after the model is built");
  check(layer != nullptr, "model: null layer");
  layers_.push_back(std::move(layer));
  return *this;
}

static std::string with_commas(int64_t v);

namespace {

// 1.5e11 -> "150.0 GB".
std::string bytes_str(double b) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB", "ZB"};
  int u = 0;
  while (b >= 1000 && u < 7) {
    b /= 1000;
    ++u;
  }
  char buf[48];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", b, units[u]);
  return buf;
}

double physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
}

}  // namespace

void Model::build(const Shape& input, uint64_t seed, int64_t max_values) {
  check(!built_, "model: already built");
  check(!layers_.empty(), "model: no layers");
  check(!input.empty(), "model: empty input shape");
  for (int64_t d : input) check(d >= 1, "model: input shape " + shape_str(input) + " has a dimension below 1");
  input_shape_ = input;
  std::map<std::string, int> counts;
  std::set<std::string> names;
  Shape shape = input;
  size_t n_params = 0, n_state = 0;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    if (l.name.empty()) l.name = l.type() + "_" + std::to_string(++counts[l.type()]);
    check(names.insert(l.name).second, "model: two layers are named '" + l.name + "'");
    shape = l.build(shape);
    out_shapes_.push_back(shape);
    auto specs = l.param_specs();
    int64_t count = 0;
    const std::string layer_name = "model: layer '" + l.name + "' (" + l.type() + ")";
    for (const auto& s : specs) {
      int64_t sz = 0;
      try {
        sz = shape_size(s.shape);
      } catch (const Error& e) {
        throw Error(layer_name + ": " + s.name + " " + e.what());
      }
      (s.trainable ? n_params : n_state) += static_cast<size_t>(sz);
      count += sz;  // no overflow: every size is below 2^63 and the next check stops the sum far lower
      if (max_values >= 0 && static_cast<double>(n_params + n_state) > static_cast<double>(max_values)) {
        throw Error(layer_name + " has " + with_commas(count) + " parameters, more than the " +
                    with_commas(max_values) + " values given for the whole model");
      }
      // Parameters and gradients, 4 bytes each, must fit in memory (sizes far beyond it are typos).
      const double need = 4.0 * (2.0 * static_cast<double>(n_params) + static_cast<double>(n_state));
      const double have = physical_memory_bytes();
      if (have > 0 && need > have) {
        throw Error(layer_name + " has " + with_commas(count) + " parameters; the model up to it needs " +
                    bytes_str(need) + " for its parameters and gradients, more than this machine's " +
                    bytes_str(have) + " of memory");
      }
    }
    layer_params_.push_back(count);
    int64_t trainable = 0;
    for (const auto& sp : specs)
      if (sp.trainable) trainable += shape_size(sp.shape);
    layer_trainable_.push_back(trainable);
    specs_.emplace_back(i, std::move(specs));
  }
  output_shape_ = shape;
  params_.assign(n_params, 0.0f);
  grads_.assign(n_params, 0.0f);
  state_.assign(n_state, 0.0f);
  size_t p = 0, s = 0;
  for (auto& [i, specs] : specs_) {
    std::vector<ParamView> views;
    for (const auto& spec : specs) {
      const auto sz = static_cast<size_t>(shape_size(spec.shape));
      if (spec.trainable) {
        views.push_back({std::span<float>(params_).subspan(p, sz), std::span<float>(grads_).subspan(p, sz)});
        p += sz;
      } else {
        views.push_back({std::span<float>(state_).subspan(s, sz), {}});
        s += sz;
      }
    }
    layers_[i]->bind(std::move(views));
  }
  rng_ = Rng(seed);
  for (auto& l : layers_) l->init_params(rng_);
  acts_.resize(layers_.size());
  grad_bufs_.resize(layers_.size());
  relu_fused_.assign(layers_.size(), 0);
  for (size_t i = 0; i + 1 < layers_.size(); ++i)
    relu_fused_[i] = layers_[i]->output_activation() == "relu" && layers_[i + 1]->fuse_input_relu();
  // The layer before the last keeps its output in infer() (output_logits reads it).
  before_max_pool_.assign(layers_.size(), 0);
  for (size_t i = 0; i + 2 < layers_.size(); ++i) {
    const auto* pool = dynamic_cast<const Pool2D*>(layers_[i + 1].get());
    before_max_pool_[i] = pool != nullptr && pool->options().max;
  }
  built_ = true;
}

// The checks on the per-batch paths build their messages only when they fail: a step allocates nothing.
void Model::check_input_width(int64_t cols) const {
  if (cols != shape_size(input_shape_))
    throw Error("model: input has " + std::to_string(cols) + " features per sample, the model expects " +
                shape_str(input_shape_));
}

void Model::start_pass(const Tensor& x) {
  if (!built_) throw Error("model: build() the model before using it");
  if (x.rows() < 1) throw Error("model: empty batch");
  check_input_width(x.cols());
  input_ = &x;
  acts_partial_ = false;
}

const Tensor& Model::forward(const Tensor& x, Mode mode) {
  start_pass(x);
  const Tensor* in = &x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    layers_[i]->forward(*in, acts_[i], mode, rng_);
    in = &acts_[i];
  }
  return acts_.back();
}

const Tensor& Model::infer(const Tensor& x) {
  start_pass(x);
  const Tensor* in = &x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (before_max_pool_[i] && layers_[i]->commutes_with_max_pool()) {
      layers_[i + 1]->forward(*in, pooled_, Mode::Infer, rng_);
      layers_[i]->infer_any_shape(pooled_, acts_[i + 1]);
      acts_partial_ = true;
      in = &acts_[++i];
      continue;
    }
    layers_[i]->forward(*in, acts_[i], Mode::Infer, rng_);
    in = &acts_[i];
  }
  return acts_.back();
}

void Model::backward(const Tensor& grad, bool from_logits) { backward(grad, from_logits, nullptr); }

void Model::backward(const Tensor& grad, bool from_logits, const std::function<void(size_t offset)>& done) {
  if (input_ == nullptr) throw Error("model: backward() before forward()");
  if (acts_partial_) throw Error("model: backward() after infer(), which keeps only what predictions need; call forward()");
  const Tensor* dy = &grad;
  Tensor* dy_own = nullptr;  // dy when it is the model's own buffer (below the last layer)
  size_t offset = grads_.size();  // the layers' gradients lie in layer order in the flat buffer
  for (size_t k = layers_.size(); k-- > 0;) {
    const Tensor& x = k == 0 ? *input_ : acts_[k - 1];
    Tensor* dx = nullptr;
    if (k > 0) dx = dy_own && layers_[k]->backward_in_place() ? dy_own : &grad_bufs_[k];
    layers_[k]->backward(x, acts_[k], *dy, dx, (from_logits && k + 1 == layers_.size()) || relu_fused_[k]);
    layers_[k]->add_penalty_gradient();
    dy = dy_own = dx;
    offset -= static_cast<size_t>(layer_trainable_[k]);
    if (done) done(offset);
  }
}

double Model::penalty() const {
  double p = 0;
  for (const auto& l : layers_) p += l->penalty();
  return p;
}

void Model::apply_constraints() {
  for (auto& l : layers_) l->apply_constraints();
}

const Tensor* Model::output_logits() const {
  if (layers_.empty() || !input_) return nullptr;
  const Tensor& x = layers_.size() == 1 ? *input_ : acts_[layers_.size() - 2];
  return layers_.back()->preactivation(x);
}

std::string Model::output_activation() const { return layers_.empty() ? "" : layers_.back()->output_activation(); }

int64_t Model::infer_batch_size(int64_t most) const {
  int64_t per_sample = 0;
  for (const Shape& s : out_shapes_) per_sample += shape_size(s);
  const int64_t fit = kInferBatchBytes / std::max<int64_t>(1, per_sample * static_cast<int64_t>(sizeof(float)));
  return std::clamp<int64_t>(fit, 1, std::max<int64_t>(1, most));
}

int64_t Model::inference_batch(int64_t batch_size, const std::string& who) const {
  if (batch_size < 0)
    throw Error(who + ": batch_size must be at least 1 (or 0: automatic), got " + std::to_string(batch_size));
  return batch_size == 0 ? infer_batch_size() : batch_size;
}

Tensor Model::predict(const Tensor& x, int64_t batch_size) {
  batch_size = inference_batch(batch_size, "predict");
  const int64_t n = x.rows();
  Shape out_shape = output_shape_;
  out_shape.insert(out_shape.begin(), n);
  Tensor out(out_shape);
  if (n == 0) return out;
  if (n > batch_size) {
    check_input_width(x.cols());
    predict(x.data(), n, out.data(), batch_size);
    return out;
  }
  const kernels::DenormalScope denormals;  // one batch: run x itself, without copying it
  const Tensor& y = infer(x);
  std::memcpy(out.data(), y.data(), sizeof(float) * static_cast<size_t>(y.size()));
  input_ = nullptr;
  return out;
}

void Model::predict(const float* x, int64_t n, float* out, int64_t batch_size) {
  batch_size = inference_batch(batch_size, "predict");
  const kernels::DenormalScope denormals;
  const int64_t in_cols = shape_size(input_shape_), out_cols = shape_size(output_shape_);
  Tensor batch;
  for (int64_t b = 0; b < n; b += batch_size) {
    const int64_t e = std::min(n, b + batch_size);
    batch.resize_rows(e - b, input_shape_);
    std::memcpy(batch.data(), x + b * in_cols, sizeof(float) * static_cast<size_t>((e - b) * in_cols));
    const Tensor& y = infer(batch);
    std::memcpy(out + b * out_cols, y.data(), sizeof(float) * static_cast<size_t>(y.size()));
  }
  input_ = nullptr;  // batch dies here
}

std::vector<NamedTensor> Model::named_tensors() {
  check(built_, "model: not built");
  std::vector<NamedTensor> out;
  size_t p = 0, s = 0;
  for (auto& [i, specs] : specs_) {
    for (const auto& spec : specs) {
      const auto sz = static_cast<size_t>(shape_size(spec.shape));
      std::span<float> v = spec.trainable ? std::span<float>(params_).subspan(p, sz)
                                          : std::span<float>(state_).subspan(s, sz);
      (spec.trainable ? p : s) += sz;
      out.push_back({layers_[i]->name + "." + spec.name, spec.shape, v, spec.trainable});
    }
  }
  return out;
}

// 1466136 -> "1,466,136" (built by appending: GCC 12's -Wrestrict misfires on string::insert here).
static std::string with_commas(int64_t v) {
  const std::string digits = std::to_string(v);
  const size_t lead = digits[0] == '-' ? 1 : 0;
  std::string s;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > lead && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string Model::summary() const {
  std::ostringstream os;
  auto batch_shape = [](const Shape& s) {
    std::string out = "(None";
    for (int64_t d : s) out += ", " + std::to_string(d);
    return out + ")";
  };
  // The first column widens for long layer names (spatial_dropout2d_1 (spatial_dropout2d(0.2))), so
  // every row keeps a space before its output shape.
  std::vector<std::string> labels;
  int width = 34;
  for (const auto& l : layers_) {
    labels.push_back(l->name + " (" + l->describe() + ")");
    width = std::max(width, static_cast<int>(labels.back().size()) + 1);
  }
  const std::string rule(static_cast<size_t>(width) + 30, '-');
  os << "Model: input " << batch_shape(input_shape_) << "\n";
  os << std::left << std::setw(width) << "Layer (type)" << std::setw(18) << "Output Shape" << std::right
     << std::setw(12) << "Param #" << "\n";
  os << rule << "\n";
  for (size_t i = 0; i < layers_.size(); ++i) {
    os << std::left << std::setw(width) << labels[i] << std::setw(18) << batch_shape(out_shapes_[i]) << std::right
       << std::setw(12) << with_commas(layer_params_[i]) << "\n";
  }
  os << rule << "\n";
  os << "Total params: " << with_commas(param_count()) << "\n";
  os << "Trainable params: " << with_commas(trainable_count()) << "\n";
  os << "Non-trainable params: " << with_commas(static_cast<int64_t>(state_.size())) << "\n";
  return os.str();
}

nlohmann::json Model::config() const {
  nlohmann::json layers = nlohmann::json::array();
  for (const auto& l : layers_) {
    nlohmann::json c = l->config();
    c["name"] = l->name;
    layers.push_back(c);
  }
  return {{"input", input_shape_}, {"layers", layers}};
}

Model Model::from_config(const nlohmann::json& config, uint64_t seed, int64_t max_values) {
  check(config.is_object() && config.contains("input") && config.contains("layers") && config["layers"].is_array(),
        "model config must have 'input' and 'layers', got " + config.dump().substr(0, 200));
  Model m;
  for (const auto& lc : config["layers"]) m.add(make_layer(lc));
  Shape input;
  try {
    input = config["input"].get<Shape>();
  } catch (const nlohmann::json::exception&) {
    throw Error("model config: 'input' must be a list of whole numbers, got " + config["input"].dump());
  }
  m.build(input, seed, max_values);
  return m;
}

}  // namespace nnlab
