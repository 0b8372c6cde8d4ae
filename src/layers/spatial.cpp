#include "spatial.hpp"

#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

void check_pair(const Pair& p, const std::string& key, const std::string& layer) {
  for (int64_t v : p)
    check(v >= 1, layer + ": " + key + " must be positive whole numbers, got " + std::to_string(v));
}

Pair read_pair(ConfigReader& c, const std::string& key, Pair fallback, const std::string& layer) {
  if (!c.has(key)) {
    c.get<int64_t>(key, 0);  // marks the key as known for finish()
    return fallback;
  }
  const nlohmann::json& v = c.raw(key);
  Pair p{};
  if (v.is_number_integer()) {
    p = {v.get<int64_t>(), v.get<int64_t>()};
  } else if (v.is_array() && v.size() == 2 && v[0].is_number_integer() && v[1].is_number_integer()) {
    p = {v[0].get<int64_t>(), v[1].get<int64_t>()};
  } else {
    throw Error(layer + ": " + key + " must be a whole number or a list of two, got " + v.dump());
  }
  check_pair(p, key, layer);
  return p;
}

void check_padding(const std::string& padding, const std::string& layer) {
  check(padding == "valid" || padding == "same",
        layer + ": padding must be \"valid\" or \"same\", got \"" + padding + "\"");
}

nlohmann::json pair_json(const Pair& p) {
  return p[0] == p[1] ? nlohmann::json(p[0]) : nlohmann::json::array({p[0], p[1]});
}

Axis window_axis(int64_t in, int64_t size, int64_t stride, int64_t dilation, bool same, const std::string& layer,
                 const char* axis_name) {
  const int64_t span = dilation * (size - 1) + 1;
  Axis a;
  if (same) {
    a.out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>((a.out - 1) * stride + span - in, 0);
    a.pad_before = total / 2;
    a.pad_after = total - a.pad_before;
    return a;
  }
  check(span <= in, layer + ": a window of " + std::to_string(span) + " (size " + std::to_string(size) +
                        (dilation > 1 ? ", dilation " + std::to_string(dilation) : std::string()) + ") is larger than the input's " +
                        axis_name + " " + std::to_string(in) + " with padding \"valid\"; use padding \"same\" or a smaller window");
  a.out = (in - span) / stride + 1;
  return a;
}

Shape image_input(const Shape& input, const std::string& layer) {
  check(input.size() == 3, layer + " expects images (height, width, channels), got " + shape_str(input) +
                               "; give the model input_shape = [height, width, channels]");
  return input;
}

namespace onednn {

dnnl::engine& engine() {
  static dnnl::engine e(dnnl::engine::kind::cpu, 0);
  return e;
}

dnnl::stream& stream() {
  thread_local dnnl::stream s(engine());
  return s;
}

dnnl::memory::desc nhwc(int64_t n, int64_t c, int64_t h, int64_t w) {
  return {{n, c, h, w}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nhwc};
}

dnnl::memory unbound(const dnnl::memory::desc& desc) { return dnnl::memory(desc, engine(), DNNL_MEMORY_NONE); }

void* handle(const float* p) { return const_cast<float*>(p); }

void Step::run() const {
  const dnnl_status_t st = dnnl_primitive_execute(prim.get(), stream().get(), static_cast<int>(args.size()), args.data());
  if (st != dnnl_success) throw Error("oneDNN primitive failed with status " + std::to_string(static_cast<int>(st)));
  stream().wait();
}

dnnl::primitive_attr user_scratchpad() {
  dnnl::primitive_attr a;
  a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return a;
}

Step reorder(const dnnl::memory& from, const dnnl::memory& to) {
  Step s{dnnl::reorder(from, to), {}};
  s.add(DNNL_ARG_FROM, from);
  s.add(DNNL_ARG_TO, to);
  return s;
}

}  // namespace onednn

}  // namespace nnlab
