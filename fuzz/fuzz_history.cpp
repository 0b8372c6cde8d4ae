// A run's history.csv, as `nnlab plot` reads it: History::from_csv, then the charts (SVG) and the
// fit diagnosis drawn from it.
#include "fuzz_util.hpp"
#include "nnlab/report/diagnosis.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/training/history.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  nnlab::fuzz::expect_refusal_or_success([&] {
    const nnlab::History h = nnlab::History::from_csv(text, "history.csv");
    nnlab::plot_history(h, nnlab::fuzz::scratch_path("plot-"));
    nnlab::diagnose(h).text();
  });
  return 0;
}
