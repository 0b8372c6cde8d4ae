#include "nnlab/kernels/elementwise.hpp"

#include <omp.h>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <cstring>

namespace nnlab::kernels {
namespace {

// Below this many elements a pass runs on the calling thread: waking the pool costs more.
constexpr int64_t kParallelMin = int64_t{1} << 14;

// Threads worth using for a pass over `elements` values split into `parts` independent pieces.
int threads_for(int64_t elements, int64_t parts) {
  if (elements < kParallelMin || omp_in_parallel()) return 1;
  return static_cast<int>(std::min<int64_t>(omp_get_max_threads(), parts));
}

// Splits [0, n) into `parts` nearly equal ranges (multiples of `align` except the last); range t.
void split(int64_t n, int64_t align, int parts, int t, int64_t& begin, int64_t& end) {
  const int64_t blocks = (n + align - 1) / align;
  begin = std::min(n, blocks * t / parts * align);
  end = std::min(n, blocks * (t + 1) / parts * align);
}

template <bool kRelu, bool kBias>
void bias_activation_rows(float* y, const float* b, int64_t r0, int64_t r1, int64_t cols) {
  for (int64_t r = r0; r < r1; ++r) {
    float* row = y + r * cols;
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) {
      float v = row[c];
      if constexpr (kBias) v += b[c];
      if constexpr (kRelu) v = v > 0.0f ? v : 0.0f;
      row[c] = v;
    }
  }
}

// Columns [c0, c1) of every row: dz = dy * (y > 0) (kRelu) or dy (kWrite copies it), db += dz.
template <bool kRelu, bool kWrite, bool kSum>
void backward_columns(const float* dy, const float* y, float* dz, float* db, int64_t rows, int64_t cols,
                      int64_t c0, int64_t c1) {
  if constexpr (kSum) std::fill(db + c0, db + c1, 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const float* dyr = dy + r * cols;
    const float* yr = kRelu ? y + r * cols : nullptr;
    float* dzr = kWrite ? dz + r * cols : nullptr;
#pragma omp simd
    for (int64_t c = c0; c < c1; ++c) {
      float g = dyr[c];
      if constexpr (kRelu) g = yr[c] > 0.0f ? g : 0.0f;
      if constexpr (kWrite) dzr[c] = g;
      if constexpr (kSum) db[c] += g;
    }
  }
}

template <bool kRelu, bool kWrite, bool kSum>
void backward_pass(const float* dy, const float* y, float* dz, float* db, int64_t rows, int64_t cols) {
  if constexpr (!kSum) {
    // No column sums: each thread takes one contiguous range (a split by columns would have the
    // threads write alternate parts of every row, and share cache lines where a row is narrow).
    const int64_t n = rows * cols;
    const int nt = threads_for(n, n / 1024);
    if (nt <= 1) {
      backward_columns<kRelu, kWrite, false>(dy, y, dz, db, 1, n, 0, n);
      return;
    }
#pragma omp parallel num_threads(nt)
    {
      int64_t b, e;
      split(n, 16, omp_get_num_threads(), omp_get_thread_num(), b, e);
      backward_columns<kRelu, kWrite, false>(dy + b, kRelu ? y + b : nullptr, dz + b, db, 1, e - b, 0, e - b);
    }
    return;
  }
  const int nt = threads_for(rows * cols, (cols + 15) / 16);
  if (nt <= 1) {
    backward_columns<kRelu, kWrite, kSum>(dy, y, dz, db, rows, cols, 0, cols);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int64_t c0, c1;
    split(cols, 16, omp_get_num_threads(), omp_get_thread_num(), c0, c1);
    backward_columns<kRelu, kWrite, kSum>(dy, y, dz, db, rows, cols, c0, c1);
  }
}

}  // namespace

void bias_activation(float* y, const float* b, int64_t rows, int64_t cols, bool relu) {
  if (!b && !relu) return;
  auto rows_pass = [&](int64_t r0, int64_t r1) {
    if (relu && b) bias_activation_rows<true, true>(y, b, r0, r1, cols);
    else if (relu) bias_activation_rows<true, false>(y, b, r0, r1, cols);
    else bias_activation_rows<false, true>(y, b, r0, r1, cols);
  };
  const int nt = threads_for(rows * cols, rows);
  if (nt <= 1) {
    rows_pass(0, rows);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int64_t r0, r1;
    split(rows, 1, omp_get_num_threads(), omp_get_thread_num(), r0, r1);
    rows_pass(r0, r1);
  }
}

void relu_backward_bias_grad(const float* dy, const float* y, float* dz, float* db, int64_t rows, int64_t cols,
                             bool relu) {
  if (relu) {
    if (db) backward_pass<true, true, true>(dy, y, dz, db, rows, cols);
    else backward_pass<true, true, false>(dy, y, dz, db, rows, cols);
    return;
  }
  if (dz != dy) std::memcpy(dz, dy, sizeof(float) * static_cast<size_t>(rows * cols));
  if (db) column_sums(dz, db, rows, cols);
}

void column_sums(const float* d, float* db, int64_t rows, int64_t cols) {
  backward_pass<false, false, true>(d, nullptr, nullptr, db, rows, cols);
}

#if defined(__AVX2__)
// dst[c * ld + r] = src[r * cols + c] for the 8 x 8 block at (r, c).
static inline void transpose8x8(const float* src, int64_t cols, float* dst, int64_t ld) {
  __m256 r0 = _mm256_loadu_ps(src + 0 * cols), r1 = _mm256_loadu_ps(src + 1 * cols);
  __m256 r2 = _mm256_loadu_ps(src + 2 * cols), r3 = _mm256_loadu_ps(src + 3 * cols);
  __m256 r4 = _mm256_loadu_ps(src + 4 * cols), r5 = _mm256_loadu_ps(src + 5 * cols);
  __m256 r6 = _mm256_loadu_ps(src + 6 * cols), r7 = _mm256_loadu_ps(src + 7 * cols);
  const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1);
  const __m256 t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3);
  const __m256 t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5);
  const __m256 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  r0 = _mm256_shuffle_ps(t0, t2, 0x44);
  r1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  r2 = _mm256_shuffle_ps(t1, t3, 0x44);
  r3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  r4 = _mm256_shuffle_ps(t4, t6, 0x44);
  r5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  r6 = _mm256_shuffle_ps(t5, t7, 0x44);
  r7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  _mm256_storeu_ps(dst + 0 * ld, _mm256_permute2f128_ps(r0, r4, 0x20));
  _mm256_storeu_ps(dst + 1 * ld, _mm256_permute2f128_ps(r1, r5, 0x20));
  _mm256_storeu_ps(dst + 2 * ld, _mm256_permute2f128_ps(r2, r6, 0x20));
  _mm256_storeu_ps(dst + 3 * ld, _mm256_permute2f128_ps(r3, r7, 0x20));
  _mm256_storeu_ps(dst + 4 * ld, _mm256_permute2f128_ps(r0, r4, 0x31));
  _mm256_storeu_ps(dst + 5 * ld, _mm256_permute2f128_ps(r1, r5, 0x31));
  _mm256_storeu_ps(dst + 6 * ld, _mm256_permute2f128_ps(r2, r6, 0x31));
  _mm256_storeu_ps(dst + 7 * ld, _mm256_permute2f128_ps(r3, r7, 0x31));
}
#endif

void transpose(const float* src, int64_t rows, int64_t cols, float* dst, int64_t ld) {
  constexpr int64_t kTile = 32;  // 32 x 32 tiles of 8 x 8 blocks: both sides stay in L1
  auto tiles = [&](int64_t c0, int64_t c1) {
    for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile);
      for (int64_t cb = c0; cb < c1; cb += kTile) {
        const int64_t ce = std::min(c1, cb + kTile);
        int64_t r = r0;
#if defined(__AVX2__)
        for (; r + 8 <= r1; r += 8) {
          int64_t c = cb;
          for (; c + 8 <= ce; c += 8) transpose8x8(src + r * cols + c, cols, dst + c * ld + r, ld);
          for (; c < ce; ++c)
            for (int64_t k = r; k < r + 8; ++k) dst[c * ld + k] = src[k * cols + c];
        }
#endif
        for (; r < r1; ++r)
          for (int64_t c = cb; c < ce; ++c) dst[c * ld + r] = src[r * cols + c];
      }
    }
  };
  const int nt = threads_for(rows * cols, (cols + kTile - 1) / kTile);
  if (nt <= 1) {
    tiles(0, cols);
    return;
  }
#pragma omp parallel num_threads(nt)
  {
    int64_t c0, c1;
    split(cols, kTile, omp_get_num_threads(), omp_get_thread_num(), c0, c1);
    tiles(c0, c1);
  }
}

}  // namespace nnlab::kernels
