#include <cstdio>
#include <string>

#include "commands.hpp"
#include "nnlab/data/toy.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/lessons.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/report/plot.hpp"

namespace nnlab::cli {

static void print_run(const TruthTableRun& r) {
  std::printf("  %-9s %-4s seed %-3llu outputs [%.3f, %.3f, %.3f, %.3f] targets [%g, %g, %g, %g] loss %.4f  %s\n",
              r.architecture.c_str(), r.table.c_str(), static_cast<unsigned long long>(r.seed), r.outputs[0],
              r.outputs[1], r.outputs[2], r.outputs[3], r.targets[0], r.targets[1], r.targets[2], r.targets[3],
              r.loss, r.all_correct ? "all 4 correct" : "WRONG");
}

void add_lessons(CLI::App& app) {
  auto seeds = std::make_shared<int>(10);
  auto epochs = std::make_shared<int>(1000);
  auto plot_path = std::make_shared<std::string>("xor-regions.svg");
  auto* x = app.add_subcommand("xor", "The XOR lesson: a logistic unit solves AND and OR but not XOR; a 2-8-1 MLP does");
  x->add_option("--seeds", *seeds, "How many seeds to train the MLP with")->check(whole_number(1, 1000))->capture_default_str();
  x->add_option("--epochs", *epochs, "Epochs per run (one batch of 4 each)")->check(whole_number(1, 1000000))->capture_default_str();
  x->add_option("--plot", *plot_path, "SVG of both decision boundaries on XOR (\"\" = none)")->capture_default_str();
  x->callback([seeds, epochs, plot_path] {
    std::printf("Inputs (0,0), (0,1), (1,0), (1,1); binary cross-entropy, SGD lr 0.1, %d epochs, batch 4.\n\n", *epochs);
    std::printf("1. A logistic unit, Dense(1, sigmoid), 3 parameters:\n");
    Model logistic, mlp;
    TruthTableRun logistic_run, mlp_run;
    for (const char* t : {"and", "or", "xor"}) {
      const bool is_xor = std::string(t) == "xor";
      const auto r = train_truth_table(t, "logistic", 1, *epochs, 0.1f, is_xor ? &logistic : nullptr);
      if (is_xor) logistic_run = r;
      print_run(r);
    }
    std::printf("   A single line cannot separate XOR's classes: its outputs stay near 0.5.\n\n");
    std::printf("2. An MLP, Dense(8, relu) then Dense(1, sigmoid), 33 parameters, on XOR:\n");
    int solved = 0;
    for (int s = 1; s <= *seeds; ++s) {
      // Keep seed 1's MLP for the picture, or the first that solves XOR when seed 1 does not.
      Model m;
      const auto r = train_truth_table("xor", "mlp", static_cast<uint64_t>(s), *epochs, 0.1f, &m);
      if (s == 1 || (!mlp_run.all_correct && r.all_correct)) {
        mlp = std::move(m);
        mlp_run = r;
      }
      print_run(r);
      solved += r.all_correct;
    }
    std::printf("   solved XOR with %d of %d seeds\n", solved, *seeds);
    if (!plot_path->empty()) {
      char a[96], b[96];
      std::snprintf(a, sizeof a, "Logistic unit, Dense(1, sigmoid): %s", logistic_run.all_correct ? "solved" : "fails");
      std::snprintf(b, sizeof b, "MLP 2-8-1, seed %llu: %s", static_cast<unsigned long long>(mlp_run.seed),
                    mlp_run.all_correct ? "solved" : "fails");
      plot_decision_regions_side_by_side({{&logistic, a}, {&mlp, b}}, truth_table("xor"), *plot_path,
                                         "XOR: a straight boundary cannot separate the classes; a bent one can");
      std::printf("\nDecision regions: %s\n", plot_path->c_str());
    }
  });

  auto seed = std::make_shared<uint64_t>(42);
  auto* l = app.add_subcommand("linearity", "Stacked linear layers are one linear layer; an activation breaks that");
  l->add_option("--seed", *seed, "Seed for the random weights and inputs")->capture_default_str();
  l->callback([seed] {
    const LinearityReport r = linearity_demo(*seed);
    std::printf("Stack: Dense(%lld->%lld) -> Dense(%lld->%lld) -> Dense(%lld->%lld), no activations.\n",
                (long long)r.sizes[0], (long long)r.sizes[1], (long long)r.sizes[1], (long long)r.sizes[2],
                (long long)r.sizes[2], (long long)r.sizes[3]);
    std::printf("Collapsed into one Dense(%lld->%lld): W = W1 W2 W3, b = (b1 W2 + b2) W3 + b3\n",
                (long long)r.sizes[0], (long long)r.sizes[3]);
    std::printf("W (%lld x %lld):\n", (long long)r.collapsed_w.rows(), (long long)r.collapsed_w.cols());
    for (int64_t i = 0; i < r.collapsed_w.rows(); ++i) {
      std::printf("  [");
      for (int64_t j = 0; j < r.collapsed_w.cols(); ++j) std::printf("%s%9.5f", j ? ", " : "", r.collapsed_w.at(i, j));
      std::printf("]\n");
    }
    std::printf("b: [");
    for (int64_t j = 0; j < r.collapsed_b.cols(); ++j) std::printf("%s%9.5f", j ? ", " : "", r.collapsed_b.at(0, j));
    std::printf("]\n\n");
    std::printf("Largest |stack - single layer| over %lld random inputs: %.3g  (float32 rounding: the same map)\n",
                (long long)r.samples, r.max_diff_linear);
    std::printf("With relu after each hidden layer, same weights:     %.3g  (no longer one linear map)\n",
                r.max_diff_relu);
  });
}

void add_gradcheck(CLI::App& app) {
  struct Args {
    std::string experiment = "xor";
    int64_t samples = 8, per_tensor = 50;
    uint64_t seed = 1;
  };
  auto a = std::make_shared<Args>();
  auto* c = app.add_subcommand("gradcheck", "Check backpropagation: every layer's gradient against finite differences");
  c->add_option("experiment", a->experiment, "Experiment whose model and loss to check")->capture_default_str();
  c->add_option("--samples", a->samples, "Random samples in the batch")->check(whole_number(1, 4096))->capture_default_str();
  c->add_option("--per-tensor", a->per_tensor, "Elements checked per parameter tensor")->check(whole_number(1, 1000000))->capture_default_str();
  c->add_option("--seed", a->seed, "Seed of the weights, inputs and targets")->capture_default_str();
  c->callback([a] {
    const Experiment e = Experiment::load(a->experiment);
    Shape input{2};
    if (e.model.contains("input")) input = e.model["input"].get<Shape>();
    else if (e.data.dataset != "xor" && e.data.dataset != "and" && e.data.dataset != "or") input = {784};
    Model model = build_model(e, input);
    const auto loss = make_loss(e.train.loss, e.train.loss_options);
    Rng rng(a->seed);
    Shape xs = input;
    xs.insert(xs.begin(), a->samples);
    Tensor x(xs);
    for (float& v : x.span()) v = rng.uniform(-1.0f, 1.0f);
    const int64_t outputs = shape_size(model.output_shape());
    const bool classes = loss->targets() == Targets::Classes || loss->targets() == Targets::ClassIndices;
    Tensor y({a->samples, classes ? 1 : outputs});
    for (float& v : y.span())
      v = classes ? static_cast<float>(rng.below(static_cast<uint64_t>(outputs)))
                  : (loss->targets() == Targets::Binary ? static_cast<float>(rng.below(2)) : rng.uniform(-1.0f, 1.0f));
    const GradientCheckReport r = gradient_check(model, *loss, x, y, a->per_tensor, a->seed);
    std::printf("Backpropagation vs central differences (eps 1e-3), %s, loss %s, batch of %lld random samples:\n",
                e.name.c_str(), loss->name().c_str(), static_cast<long long>(a->samples));
    for (const auto& row : r.rows)
      std::printf("  %-28s %6lld elements checked, max error %.2e\n", row.tensor.c_str(), static_cast<long long>(row.checked),
                  row.max_error);
    std::printf("largest error %.2e, tolerance %.0e: %s\n", r.max_error, r.tolerance, r.passed() ? "PASSED" : "FAILED");
    if (!r.passed()) throw Error("gradient check failed: largest error " + std::to_string(r.max_error));
  });
}

}  // namespace nnlab::cli
