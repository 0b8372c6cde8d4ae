// Independent jobs (ensemble members, a tuner's trials) trained side by side: a pool of threads,
// each with its own share of the OpenMP threads, taking the next job until none is left. One job's
// failure stops the others from starting and is rethrown once all threads have ended.
#pragma once
#include <cstddef>
#include <functional>

namespace nnlab::kernels {

// Runs job(i, side_by_side) for every i in [0, n): one after another on this thread when parallel
// <= 1 (side_by_side false), else on `parallel` threads, each of which first sets its OpenMP pool
// to threads_each threads (side_by_side true). Rethrows the first job's exception.
void run_side_by_side(size_t n, int parallel, int threads_each, const std::function<void(size_t, bool)>& job);

// How many jobs to run side by side when asked for 0 (automatic): one per OpenMP thread
// (num_threads(), which OMP_NUM_THREADS sets), at most `jobs`, at least 1.
int default_parallelism(int jobs);

}  // namespace nnlab::kernels
