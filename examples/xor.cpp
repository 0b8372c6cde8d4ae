// Trains the course's XOR network through the C++ API: Dense(8, relu), Dense(1, sigmoid),
// binary cross-entropy, SGD lr 0.1, 1,000 epochs of one batch.
#include <cstdio>
#include <nnlab/nnlab.hpp>

int main() {
  nnlab::InMemoryDataset xor_data(nnlab::Tensor({4, 2}, {0, 0, 0, 1, 1, 0, 1, 1}),
                                  nnlab::Tensor({4, 1}, {0, 1, 1, 0}), 2);

  nnlab::Model model;
  model.add<nnlab::Dense>(8, "relu").add<nnlab::Dense>(1, "sigmoid");
  model.build({2}, /*seed=*/1);
  std::printf("%s", model.summary().c_str());

  nnlab::Trainer trainer(model, nnlab::make_loss("binary_crossentropy"),
                         nnlab::make_optimizer("sgd", {{"learning_rate", 0.1}}));
  nnlab::FitOptions fit;
  fit.epochs = 1000;
  fit.batch_size = 4;
  fit.verbose = 0;
  trainer.fit(xor_data, fit);

  const nnlab::Tensor out = model.predict(xor_data.x());
  int correct = 0;
  for (int i = 0; i < 4; ++i) {
    std::printf("xor(%g, %g) = %.3f\n", xor_data.x().at(i, 0), xor_data.x().at(i, 1), out[i]);
    correct += (out[i] > 0.5f) == (xor_data.y()[i] > 0.5f);
  }
  std::printf("%d of 4 correct\n", correct);
  return correct == 4 ? 0 : 1;
}
