#include "nnlab/kernels/denormals.hpp"

#include <omp.h>

#include <atomic>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace nnlab::kernels {
namespace {

std::atomic<bool> g_flush{true};

#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFtz = 0x8000;  // MXCSR bit 15: flush to zero
constexpr unsigned kDaz = 0x0040;  // MXCSR bit 6: denormals are zero
#elif defined(__aarch64__)
constexpr unsigned long kFz = 1ul << 24;  // FPCR bit 24: flush to zero (inputs and outputs)
#endif

// Whether the pool would run a region with more than the calling thread.
bool pool_in_reach() { return !omp_in_parallel() && omp_get_max_threads() > 1; }

}  // namespace

void set_flush_denormals(bool flush) { g_flush.store(flush); }
bool flush_denormals() { return g_flush.load(); }

bool thread_flushes_denormals() {
#if defined(__x86_64__) || defined(__i386__)
  return (_mm_getcsr() & (kFtz | kDaz)) == (kFtz | kDaz);
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  return (fpcr & kFz) != 0;
#else
  return false;
#endif
}

bool set_thread_flush_denormals(bool flush) {
  const bool before = thread_flushes_denormals();
#if defined(__x86_64__) || defined(__i386__)
  const unsigned csr = _mm_getcsr();
  _mm_setcsr(flush ? (csr | kFtz | kDaz) : (csr & ~(kFtz | kDaz)));
#elif defined(__aarch64__)
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  fpcr = flush ? (fpcr | kFz) : (fpcr & ~kFz);
  __asm__ volatile("msr fpcr, %0" : : "r"(fpcr));
#else
  (void)flush;
#endif
  return before;
}

DenormalScope::DenormalScope() : flush_(flush_denormals()) {
  caller_before_ = set_thread_flush_denormals(flush_);
  if (!pool_in_reach()) return;
  // The pool's threads persist between regions, so setting each once holds for every later region
  // of the same size or smaller (every oneDNN call and nnlab loop in this scope).
  const bool flush = flush_;
#pragma omp parallel
  set_thread_flush_denormals(flush);
  pool_set_ = true;
}

DenormalScope::~DenormalScope() {
  // The pool goes back to the mode its master thread had: a thread's own earlier mode cannot be
  // told apart from the one it inherited when the pool started it inside a scope.
  if (pool_set_ && caller_before_ != flush_ && pool_in_reach()) {
    const bool before = caller_before_;
#pragma omp parallel
    set_thread_flush_denormals(before);
  }
  set_thread_flush_denormals(caller_before_);
}

}  // namespace nnlab::kernels
