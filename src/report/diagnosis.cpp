#include "nnlab/report/diagnosis.hpp"

#include <cmath>
#include <cstdio>

namespace nnlab {

std::string fit_name(Fit f) {
  switch (f) {
    case Fit::GoodFit: return "good fit";
    case Fit::Overfitting: return "overfitting";
    case Fit::Underfitting: return "underfitting";
    case Fit::Undetermined: break;
  }
  return "undetermined";
}

static std::string fmt(const char* f, double a, double b = 0, double c = 0) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, a, b, c);
  return buf;
}

Diagnosis diagnose(const History& h) {
  Diagnosis d;
  const auto val = h.column("val_loss"), train = h.column("loss");
  const auto acc = h.column("accuracy"), val_acc = h.column("val_accuracy");
  const size_t n = val.size();
  if (n == 0 || std::isnan(val.back())) {
    d.summary = "No validation data, so over- or underfitting cannot be judged.";
    d.cures = {"train with validation data (the test set, or train.validation_split = 0.2)"};
    return d;
  }
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (val[i] < val[best]) best = i;
  d.best_epoch = static_cast<int>(best) + 1;
  d.best_val_loss = val[best];
  d.final_val_loss = val.back();
  d.final_train_loss = train.back();
  d.rise = d.best_val_loss > 0 ? (d.final_val_loss - d.best_val_loss) / d.best_val_loss : 0.0;
  d.still_improving = best + 1 == n;
  const bool has_acc = !std::isnan(acc.back()) && !std::isnan(val_acc.back());
  const double gap = has_acc ? acc.back() - val_acc.back() : 0.0;

  const bool rising = best + 1 < n && d.rise > 0.05 && train.back() < train[best];
  if (rising || gap > 0.10) {
    d.verdict = Fit::Overfitting;
    d.overfitting_from = rising ? d.best_epoch + 1 : 0;
    if (rising) {
      d.summary = fmt("Overfitting from epoch %.0f: validation loss bottomed at %.4f in epoch %.0f", d.overfitting_from,
                      d.best_val_loss, d.best_epoch) +
                  fmt(" and has risen %.0f%% since (to %.4f) while training loss fell to %.4f.", 100.0 * d.rise,
                      d.final_val_loss, d.final_train_loss);
    } else {
      d.summary = fmt("Overfitting: training accuracy %.2f%% is %.1f points above validation accuracy %.2f%%.",
                      100.0 * acc.back(), 100.0 * gap, 100.0 * val_acc.back());
    }
    if (has_acc && rising)
      d.summary += fmt(" Accuracy: training %.2f%%, validation %.2f%%.", 100.0 * acc.back(), 100.0 * val_acc.back());
    d.cures = {"more data: collect it, or augment the images ([augment] rotation, shifts, zoom)",
               "dropout between the dense layers (e.g. rate 0.3)",
               "weight penalties (l2 = 1e-4) or a max-norm constraint",
               "early stopping at the best validation epoch (restore_best_weights)",
               "a smaller network, or an ensemble of several"};
    return d;
  }
  const bool barely_learned = n >= 2 && train.back() > 0.9 * train.front();
  const bool poor_and_close = has_acc && acc.back() < 0.90 && std::fabs(gap) < 0.05;
  if (barely_learned || poor_and_close) {
    d.verdict = Fit::Underfitting;
    d.summary = barely_learned
                    ? fmt("Underfitting: training loss only went from %.4f to %.4f; the model barely learned.",
                          train.front(), train.back())
                    : fmt("Underfitting: training accuracy %.2f%% and validation accuracy %.2f%% are both low and close.",
                          100.0 * acc.back(), 100.0 * val_acc.back());
    d.cures = {"a bigger model: wider or deeper layers", "train longer, or with a better learning rate",
               "another activation (relu instead of sigmoid in hidden layers)",
               "less regularisation (lower dropout or weight penalties)"};
    return d;
  }
  d.verdict = Fit::GoodFit;
  d.summary = fmt("Good fit: validation loss %.4f at its best in epoch %.0f, final %.4f", d.best_val_loss, d.best_epoch,
                  d.final_val_loss);
  d.summary += has_acc ? fmt("; accuracy: training %.2f%%, validation %.2f%%.", 100.0 * acc.back(), 100.0 * val_acc.back())
                       : ".";
  if (d.still_improving) {
    d.summary += " Validation loss was still falling at the last epoch.";
    d.cures = {"train for more epochs: it is still improving"};
  }
  return d;
}

std::string Diagnosis::text() const {
  std::string t = "Diagnosis: " + fit_name(verdict) + "\n" + summary + "\n";
  if (!cures.empty()) {
    t += "What to try:\n";
    for (const auto& c : cures) t += "  - " + c + "\n";
  }
  return t;
}

}  // namespace nnlab
