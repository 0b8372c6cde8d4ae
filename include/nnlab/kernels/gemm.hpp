// Matrix products through oneDNN. Row-major: C(m, n) = alpha * op(A) * op(B) + beta * C,
// op(A) is (m, k), op(B) is (k, n). Threads come from the process-wide OpenMP pool.
#pragma once
#include <cstdint>

namespace nnlab::kernels {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c);

// The one thread knob: oneDNN and nnlab's own loops share the OpenMP pool.
void set_num_threads(int n);
int num_threads();

}  // namespace nnlab::kernels
