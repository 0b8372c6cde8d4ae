// nnlab's binary dataset file (.nnds), memory-mapped: open it (header checks), then gather every
// sample once in small batches, streamed (budget 0) or held in memory (first byte's low bit).
#include <numeric>

#include "fuzz_util.hpp"
#include "nnlab/data/binary.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string path = nnlab::fuzz::write_scratch("data.nnds", data + 1, size - 1);
  nnlab::fuzz::expect_refusal_or_success([&] {
    nnlab::MappedDatasetOptions o;
    o.memory_budget = data[0] & 1 ? int64_t{1} << 30 : 0;
    nnlab::MappedDataset d(path, o);
    nnlab::Tensor x, y;
    std::vector<int64_t> idx;
    for (int64_t b = 0; b < d.size() && b < 4096; b += 7) {
      idx.resize(static_cast<size_t>(std::min<int64_t>(7, d.size() - b)));
      std::iota(idx.begin(), idx.end(), b);
      d.gather(idx, x, y);
    }
  });
  return 0;
}
