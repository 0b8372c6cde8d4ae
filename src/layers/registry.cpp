// The one place that maps a layer's config "type" to its constructor: adding a layer adds one line.
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "nnlab/config_reader.hpp"
#include "nnlab/layers/activation_layer.hpp"
#include "nnlab/layers/batch_norm.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/layers/dropout.hpp"
#include "nnlab/layers/flatten.hpp"
#include "nnlab/layers/maxout.hpp"

namespace nnlab {
namespace {

using Factory = std::function<std::unique_ptr<Layer>(ConfigReader&)>;

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f{
      {"dense",
       [](ConfigReader& c) {
         DenseOptions o;
         o.units = c.require<int64_t>("units");
         o.activation = c.get<std::string>("activation", "linear");
         o.use_bias = c.get<bool>("use_bias", true);
         o.kernel_initializer = c.get<std::string>("kernel_initializer", "glorot_uniform");
         o.penalty.l1 = c.get<float>("l1", 0.0f);
         o.penalty.l2 = c.get<float>("l2", 0.0f);
         o.penalty.max_norm = c.get<float>("max_norm", 0.0f);
         return std::make_unique<Dense>(o);
       }},
      {"activation",
       [](ConfigReader& c) { return std::make_unique<ActivationLayer>(c.require<std::string>("activation")); }},
      {"maxout",
       [](ConfigReader& c) {
         return std::make_unique<Maxout>(c.require<int64_t>("units"), c.get<int64_t>("pieces", 2),
                                         c.get<std::string>("kernel_initializer", "glorot_uniform"));
       }},
      {"flatten", [](ConfigReader&) { return std::make_unique<Flatten>(); }},
      {"dropout", [](ConfigReader& c) { return std::make_unique<Dropout>(c.require<float>("rate")); }},
      {"batch_norm",
       [](ConfigReader& c) {
         return std::make_unique<BatchNorm>(c.get<float>("momentum", 0.99f), c.get<float>("epsilon", 1e-3f));
       }},
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

std::string Layer::describe() const {
  nlohmann::json c = config();
  std::string out = type();
  std::string args;
  for (const char* k : {"units", "pieces", "activation", "rate"}) {
    if (c.contains(k) && !(std::string(k) == "activation" && c[k] == "linear"))
      args += (args.empty() ? "" : ", ") + (c[k].is_string() ? c[k].get<std::string>() : c[k].dump());
  }
  return args.empty() ? out : out + "(" + args + ")";
}

}  // namespace nnlab
