// Element-wise passes of the dense layers, fused so each touches its data once, and split across the
// process's OpenMP pool (the one oneDNN uses) when they are big enough to pay for waking it.
// Every result is independent of the thread count: each output element, and each column sum, is
// computed in the same order however the work is split.
#pragma once
#include <cstdint>

namespace nnlab::kernels {

// y (rows, cols) <- y + b, then max(., 0) when relu; in place. b (cols) may be null (no bias).
void bias_activation(float* y, const float* b, int64_t rows, int64_t cols, bool relu);

// dz (rows, cols) <- dy * (y > 0) when relu, else a copy of dy (dz may be dy then: nothing is
// written); db (cols) <- the column sums of dz when db is not null. y is the relu's output, which
// is positive exactly where its input was. dz may alias dy.
void relu_backward_bias_grad(const float* dy, const float* y, float* dz, float* db, int64_t rows, int64_t cols,
                             bool relu);

// db (cols) <- the column sums of d (rows, cols).
void column_sums(const float* d, float* db, int64_t rows, int64_t cols);

// dst (cols, ld) <- src (rows, cols) transposed: dst[c * ld + r] = src[r * cols + c], ld >= rows.
void transpose(const float* src, int64_t rows, int64_t cols, float* dst, int64_t ld);

}  // namespace nnlab::kernels
