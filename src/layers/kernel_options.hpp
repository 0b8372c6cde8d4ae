// The options dense and conv2d share, read by Keras's names. Private to src/layers.
#pragma once
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"

namespace nnlab {

// activation, use_bias, kernel_initializer, and the kernel's l1, l2 and max_norm (absent keys keep
// o's values, the defaults).
template <class Options>
void read_kernel_options(ConfigReader& c, Options& o) {
  o.activation = c.get("activation", o.activation);
  o.use_bias = c.get("use_bias", o.use_bias);
  o.kernel_initializer = c.get("kernel_initializer", o.kernel_initializer);
  o.penalty.l1 = c.get("l1", o.penalty.l1);
  o.penalty.l2 = c.get("l2", o.penalty.l2);
  o.penalty.max_norm = c.get("max_norm", o.penalty.max_norm);
}

// The same keys into a layer's config, as read_kernel_options reads them back.
template <class Options>
void write_kernel_options(nlohmann::json& config, const Options& o) {
  config["activation"] = o.activation;
  config["use_bias"] = o.use_bias;
  config["kernel_initializer"] = o.kernel_initializer;
  config["l1"] = o.penalty.l1;
  config["l2"] = o.penalty.l2;
  config["max_norm"] = o.penalty.max_norm;
}

}  // namespace nnlab
