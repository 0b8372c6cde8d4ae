// Matrix products through oneDNN. Row-major: C(m, n) = alpha * op(A) * op(B) + beta * C,
// op(A) is (m, k), op(B) is (k, n). Threads come from the process-wide OpenMP pool.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace nnlab::kernels {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c);

// The weight gradient of a dense layer: dw (in, out) = x^T (in, rows) * dz (rows, out).
// oneDNN's transposed-A product runs at half speed or less when `in` is a multiple of 256 (a
// row stride of a multiple of 1 KiB), so for those shapes x is first transposed into `scratch`
// (grown once, then reused) with a padded stride and multiplied untransposed.
void weight_gradient(int64_t rows, int64_t in, int64_t out, const float* x, const float* dz, float* dw,
                     std::vector<float>& scratch);

// The one thread knob: oneDNN and nnlab's own loops share the OpenMP pool. n must be in
// [1, max_threads()]; more threads than that only slow training down, and far more overflow
// OpenMP's stacks.
void set_num_threads(int n);
int num_threads();
// The most threads nnlab accepts: 8 per core of this machine, and never fewer than 64.
int max_threads();
// What a thread count must be: "a whole number from 1 to 64 (this machine has 2 cores)".
std::string threads_rule();

}  // namespace nnlab::kernels
