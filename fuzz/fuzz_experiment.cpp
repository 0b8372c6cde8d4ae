// An experiment file, TOML or JSON (the first byte's low bit picks the extension, as the command
// line does by name): parse_config_file, then Experiment::from_json, which checks every table.
#include "fuzz_util.hpp"
#include "nnlab/experiment.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string path = nnlab::fuzz::write_scratch(data[0] & 1 ? "exp.json" : "exp.toml", data + 1, size - 1);
  nnlab::fuzz::expect_refusal_or_success([&] {
    const nlohmann::json config = nnlab::parse_config_file(path);
    nnlab::Experiment::from_json(config, path);
  });
  return 0;
}
