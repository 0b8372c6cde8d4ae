// The course's central lesson, applied to a finished run: is the model overfitting (training loss
// falls while validation loss rises), underfitting (both poor and close together), or a good fit?
// Each verdict comes with the cures the course teaches.
//
// Rules (epochs are 1-based, as printed):
// - no validation data: undetermined.
// - overfitting: the best validation loss came before the last epoch, the final validation loss is
//   more than 5% above it, and the training loss kept falling after it; or the final training
//   accuracy exceeds the validation accuracy by more than 10 points. Overfitting begins at the epoch
//   after the best one.
// - underfitting: the training loss at the end is above 90% of the first epoch's (it barely
//   learned), or training accuracy stays below 90% with validation accuracy within 5 points of it.
// - otherwise a good fit (and "still improving" when the best epoch is the last).
#pragma once
#include <string>
#include <vector>

#include "nnlab/training/history.hpp"

namespace nnlab {

enum class Fit { GoodFit, Overfitting, Underfitting, Undetermined };

struct Diagnosis {
  Fit verdict = Fit::Undetermined;
  int best_epoch = 0;        // 1-based epoch of the lowest validation loss
  int overfitting_from = 0;  // 1-based; 0 when not overfitting
  double best_val_loss = 0, final_val_loss = 0, final_train_loss = 0;
  double rise = 0;           // (final - best) / best validation loss
  bool still_improving = false;
  std::string summary;             // one or two sentences with the figures
  std::vector<std::string> cures;  // what to try, from the course
  std::string text() const;        // summary plus the cures, for printing and diagnosis.txt
};

std::string fit_name(Fit f);  // "good fit", "overfitting", "underfitting", "undetermined"
Diagnosis diagnose(const History& history);

}  // namespace nnlab
