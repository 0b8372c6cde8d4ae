#include "nnlab/data/toy.hpp"

#include "nnlab/error.hpp"

namespace nnlab {

InMemoryDataset truth_table(const std::string& name) {
  const std::vector<float> x{0, 0, 0, 1, 1, 0, 1, 1};
  std::vector<float> y;
  if (name == "xor") y = {0, 1, 1, 0};
  else if (name == "and") y = {0, 0, 0, 1};
  else if (name == "or") y = {0, 1, 1, 1};
  else throw Error("unknown truth table '" + name + "' (known: xor, and, or)");
  InMemoryDataset d(Tensor({4, 2}, x), Tensor({4, 1}, y), 2);
  d.name = name;
  return d;
}

}  // namespace nnlab
