// Max and average pooling on oneDNN, reading and writing nnlab's NHWC tensors in place. Max pooling
// keeps the positions of the maxima (oneDNN's workspace, one per plan) for the backward pass, so a
// training step runs forward in training mode; its backward routes each gradient to that position.
#include "nnlab/layers/pool2d.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "spatial.hpp"

namespace nnlab {

using dnnl::memory;
constexpr size_t kMaxPoolPlans = 4;

struct Pool2D::Plan {
  int64_t batch = 0;
  dnnl::pooling_forward::primitive_desc fwd_pd;
  memory src, dst, workspace, scratch, diff_src, diff_dst, bwd_scratch;
  onednn::Step fwd, bwd;
};

Pool2D::Pool2D(Pool2DOptions options) : opt_(std::move(options)) {
  const std::string where = opt_.max ? "max_pool2d" : "average_pool2d";
  check_pair(opt_.pool_size, "pool_size", where);
  if (opt_.strides == Pair{0, 0}) opt_.strides = opt_.pool_size;
  check_pair(opt_.strides, "strides", where);
  check_padding(opt_.padding, where);
}

Pool2D::~Pool2D() = default;

Shape Pool2D::build(const Shape& input) {
  in_ = image_input(input, where());
  const bool same = opt_.padding == "same";
  const Axis h = window_axis(in_[0], opt_.pool_size[0], opt_.strides[0], 1, same, where(), "height");
  const Axis w = window_axis(in_[1], opt_.pool_size[1], opt_.strides[1], 1, same, where(), "width");
  pads_ = {h.pad_before, h.pad_after, w.pad_before, w.pad_after};
  out_ = {h.out, w.out, in_[2]};
  plans_.clear();
  return out_;
}

Pool2D::Plan& Pool2D::plan(int64_t batch) {
  if (Plan* found = find_plan(plans_, batch)) return *found;
  auto p = std::make_unique<Plan>();
  p->batch = batch;
  const auto& eng = onednn::engine();
  const memory::desc src_md = onednn::nhwc(batch, in_[2], in_[0], in_[1]);
  const memory::desc dst_md = onednn::nhwc(batch, out_[2], out_[0], out_[1]);
  const memory::dims strides{opt_.strides[0], opt_.strides[1]}, kernel{opt_.pool_size[0], opt_.pool_size[1]};
  const memory::dims pad_l{pads_[0], pads_[2]}, pad_r{pads_[1], pads_[3]};
  const auto alg = opt_.max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
  const dnnl::pooling_forward::desc fd(dnnl::prop_kind::forward_training, alg, src_md, dst_md, strides, kernel, pad_l, pad_r);
  p->fwd_pd = dnnl::pooling_forward::primitive_desc(fd, onednn::user_scratchpad(), eng);
  const dnnl::pooling_backward::desc bd(alg, src_md, dst_md, strides, kernel, pad_l, pad_r);
  const dnnl::pooling_backward::primitive_desc bpd(bd, onednn::user_scratchpad(), eng, p->fwd_pd);
  p->src = onednn::unbound(src_md);
  p->dst = onednn::unbound(dst_md);
  p->diff_src = onednn::unbound(src_md);
  p->diff_dst = onednn::unbound(dst_md);
  p->scratch = memory(p->fwd_pd.scratchpad_desc(), eng);
  p->bwd_scratch = memory(bpd.scratchpad_desc(), eng);
  p->fwd = {dnnl::pooling_forward(p->fwd_pd), {}};
  p->fwd.add(DNNL_ARG_SRC, p->src);
  p->fwd.add(DNNL_ARG_DST, p->dst);
  p->fwd.add(DNNL_ARG_SCRATCHPAD, p->scratch);
  p->bwd = {dnnl::pooling_backward(bpd), {}};
  p->bwd.add(DNNL_ARG_DIFF_DST, p->diff_dst);
  p->bwd.add(DNNL_ARG_DIFF_SRC, p->diff_src);
  p->bwd.add(DNNL_ARG_SCRATCHPAD, p->bwd_scratch);
  if (opt_.max) {
    p->workspace = memory(p->fwd_pd.workspace_desc(), eng);
    p->fwd.add(DNNL_ARG_WORKSPACE, p->workspace);
    p->bwd.add(DNNL_ARG_WORKSPACE, p->workspace);
  }
  return keep_plan(plans_, std::move(p), kMaxPoolPlans);
}

void Pool2D::forward(const Tensor& x, Tensor& y, Mode, Rng&) {
  const int64_t n = x.rows();
  if (x.cols() != shape_size(in_))
    throw Error(where() + ": input has " + std::to_string(x.cols()) + " values per sample, expected " + shape_str(in_));
  Plan& p = plan(n);
  y.resize_rows(n, out_);
  p.src.set_data_handle(onednn::handle(x.data()));
  p.dst.set_data_handle(y.data());
  p.fwd.run();
}

// Uses the workspace of the last forward pass of this batch size: the model's backward always
// follows its forward on the same batch.
void Pool2D::backward(const Tensor& x, const Tensor&, const Tensor& dy, Tensor* dx, bool) {
  if (!dx) return;
  Plan& p = plan(x.rows());
  dx->resize_rows(x.rows(), in_);
  p.diff_dst.set_data_handle(onednn::handle(dy.data()));
  p.diff_src.set_data_handle(dx->data());
  p.bwd.run();
}

std::unique_ptr<Pool2D> Pool2D::from_config(ConfigReader& c, bool max) {
  const std::string where = c.where();
  Pool2DOptions o;
  o.max = max;
  o.pool_size = read_pair(c, "pool_size", o.pool_size, where);
  o.strides = read_pair(c, "strides", o.strides, where);  // absent: pool_size
  o.padding = c.get("padding", o.padding);
  return std::make_unique<Pool2D>(o);
}

std::unique_ptr<Pool2D> Pool2D::max_from_config(ConfigReader& c) { return from_config(c, true); }
std::unique_ptr<Pool2D> Pool2D::average_from_config(ConfigReader& c) { return from_config(c, false); }

nlohmann::json Pool2D::config() const {
  return {{"type", type()}, {"pool_size", pair_json(opt_.pool_size)}, {"strides", pair_json(opt_.strides)},
          {"padding", opt_.padding}};
}

}  // namespace nnlab
