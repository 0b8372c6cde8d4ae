// Keras's SwapEMAWeights: validation measures the optimizer's moving average of the weights.
#include "nnlab/error.hpp"
#include "nnlab/model.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/training/callbacks.hpp"

namespace nnlab {

void SwapEMAWeights::on_train_begin(TrainState& s) {
  check(s.model != nullptr && s.optimizer != nullptr, "SwapEMAWeights needs the model and its optimizer");
  check(s.optimizer->ema().use_ema,
        "SwapEMAWeights: the optimizer keeps no moving average of the weights; set its use_ema = true");
  swapped_ = false;
}

void SwapEMAWeights::on_test_begin(TrainState& s) { swapped_ = s.optimizer->swap_average(s.model->params()); }

void SwapEMAWeights::on_test_end(TrainState& s) {
  if (swapped_) s.optimizer->swap_average(s.model->params());
  swapped_ = false;
}

}  // namespace nnlab
