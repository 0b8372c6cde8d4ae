// A checkpoint file (what `train --resume` reads): load_checkpoint into a small model with an
// optimizer that keeps state (Adam), as a resumed run does.
#include "fuzz_util.hpp"
#include "nnlab/nnlab.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nnlab::Model model = nnlab::Model::from_config(nlohmann::json::parse(R"({"input": [3], "layers": [
      {"type": "dense", "units": 4, "activation": "relu"}, {"type": "batch_norm"},
      {"type": "dense", "units": 2, "activation": "softmax"}]})"), 1);
  const std::string path = nnlab::fuzz::write_scratch("checkpoint.safetensors", data, size);
  nnlab::fuzz::expect_refusal_or_success([&] {
    nnlab::Trainer t(model, nnlab::make_loss("categorical_crossentropy"), nnlab::make_optimizer("adam", {}));
    nnlab::History h;
    nnlab::Trainer::CheckpointExtras extras;
    t.load_checkpoint(path, h, &extras);
  });
  return 0;
}
