// The one place that maps a layer's config "type" to its from_config (each layer reads its own options
// beside its config()): adding a layer adds one line.
#include <cstdio>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/layers/activation_layer.hpp"
#include "nnlab/layers/batch_norm.hpp"
#include "nnlab/layers/conv2d.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/layers/dropout.hpp"
#include "nnlab/layers/flatten.hpp"
#include "nnlab/layers/global_average_pool2d.hpp"
#include "nnlab/layers/maxout.hpp"
#include "nnlab/layers/pool2d.hpp"
#include "nnlab/layers/reshape.hpp"
#include "nnlab/layers/spatial_dropout2d.hpp"

namespace nnlab {
namespace {

using Factory = std::function<std::unique_ptr<Layer>(ConfigReader&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f{
      {"dense", &Dense::from_config},
      {"activation", &ActivationLayer::from_config},
      {"maxout", &Maxout::from_config},
      {"flatten", &Flatten::from_config},
      {"dropout", &Dropout::from_config},
      {"batch_norm", &BatchNorm::from_config},
      {"conv2d", &Conv2D::from_config},
      {"max_pool2d", &Pool2D::max_from_config},
      {"average_pool2d", &Pool2D::average_from_config},
      {"global_average_pool2d", &GlobalAveragePool2D::from_config},
      {"reshape", &Reshape::from_config},
      {"spatial_dropout2d", &SpatialDropout2D::from_config},
  };
  return f;
}

}  // namespace

std::unique_ptr<Layer> make_layer(const nlohmann::json& config) {
  ConfigReader c(config, "layer");
  const std::string type = c.require<std::string>("type");
  auto it = factories().find(type);
  if (it == factories().end()) {
    std::string known;
    for (const auto& [k, _] : factories()) known += (known.empty() ? "" : ", ") + k;
    throw Error("unknown layer type '" + type + "' (known: " + known + ")");
  }
  ConfigReader r(config, "layer '" + type + "'");
  r.require<std::string>("type");
  const std::string name = r.get<std::string>("name", "");
  auto layer = it->second(r);
  r.finish();
  layer->name = name;
  return layer;
}

namespace {
// A float setting as the user wrote it: 0.3, not the float's exact double 0.30000001192092896.
std::string short_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}
}  // namespace

std::string Layer::describe() const {
  nlohmann::json c = config();
  std::string out = type();
  std::string args;
  for (const char* k : {"units", "filters", "pieces", "activation", "rate"}) {
    if (c.contains(k) && !(std::string(k) == "activation" && c[k] == "linear"))
      args += (args.empty() ? "" : ", ") + (c[k].is_string()           ? c[k].get<std::string>()
                                             : c[k].is_number_float() ? short_number(c[k].get<double>())
                                                                      : c[k].dump());
  }
  return args.empty() ? out : out + "(" + args + ")";
}

}  // namespace nnlab
