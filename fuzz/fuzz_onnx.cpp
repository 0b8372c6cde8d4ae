// An ONNX file (io/onnx.hpp): load_onnx parses the protobuf and reads the graph into a model, as
// `nnlab import` does; a model it accepts is exported again (the round trip must not fail).
#include "fuzz_util.hpp"
#include "nnlab/io/onnx.hpp"
#include "nnlab/model.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = nnlab::fuzz::write_scratch("model.onnx", data, size);
  nnlab::fuzz::expect_refusal_or_success([&] {
    nnlab::Model m = nnlab::load_onnx(path);
    nnlab::onnx_export(m);
  });
  return 0;
}
