#include <nlohmann/json.hpp>

#include "nnlab/data/toy.hpp"
#include "nnlab/error.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/lessons.hpp"
#include "nnlab/training/trainer.hpp"

namespace nnlab {

Model truth_table_model(const std::string& architecture, uint64_t seed) {
  Model m;
  if (architecture == "logistic") {
    m.add<Dense>(1, "sigmoid");
  } else if (architecture == "mlp") {
    m.add<Dense>(8, "relu").add<Dense>(1, "sigmoid");
  } else {
    throw Error("unknown truth-table architecture '" + architecture + "' (known: logistic, mlp)");
  }
  m.build({2}, seed);
  return m;
}

TruthTableRun train_truth_table(const std::string& table, const std::string& architecture, uint64_t seed,
                                int epochs, float learning_rate, Model* trained) {
  const InMemoryDataset data = truth_table(table);
  Model model = truth_table_model(architecture, seed);
  Trainer trainer(model, make_loss("binary_crossentropy"),
                  make_optimizer("sgd", {{"learning_rate", learning_rate}}));
  FitOptions fit;
  fit.epochs = epochs;
  fit.batch_size = 4;
  fit.seed = seed;
  fit.verbose = 0;
  trainer.fit(data, fit);

  TruthTableRun run;
  run.table = table;
  run.architecture = architecture;
  run.seed = seed;
  const Tensor out = model.predict(data.x());
  run.outputs.assign(out.data(), out.data() + out.size());
  run.targets.assign(data.y().data(), data.y().data() + data.y().size());
  run.loss = trainer.evaluate(data)["loss"];
  run.params = model.param_count();
  run.all_correct = true;
  for (size_t i = 0; i < run.outputs.size(); ++i)
    run.all_correct = run.all_correct && ((run.outputs[i] > 0.5f) == (run.targets[i] > 0.5f));
  if (trained) *trained = std::move(model);
  return run;
}

}  // namespace nnlab
