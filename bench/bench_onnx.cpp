// ONNX export and import of a trained model and its single-sample prediction latency, for
// bench/onnx_vs_ort.py, which runs the same model in ONNX Runtime in the same run and prints both.
//
// usage: bench_onnx RUN_FOLDER_OR_MODEL OUT.onnx [REPEATS]
// Prints one JSON line: export and import seconds (the best of 5), and the single-sample predict
// latency in microseconds (median and 10th percentile of REPEATS calls, after 200 warm-up calls) on
// one fixed input that it writes beside OUT.onnx (OUT.onnx.input.f32) for ONNX Runtime to reuse.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/io/safetensors.hpp"

using Clock = std::chrono::steady_clock;

static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int main(int argc, char** argv) try {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s RUN_FOLDER_OR_MODEL OUT.onnx [REPEATS]\n", argv[0]);
    return 2;
  }
  const std::string in = argv[1], out = argv[2];
  const int repeats = argc > 3 ? std::stoi(argv[3]) : 5000;
  const std::string model_file =
      std::filesystem::is_directory(in) ? (std::filesystem::path(in) / "model.safetensors").string() : in;
  nnlab::Model model = nnlab::load_model(model_file);
  double export_s = 1e9, import_s = 1e9;
  for (int i = 0; i < 5; ++i) {
    auto t = Clock::now();
    nnlab::export_onnx_file(in, out);
    export_s = std::min(export_s, seconds_since(t));
    t = Clock::now();
    nnlab::Model back = nnlab::load_onnx(out);
    import_s = std::min(import_s, seconds_since(t));
  }
  const int64_t width = nnlab::shape_size(model.input_shape());
  nnlab::Shape shape{1};
  shape.insert(shape.end(), model.input_shape().begin(), model.input_shape().end());
  nnlab::Tensor x(shape);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  for (int64_t i = 0; i < width; ++i) x.data()[i] = u(rng);
  std::ofstream(out + ".input.f32", std::ios::binary)
      .write(reinterpret_cast<const char*>(x.data()), static_cast<std::streamsize>(width * sizeof(float)));
  for (int i = 0; i < 200; ++i) model.predict(x);
  std::vector<double> us(static_cast<size_t>(repeats));
  for (double& v : us) {
    const auto t = Clock::now();
    const nnlab::Tensor y = model.predict(x);
    v = seconds_since(t) * 1e6;
  }
  std::sort(us.begin(), us.end());
  std::printf("{\"export_s\": %.6f, \"import_s\": %.6f, \"file_bytes\": %lld, \"predict_us_median\": %.2f, "
              "\"predict_us_p10\": %.2f, \"repeats\": %d, \"parameters\": %lld}\n",
              export_s, import_s, static_cast<long long>(std::filesystem::file_size(out)), us[us.size() / 2],
              us[us.size() / 10], repeats, static_cast<long long>(model.param_count()));
  return 0;
} catch (const nnlab::Error& e) {
  std::fprintf(stderr, "bench_onnx: error: %s\n", e.what());
  return 1;
}
