// History: the logs of every epoch, as Keras's History callback keeps them.
#pragma once
#include <string>
#include <vector>

#include "nnlab/training/callback.hpp"

namespace nnlab {

class History : public Callback {
 public:
  void on_epoch_end(int epoch, Logs& logs, TrainState&) override;
  std::vector<int> epochs;
  std::vector<Logs> logs;
  // Column `key` over all epochs (NaN where an epoch lacks it).
  std::vector<double> column(const std::string& key) const;
  // Header "epoch,<keys...>", one row per epoch; values to `digits` significant digits (a checkpoint
  // keeps 17, so that a resumed run reads its earlier epochs back exactly).
  std::string to_csv(int digits = 9) const;
  static History from_csv(const std::string& text, const std::string& source);
  bool empty() const { return logs.empty(); }
};

}  // namespace nnlab
