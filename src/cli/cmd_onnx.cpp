// `nnlab export` (a run folder or model file -> ONNX) and `nnlab import` (ONNX -> a run folder's
// model.safetensors). The work is in the library (io/onnx.hpp); these parse the flags.
#include <cstdio>
#include <string>

#include "commands.hpp"
#include "nnlab/ensemble.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/onnx.hpp"

namespace nnlab::cli {

void add_onnx(CLI::App& app) {
  struct ExportArgs {
    std::string model, format = "onnx", out, combination;
  };
  auto ea = std::make_shared<ExportArgs>();
  auto* ex = app.add_subcommand("export", "Write a trained model (a run folder or model file) as an ONNX file");
  ex->add_option("model", ea->model, "Run folder, model file (.safetensors), or ensemble folder / ensemble.json")
      ->required();
  ex->add_option("--format", ea->format, "The file format (onnx)")->capture_default_str();
  ex->add_option("--out", ea->out, "The file to write, e.g. model.onnx")->required();
  ex->add_option("--combination", ea->combination,
                 "For an ensemble: vote, average or stacking (default: the ensemble's)");
  ex->callback([ea] {
    check(ea->format == "onnx", "--format must be onnx, got '" + ea->format + "'");
    if (is_ensemble_path(ea->model)) {
      Ensemble ensemble = load_ensemble(ea->model);
      const Combination c = ea->combination.empty() ? ensemble.default_combination() : parse_combination(ea->combination);
      save_ensemble_onnx(ensemble, c, ea->out);
      std::printf("wrote %s (ONNX, opset %d): %zu members, %s\n", ea->out.c_str(), kOnnxOpset, ensemble.size(),
                  combination_name(c).c_str());
      return;
    }
    check(ea->combination.empty(), "--combination applies to ensembles only; " + ea->model + " is one model");
    export_onnx_file(ea->model, ea->out);
    std::printf("wrote %s (ONNX, opset %d)\n", ea->out.c_str(), kOnnxOpset);
  });

  struct ImportArgs {
    std::string file, out, experiment;
  };
  auto ia = std::make_shared<ImportArgs>();
  auto* im = app.add_subcommand("import", "Read an ONNX model (an MLP) into a run folder that evaluate and predict use");
  im->add_option("file", ia->file, "The ONNX file")->required();
  im->add_option("--out", ia->out, "The run folder to write (model.safetensors in it)")->required();
  im->add_option("--experiment", ia->experiment,
                 "The experiment whose data and loss `nnlab evaluate` uses for it (default: the one the file "
                 "carries, if nnlab wrote it)");
  im->callback([ia] {
    std::map<std::string, std::string> extra;
    if (!ia->experiment.empty()) extra["nnlab.experiment"] = Experiment::load(ia->experiment).config.dump();
    Model model = import_onnx_file(ia->file, ia->out, extra);
    std::printf("imported %s into %s: %zu layers, %lld parameters\n", ia->file.c_str(), ia->out.c_str(),
                model.num_layers(), static_cast<long long>(model.param_count()));
  });
}

}  // namespace nnlab::cli
