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
  std::string to_csv() const;  // header "epoch,<keys...>", one row per epoch
  static History from_csv(const std::string& text, const std::string& source);
  bool empty() const { return logs.empty(); }
};

}  // namespace nnlab
