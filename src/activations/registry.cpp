// The activations by name: one line per activation in kActivations below.
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <string_view>

#include "common.hpp"
#include "nnlab/activations/activation.hpp"
#include "nnlab/error.hpp"

namespace nnlab {
namespace activations {
// Each is defined in its own file. The argument is the parameter for those that take one and
// ignored by the others.
std::unique_ptr<Activation> make_linear(float);
std::unique_ptr<Activation> make_sigmoid(float);
std::unique_ptr<Activation> make_tanh(float);
std::unique_ptr<Activation> make_relu(float);
std::unique_ptr<Activation> make_leaky_relu(float alpha);
std::unique_ptr<Activation> make_elu(float alpha);
std::unique_ptr<Activation> make_selu(float);
std::unique_ptr<Activation> make_gelu(float);
std::unique_ptr<Activation> make_swish(float);
std::unique_ptr<Activation> make_softplus(float);
std::unique_ptr<Activation> make_softsign(float);
std::unique_ptr<Activation> make_hard_sigmoid(float);
std::unique_ptr<Activation> make_softmax(float);
}  // namespace activations

namespace {

struct Entry {
  std::string_view name;
  std::unique_ptr<Activation> (*make)(float);
  std::optional<float> default_param;  // empty: the activation takes no parameter
};

using namespace activations;
const Entry kActivations[] = {
    {"linear", make_linear, {}},
    {"sigmoid", make_sigmoid, {}},
    {"tanh", make_tanh, {}},
    {"relu", make_relu, {}},
    {"leaky_relu", make_leaky_relu, 0.2f},  // keras.activations.leaky_relu's negative_slope
    {"elu", make_elu, 1.0f},
    {"selu", make_selu, {}},
    {"gelu", make_gelu, {}},
    {"swish", make_swish, {}},
    {"silu", make_swish, {}},
    {"softplus", make_softplus, {}},
    {"softsign", make_softsign, {}},
    {"hard_sigmoid", make_hard_sigmoid, {}},
    {"softmax", make_softmax, {}},
};

std::string known_names() {
  std::string out;
  for (const Entry& e : kActivations) {
    if (!out.empty()) out += ", ";
    out += e.name;
    if (e.default_param) out += "(alpha=" + number_str(*e.default_param) + ")";
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::unique_ptr<Activation> make_activation(const std::string& spec) {
  const auto fail = [&](const std::string& why) -> Error {
    return Error("activation '" + spec + "': " + why + " (known: " + known_names() + ")");
  };
  // "name" or "name(number)"
  std::string_view s = trim(spec);
  std::string_view name = s;
  std::optional<std::string_view> arg;
  if (const size_t open = s.find('('); open != std::string_view::npos) {
    if (s.back() != ')') throw fail("expected name(number)");
    name = trim(s.substr(0, open));
    arg = trim(s.substr(open + 1, s.size() - open - 2));
  }
  const Entry* entry = nullptr;
  for (const Entry& e : kActivations)
    if (e.name == name) entry = &e;
  if (!entry) throw fail("unknown activation");
  if (!arg) return entry->make(entry->default_param.value_or(0.0f));

  if (!entry->default_param) throw fail(std::string(name) + " takes no parameter");
  double value = 0.0;
  const auto [end, ec] = std::from_chars(arg->data(), arg->data() + arg->size(), value);
  const auto param = static_cast<float>(value);
  if (arg->empty() || ec != std::errc() || end != arg->data() + arg->size() || !std::isfinite(param))
    throw fail("the parameter '" + std::string(*arg) + "' is not a finite number");
  try {
    return entry->make(param);
  } catch (const Error& e) {
    throw fail(e.what());
  }
}

std::vector<std::string> activation_names() {
  std::vector<std::string> out;
  for (const Entry& e : kActivations) out.emplace_back(e.name);
  return out;
}

}  // namespace nnlab
