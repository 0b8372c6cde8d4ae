// The one place that maps a schedule config's "type" to its options and constructor: adding a
// schedule adds one entry.
#include <functional>
#include <map>

#include "common.hpp"
#include "nnlab/config_reader.hpp"

namespace nnlab {
namespace {

using Factory = std::function<std::unique_ptr<Schedule>(ConfigReader&)>;

TimeDecayOptions time_decay_options(ConfigReader& c) {
  TimeDecayOptions o;
  o.decay_steps = c.require<int64_t>("decay_steps");
  o.decay_rate = c.require<double>("decay_rate");
  o.staircase = c.get<bool>("staircase", o.staircase);
  return o;
}

const std::map<std::string, Factory>& factories() {
  static const std::map<std::string, Factory> f{
      {"constant", [](ConfigReader&) { return make_constant_schedule(); }},
      {"step",
       [](ConfigReader& c) {
         StepDecayOptions o;
         o.drop = c.get<double>("drop", o.drop);
         o.every = c.get<int>("every", o.every);
         return make_step_decay(o);
       }},
      {"exponential", [](ConfigReader& c) { return make_exponential_decay(time_decay_options(c)); }},
      {"inverse_time", [](ConfigReader& c) { return make_inverse_time_decay(time_decay_options(c)); }},
      {"cosine",
       [](ConfigReader& c) {
         CosineDecayOptions o;
         o.decay_steps = c.get<int64_t>("decay_steps", o.decay_steps);
         o.alpha = c.get<double>("alpha", o.alpha);
         if (c.has("warmup_target")) o.warmup_target = c.require<double>("warmup_target");
         o.warmup_steps = c.get<int64_t>("warmup_steps", o.warmup_steps);
         return make_cosine_decay(o);
       }},
      {"cosine_restarts",
       [](ConfigReader& c) {
         CosineDecayRestartsOptions o;
         o.first_decay_steps = c.require<int64_t>("first_decay_steps");
         o.t_mul = c.get<double>("t_mul", o.t_mul);
         o.m_mul = c.get<double>("m_mul", o.m_mul);
         o.alpha = c.get<double>("alpha", o.alpha);
         return make_cosine_decay_restarts(o);
       }},
      {"one_cycle",
       [](ConfigReader& c) {
         OneCycleOptions o;
         o.max_lr = c.get<double>("max_lr", o.max_lr);
         o.total_steps = c.get<int64_t>("total_steps", o.total_steps);
         o.pct_start = c.get<double>("pct_start", o.pct_start);
         o.div_factor = c.get<double>("div_factor", o.div_factor);
         o.final_div_factor = c.get<double>("final_div_factor", o.final_div_factor);
         o.anneal_strategy = c.get<std::string>("anneal_strategy", o.anneal_strategy);
         o.three_phase = c.get<bool>("three_phase", o.three_phase);
         return make_one_cycle(o);
       }},
      {"formula", [](ConfigReader& c) { return make_formula_schedule(c.require<std::string>("formula")); }},
      {"linear_warmup",
       [](ConfigReader& c) {
         LinearWarmupOptions o;
         o.warmup_steps = c.require<int64_t>("warmup_steps");
         o.start_factor = c.get<double>("start_factor", o.start_factor);
         check(c.has("then"), c.where() + ": missing required key 'then' (the schedule to warm up into)");
         return make_linear_warmup(o, make_schedule(c.raw("then"), c.where() + ".then"));
       }},
  };
  return f;
}

}  // namespace

std::unique_ptr<Schedule> make_schedule(const nlohmann::json& config, const std::string& where) {
  if (config.is_string()) {
    try {
      return make_formula_schedule(config.get<std::string>());
    } catch (const Error& e) {
      throw Error(where + ": " + e.what());
    }
  }
  ConfigReader c(config, where);
  const std::string type = c.require<std::string>("type");
  auto it = factories().find(type);
  if (it == factories().end()) {
    std::string known;
    for (const auto& [name, _] : factories()) known += (known.empty() ? "" : ", ") + name;
    throw Error(where + ": unknown schedule type '" + type + "' (known: " + known + ")");
  }
  std::unique_ptr<Schedule> s;
  try {
    s = it->second(c);
  } catch (const Error& e) {
    const std::string msg = e.what();
    throw Error(msg.rfind(where, 0) == 0 ? msg : where + ": " + msg);  // nested configs already name where
  }
  c.finish();
  return s;
}

std::vector<std::string> schedule_types() {
  std::vector<std::string> names;
  for (const auto& [name, _] : factories()) names.push_back(name);
  return names;
}

}  // namespace nnlab
