// A formula of epoch, step and lr, parsed once with muParser and evaluated per call. Parsing
// problems are reported here, naming the formula; values are checked by Schedule::validate().
#include <muParser.h>

#include "common.hpp"

namespace nnlab {
namespace {

double floor_fn(double x) { return std::floor(x); }
double ceil_fn(double x) { return std::ceil(x); }

class Formula final : public Schedule {
 public:
  explicit Formula(std::string text) : text_(std::move(text)), p_(std::make_unique<Parsed>()) {
    try {
      p_->parser.DefineVar("epoch", &p_->epoch);
      p_->parser.DefineVar("step", &p_->step);
      p_->parser.DefineVar("lr", &p_->lr);
      p_->parser.DefineFun("floor", floor_fn);
      p_->parser.DefineFun("ceil", ceil_fn);
      p_->parser.SetExpr(text_);
      p_->parser.Eval();  // parses; the value is checked by validate()
      check(p_->parser.GetNumResults() == 1, describe() + ": gives " + std::to_string(p_->parser.GetNumResults()) +
                                                 " values (separated by commas); a rate is one value");
      per_step_ = p_->parser.GetUsedVar().count("step") > 0;
    } catch (const mu::Parser::exception_type& e) {
      std::string why = e.GetMsg();
      if (e.GetCode() == mu::ecUNASSIGNABLE_TOKEN) {
        why = "unknown name '" + e.GetToken() + "' at position " + std::to_string(e.GetPos()) +
              "; the names it may use are epoch, step, lr, _pi, _e and functions such as exp, ln, sqrt, floor, min";
      }
      throw Error(describe() + " does not parse: " + why);
    }
  }

  float rate(int epoch, int64_t step, float base_lr) const override {
    p_->epoch = epoch;
    p_->step = static_cast<double>(step);
    p_->lr = base_lr;
    try {
      return static_cast<float>(p_->parser.Eval());
    } catch (const mu::Parser::exception_type& e) {
      throw Error(describe() + " fails at epoch " + std::to_string(epoch) + " (step " + std::to_string(step) +
                  "): " + e.GetMsg());
    }
  }
  bool per_step() const override { return per_step_; }
  std::string describe() const override { return "learning-rate formula '" + text_ + "'"; }

 private:
  // The parser holds the variables' addresses, so both live together on the heap. Evaluating
  // writes them: one Formula is not to be evaluated from two threads at once.
  struct Parsed {
    mu::Parser parser;
    double epoch = 0, step = 0, lr = 0.001;
  };
  std::string text_;
  std::unique_ptr<Parsed> p_;
  bool per_step_ = false;
};

}  // namespace

std::unique_ptr<Schedule> make_formula_schedule(const std::string& formula) { return std::make_unique<Formula>(formula); }

}  // namespace nnlab
