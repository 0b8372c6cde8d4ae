// A model file (safetensors): the raw reader, then load_model, which rebuilds the architecture from
// the header's metadata and fills it from the tensors, and the experiment kept in the metadata.
#include "fuzz_util.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = nnlab::fuzz::write_scratch("model.safetensors", data, size);
  nnlab::fuzz::expect_refusal_or_success([&] { nnlab::read_safetensors(path); });
  nnlab::fuzz::expect_refusal_or_success([&] {
    std::map<std::string, std::string> meta;
    nnlab::Model m = nnlab::load_model(path, &meta);
    auto it = meta.find("nnlab.experiment");
    if (it != meta.end()) nnlab::Experiment::from_json(nnlab::parse_json(it->second, path), path);  // as `nnlab evaluate` does
  });
  return 0;
}
