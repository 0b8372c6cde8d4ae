#include "nnlab/kernels/gemm.hpp"

#include <omp.h>

#include <oneapi/dnnl/dnnl.h>

#include "nnlab/error.hpp"

namespace nnlab::kernels {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
                                beta, c, n);
  check(st == dnnl_success, "gemm: oneDNN sgemm failed with status " + std::to_string(static_cast<int>(st)));
}

void set_num_threads(int n) {
  check(n >= 1, "threads must be at least 1, got " + std::to_string(n));
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace nnlab::kernels
