// The course's toy datasets: the truth tables of XOR, AND and OR (inputs {0,1}^2, one 0/1 target).
#pragma once
#include <string>

#include "nnlab/data/dataset.hpp"

namespace nnlab {

// name: "xor", "and" or "or". Targets are (4, 1) and the dataset has 2 classes.
InMemoryDataset truth_table(const std::string& name);

}  // namespace nnlab
