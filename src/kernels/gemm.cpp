#include "nnlab/kernels/gemm.hpp"

#include <omp.h>

#include <algorithm>
#include <thread>

#include <oneapi/dnnl/dnnl.h>

#include "nnlab/error.hpp"
#include "nnlab/kernels/elementwise.hpp"

namespace nnlab::kernels {

void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
          const float* b, float beta, float* c) {
  if (m == 0 || n == 0) return;
  const int64_t lda = trans_a ? m : k;
  const int64_t ldb = trans_b ? k : n;
  dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb,
                                beta, c, n);
  if (st != dnnl_success) throw Error("gemm: oneDNN sgemm failed with status " + std::to_string(static_cast<int>(st)));
}

void weight_gradient(int64_t rows, int64_t in, int64_t out, const float* x, const float* dz, float* dw,
                     std::vector<float>& scratch) {
  // Measured with bench_vs_pytorch's shapes (docs/PERFORMANCE.md): for in = 256, 512, 1024 and
  // out >= 128 the copy costs a few percent of the product and the product runs 1.2-2.3x faster.
  const bool copy = in % 256 == 0 && out >= 128 && rows >= 8;
  if (!copy) {
    gemm(true, false, in, out, rows, 1.0f, x, dz, 0.0f, dw);
    return;
  }
  const int64_t ld = rows + 16;  // not a multiple of 1 KiB
  if (scratch.size() < static_cast<size_t>(in * ld)) scratch.resize(static_cast<size_t>(in * ld));
  transpose(x, rows, in, scratch.data(), ld);
  const dnnl_status_t st = dnnl_sgemm('N', 'N', in, out, rows, 1.0f, scratch.data(), ld, dz, out, 0.0f, dw, out);
  if (st != dnnl_success) throw Error("gemm: oneDNN sgemm failed with status " + std::to_string(static_cast<int>(st)));
}

int max_threads() { return std::max(64, 8 * static_cast<int>(std::thread::hardware_concurrency())); }

std::string threads_rule() {
  const unsigned cores = std::thread::hardware_concurrency();
  return "a whole number from 1 to " + std::to_string(max_threads()) + " (this machine has " +
         (cores ? std::to_string(cores) : std::string("an unknown number of")) + " cores)";
}

void set_num_threads(int n) {
  check(n >= 1 && n <= max_threads(), "threads must be " + threads_rule() + ", got " + std::to_string(n));
  omp_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace nnlab::kernels
