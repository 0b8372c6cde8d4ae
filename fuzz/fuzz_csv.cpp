// A CSV dataset file (Kaggle's image layouts): the first byte picks the options (header detection,
// the label column, pixel range check, standardisation), the rest is the file.
#include "fuzz_util.hpp"
#include "nnlab/data/readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t o = data[0];
  const std::string path = nnlab::fuzz::write_scratch("data.csv", data + 1, size - 1);
  nnlab::fuzz::expect_refusal_or_success([&] {
    nnlab::CsvOptions c;
    c.header = o & 1 ? nnlab::CsvOptions::Header::Auto : (o & 2 ? nnlab::CsvOptions::Header::Yes : nnlab::CsvOptions::Header::No);
    if (o & 4) c.label_index = (o >> 4) & 3;
    c.check_pixel_range = !(o & 8);
    if (o & 64) c.delimiter = ';';
    nnlab::Preprocess p;
    p.standardise = o & 128;
    p.flatten = !(o & 32);
    if (!p.flatten) c.image_shape = {2, 2};
    nnlab::read_csv(path, c, p);
  });
  return 0;
}
