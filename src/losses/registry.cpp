// The losses by name: one line per loss in kLosses below.
#include <string_view>

#include "nnlab/config_reader.hpp"
#include "nnlab/error.hpp"
#include "nnlab/losses/loss.hpp"

namespace nnlab {
namespace losses {
// Each is defined in its own file and reads its own options.
std::unique_ptr<Loss> make_mse(ConfigReader& options);
std::unique_ptr<Loss> make_mae(ConfigReader& options);
std::unique_ptr<Loss> make_binary_crossentropy(ConfigReader& options);
std::unique_ptr<Loss> make_categorical_crossentropy(ConfigReader& options);
std::unique_ptr<Loss> make_sparse_categorical_crossentropy(ConfigReader& options);
}  // namespace losses

namespace {

struct Entry {
  std::string_view name;
  std::unique_ptr<Loss> (*make)(ConfigReader&);
};

using namespace losses;
const Entry kLosses[] = {
    {"mse", make_mse},
    {"mean_squared_error", make_mse},
    {"mae", make_mae},
    {"mean_absolute_error", make_mae},
    {"binary_crossentropy", make_binary_crossentropy},
    {"categorical_crossentropy", make_categorical_crossentropy},
    {"sparse_categorical_crossentropy", make_sparse_categorical_crossentropy},
};

}  // namespace

std::unique_ptr<Loss> make_loss(const std::string& name, const nlohmann::json& options) {
  for (const Entry& e : kLosses) {
    if (e.name != name) continue;
    ConfigReader reader(options, "loss '" + name + "'");
    auto loss = e.make(reader);
    reader.finish();  // a key the loss did not read: unknown to it
    return loss;
  }
  std::string known;
  for (const Entry& e : kLosses) known += (known.empty() ? "" : ", ") + std::string(e.name);
  throw Error("unknown loss '" + name + "' (known: " + known + ")");
}

std::string implied_loss(const std::string& output_activation, int64_t outputs) {
  if (output_activation == "softmax") return "categorical_crossentropy";
  if (output_activation == "sigmoid" && outputs == 1) return "binary_crossentropy";
  return "mse";
}

std::vector<std::string> loss_names() {
  std::vector<std::string> out;
  for (const Entry& e : kLosses) out.emplace_back(e.name);
  return out;
}

}  // namespace nnlab
