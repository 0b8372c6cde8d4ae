// Conv2D on oneDNN: the source and destination stay in nnlab's NHWC tensors (no copies); the
// primitive picks its own weight layout ("any"), reached from Keras's (kh, kw, in, filters) = oneDNN's
// "hwio" by one reorder each step when it differs (forward; backward-data reads the same reordered
// kernel, since the model's backward follows its forward on the same batch with the same weights).
// A Plan holds the primitives and memories of one batch size: made on the first batch of that size,
// reused after (a training run meets two sizes, the full batches and the last one, and evaluation a
// third).
#include "nnlab/layers/conv2d.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/kernels/elementwise.hpp"
#include "nnlab/layers/dense.hpp"
#include "spatial.hpp"
#include "kernel_options.hpp"

namespace nnlab {

using dnnl::memory;
using Fmt = memory::format_tag;
constexpr size_t kMaxPlans = 4;

struct Conv2D::Plan {
  int64_t batch = 0;
  memory::desc src_md, dst_md, w_user_md, b_md;
  memory::dims strides, dilates, pad_l, pad_r;
  dnnl::convolution_forward::primitive_desc fwd_pd;
  memory src, dst, w_user, w, bias, scratch;  // w: the primitive's weights (w_user itself when equal)
  onednn::Step w_reorder, fwd;
  bool has_backward = false;
  memory diff_src, diff_dst, diff_w, diff_w_user, diff_bias, bd_w, bd_scratch, bw_scratch;
  onednn::Step bd_w_reorder, bwd_data, bwd_weights, diff_w_reorder;
};

Conv2D::Conv2D(Conv2DOptions options) : opt_(std::move(options)) {
  const std::string where = "conv2d";
  check(opt_.filters >= 1, where + ": filters must be at least 1, got " + std::to_string(opt_.filters));
  check_pair(opt_.kernel_size, "kernel_size", where);
  check_pair(opt_.strides, "strides", where);
  check_pair(opt_.dilation_rate, "dilation_rate", where);
  check_padding(opt_.padding, where);
  // As Keras: strides above 1 and dilation above 1 do not combine.
  check(opt_.dilation_rate == Pair{1, 1} || opt_.strides == Pair{1, 1},
        where + ": strides > 1 cannot be combined with dilation_rate > 1 (as in Keras)");
  auto act = make_activation(opt_.activation);
  opt_.activation = act->name();
  if (opt_.activation != "linear") act_ = std::move(act);
  relu_ = opt_.activation == "relu";
  opt_.penalty.validate(where);
  Rng probe;
  std::vector<float> none;
  initialize_kernel(opt_.kernel_initializer, none, 1, 1, probe);  // validates the name now
}

Conv2D::~Conv2D() = default;

std::string Conv2D::where() const { return "conv2d '" + name + "'"; }

Shape Conv2D::build(const Shape& input) {
  in_ = image_input(input, where());
  const bool same = opt_.padding == "same";
  const Axis h = window_axis(in_[0], opt_.kernel_size[0], opt_.strides[0], opt_.dilation_rate[0], same, where(), "height");
  const Axis w = window_axis(in_[1], opt_.kernel_size[1], opt_.strides[1], opt_.dilation_rate[1], same, where(), "width");
  pads_ = {h.pad_before, h.pad_after, w.pad_before, w.pad_after};
  out_ = {h.out, w.out, opt_.filters};
  plans_.clear();
  return out_;
}

std::vector<ParamSpec> Conv2D::param_specs() const {
  std::vector<ParamSpec> s{{"kernel", {opt_.kernel_size[0], opt_.kernel_size[1], in_[2], opt_.filters}, true}};
  if (opt_.use_bias) s.push_back({"bias", {opt_.filters}, true});
  return s;
}

void Conv2D::bind(std::vector<ParamView> views) {
  w_ = views.at(0);
  if (opt_.use_bias) b_ = views.at(1);
  plans_.clear();
}

void Conv2D::init_params(Rng& rng) {
  const int64_t area = opt_.kernel_size[0] * opt_.kernel_size[1];
  initialize_kernel(opt_.kernel_initializer, w_.value, area * in_[2], area * opt_.filters, rng);
  for (float& v : b_.value) v = 0;
}

Conv2D::Plan& Conv2D::plan(int64_t batch) {
  if (Plan* found = find_plan(plans_, batch)) return *found;
  auto p = std::make_unique<Plan>();
  p->batch = batch;
  const int64_t kh = opt_.kernel_size[0], kw = opt_.kernel_size[1], f = opt_.filters, c = in_[2];
  p->src_md = onednn::nhwc(batch, c, in_[0], in_[1]);
  p->dst_md = onednn::nhwc(batch, f, out_[0], out_[1]);
  p->w_user_md = memory::desc({f, c, kh, kw}, memory::data_type::f32, Fmt::hwio);
  p->b_md = opt_.use_bias ? memory::desc({f}, memory::data_type::f32, Fmt::x) : memory::desc();
  p->strides = {opt_.strides[0], opt_.strides[1]};
  p->dilates = {opt_.dilation_rate[0] - 1, opt_.dilation_rate[1] - 1};  // oneDNN counts 0 as none
  p->pad_l = {pads_[0], pads_[2]};
  p->pad_r = {pads_[1], pads_[3]};
  const memory::desc w_any({f, c, kh, kw}, memory::data_type::f32, Fmt::any);
  const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct,
                                          p->src_md, w_any, p->b_md, p->dst_md, p->strides, p->dilates, p->pad_l, p->pad_r);
  dnnl::primitive_attr attr = onednn::user_scratchpad();
  if (relu_) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
  }
  p->fwd_pd = dnnl::convolution_forward::primitive_desc(d, attr, onednn::engine());
  p->src = onednn::unbound(p->src_md);
  p->dst = onednn::unbound(p->dst_md);
  p->w_user = onednn::unbound(p->w_user_md);
  if (opt_.use_bias) p->bias = onednn::unbound(p->b_md);
  p->scratch = memory(p->fwd_pd.scratchpad_desc(), onednn::engine());
  p->w = p->fwd_pd.weights_desc() == p->w_user_md ? p->w_user : memory(p->fwd_pd.weights_desc(), onednn::engine());
  if (p->w != p->w_user) p->w_reorder = onednn::reorder(p->w_user, p->w);
  p->fwd = {dnnl::convolution_forward(p->fwd_pd), {}};
  p->fwd.add(DNNL_ARG_SRC, p->src);
  p->fwd.add(DNNL_ARG_WEIGHTS, p->w);
  if (opt_.use_bias) p->fwd.add(DNNL_ARG_BIAS, p->bias);
  p->fwd.add(DNNL_ARG_DST, p->dst);
  p->fwd.add(DNNL_ARG_SCRATCHPAD, p->scratch);
  return keep_plan(plans_, std::move(p), kMaxPlans);
}

// The backward primitives of a plan, made on its first backward pass (inference never needs them).
static void make_backward(Conv2D::Plan& p, bool use_bias) {
  const auto& eng = onednn::engine();
  const memory::desc w_any(p.w_user_md.dims(), memory::data_type::f32, Fmt::any);
  const dnnl::convolution_backward_data::desc dd(dnnl::algorithm::convolution_direct, p.src_md, w_any, p.dst_md,
                                                 p.strides, p.dilates, p.pad_l, p.pad_r);
  const dnnl::convolution_backward_data::primitive_desc dpd(dd, onednn::user_scratchpad(), eng, p.fwd_pd);
  const dnnl::convolution_backward_weights::desc wd(dnnl::algorithm::convolution_direct, p.src_md, w_any, p.b_md,
                                                    p.dst_md, p.strides, p.dilates, p.pad_l, p.pad_r);
  const dnnl::convolution_backward_weights::primitive_desc wpd(wd, onednn::user_scratchpad(), eng, p.fwd_pd);
  p.diff_src = onednn::unbound(p.src_md);
  p.diff_dst = onednn::unbound(p.dst_md);
  p.diff_w_user = onednn::unbound(p.w_user_md);
  // The bias gradient goes to a buffer of the plan's own, aligned to a cache line, and is copied to the
  // layer's view after: the backward-weights primitive's threads write their halves of it, and in the
  // model's flat gradient buffer a view can start mid-line, where two threads writing one line took
  // conv 1 of fashion-cnn from 0.3 to 0.5 ms a step on 2 threads (docs/PERFORMANCE.md).
  if (use_bias) p.diff_bias = memory(p.b_md, eng);
  // Backward-data reads the kernel the forward pass of this step reordered (the same layout, as oneDNN
  // picks it with the forward's hint): no second reorder. Only a different layout gets its own.
  if (dpd.weights_desc() == p.fwd_pd.weights_desc()) {
    p.bd_w = p.w;
  } else if (dpd.weights_desc() == p.w_user_md) {
    p.bd_w = p.w_user;
  } else {
    p.bd_w = memory(dpd.weights_desc(), eng);
    p.bd_w_reorder = onednn::reorder(p.w_user, p.bd_w);
  }
  p.diff_w = wpd.diff_weights_desc() == p.w_user_md ? p.diff_w_user : memory(wpd.diff_weights_desc(), eng);
  if (p.diff_w != p.diff_w_user) p.diff_w_reorder = onednn::reorder(p.diff_w, p.diff_w_user);
  p.bd_scratch = memory(dpd.scratchpad_desc(), eng);
  p.bw_scratch = memory(wpd.scratchpad_desc(), eng);
  p.bwd_data = {dnnl::convolution_backward_data(dpd), {}};
  p.bwd_data.add(DNNL_ARG_DIFF_DST, p.diff_dst);
  p.bwd_data.add(DNNL_ARG_WEIGHTS, p.bd_w);
  p.bwd_data.add(DNNL_ARG_DIFF_SRC, p.diff_src);
  p.bwd_data.add(DNNL_ARG_SCRATCHPAD, p.bd_scratch);
  p.bwd_weights = {dnnl::convolution_backward_weights(wpd), {}};
  p.bwd_weights.add(DNNL_ARG_SRC, p.src);
  p.bwd_weights.add(DNNL_ARG_DIFF_DST, p.diff_dst);
  p.bwd_weights.add(DNNL_ARG_DIFF_WEIGHTS, p.diff_w);
  if (use_bias) p.bwd_weights.add(DNNL_ARG_DIFF_BIAS, p.diff_bias);
  p.bwd_weights.add(DNNL_ARG_SCRATCHPAD, p.bw_scratch);
  p.has_backward = true;
}

void Conv2D::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  const int64_t n = x.rows();
  if (x.cols() != shape_size(in_))
    throw Error(where() + ": input has " + std::to_string(x.cols()) + " values per sample, expected " + shape_str(in_));
  Plan& p = plan(n);
  Tensor& z = act_ && !relu_ ? z_ : y;
  z.resize_rows(n, out_);
  p.src.set_data_handle(onednn::handle(x.data()));
  p.dst.set_data_handle(z.data());
  p.w_user.set_data_handle(w_.value.data());
  if (opt_.use_bias) p.bias.set_data_handle(b_.value.data());
  if (p.w_reorder) p.w_reorder.run();
  p.fwd.run();
  if (act_ && !relu_) {
    y.resize_rows(n, out_);
    act_->forward(z.data(), y.data(), n * out_[0] * out_[1], opt_.filters);
  }
}

void Conv2D::backward(const Tensor& x, const Tensor& y, const Tensor& dy, Tensor* dx, bool dy_is_preactivation) {
  const int64_t n = x.rows(), pixels = n * out_[0] * out_[1], f = opt_.filters;
  Plan& p = plan(n);
  if (!p.has_backward) make_backward(p, opt_.use_bias);
  const Tensor* dz = &dy;
  if (act_ && !dy_is_preactivation) {
    dz_.resize_rows(n, out_);
    if (relu_) {
      kernels::relu_backward_bias_grad(dy.data(), y.data(), dz_.data(), nullptr, pixels, f, true);
    } else {
      act_->backward(z_.data(), y.data(), dy.data(), dz_.data(), pixels, f);
    }
    dz = &dz_;
  }
  p.src.set_data_handle(onednn::handle(x.data()));
  p.diff_dst.set_data_handle(onednn::handle(dz->data()));
  p.diff_w_user.set_data_handle(w_.grad.data());
  p.bwd_weights.run();
  if (opt_.use_bias) {
    const float* db = static_cast<const float*>(p.diff_bias.get_data_handle());
    std::copy(db, db + f, b_.grad.data());
  }
  if (p.diff_w_reorder) p.diff_w_reorder.run();
  if (!dx) return;
  dx->resize_rows(n, in_);
  p.w_user.set_data_handle(w_.value.data());  // bd_w: p.w, filled by this batch's forward, or its own reorder
  p.diff_src.set_data_handle(dx->data());
  if (p.bd_w_reorder) p.bd_w_reorder.run();
  p.bwd_data.run();
}

void Conv2D::add_penalty_gradient() {
  if (opt_.penalty.penalised()) opt_.penalty.add_gradient(w_.value, w_.grad);
}

// Keras's MaxNorm on a conv kernel bounds each filter's weights (axes 0, 1, 2): the columns of the
// (kh * kw * in, filters) matrix the kernel is in memory.
void Conv2D::apply_constraints() {
  opt_.penalty.constrain(w_.value, opt_.kernel_size[0] * opt_.kernel_size[1] * in_[2], opt_.filters);
}

std::string Conv2D::output_activation() const { return act_ ? act_->name() : ""; }

const Tensor* Conv2D::preactivation(const Tensor&) const { return act_ && !relu_ ? &z_ : nullptr; }

std::unique_ptr<Conv2D> Conv2D::from_config(ConfigReader& c) {
  const std::string where = c.where();
  Conv2DOptions o;
  o.filters = c.require<int64_t>("filters");
  check(c.has("kernel_size"), where + ": missing required key 'kernel_size'");
  o.kernel_size = read_pair(c, "kernel_size", o.kernel_size, where);
  o.strides = read_pair(c, "strides", o.strides, where);
  o.padding = c.get("padding", o.padding);
  o.dilation_rate = read_pair(c, "dilation_rate", o.dilation_rate, where);
  read_kernel_options(c, o);
  return std::make_unique<Conv2D>(o);
}

nlohmann::json Conv2D::config() const {
  nlohmann::json j{{"type", "conv2d"},
                   {"filters", opt_.filters},
                   {"kernel_size", pair_json(opt_.kernel_size)},
                   {"strides", pair_json(opt_.strides)},
                   {"padding", opt_.padding},
                   {"dilation_rate", pair_json(opt_.dilation_rate)}};
  write_kernel_options(j, opt_);
  return j;
}

}  // namespace nnlab
