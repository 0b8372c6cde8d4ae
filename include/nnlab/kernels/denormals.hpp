// Denormal (subnormal) floats: magnitudes below 1.18e-38 that float32 keeps with fewer significant bits.
// Training produces them (Adam's second moments, tiny gradients), and some processors handle every
// operation on one in microcode: the course MLP on Fashion-MNIST, measured on an Intel Xeon, stepped at
// 5.3 ms in its first epoch and 21-24 ms from the second on, against 5.1-6.1 ms with them flushed.
// So, as TensorFlow does in its compute threads, nnlab computes with flush-to-zero (FTZ: a denormal
// result becomes 0) and denormals-are-zero (DAZ: a denormal input reads as 0). The values involved are
// far below anything that changes a trained network.
//
// DenormalScope applies the process-wide choice to the calling thread and to every thread of its
// OpenMP pool (which oneDNN and nnlab's own loops use) for as long as it lives, then puts back the calling
// thread's earlier mode on both. Trainer::fit, Trainer::evaluate and Model::predict open one, so a program that embeds nnlab gets
// it too; threads nnlab starts itself (the batch prefetcher, ensemble members) start in the mode of the
// thread that made them. set_flush_denormals(false) keeps IEEE gradual underflow for whoever needs it
// (experiment key `flush_denormals = false`, `nnlab train --keep-denormals`).
#pragma once

namespace nnlab::kernels {

// The process-wide choice, true (flush) by default.
void set_flush_denormals(bool flush);
bool flush_denormals();

// Whether the calling thread now flushes denormals: FTZ and DAZ both set (x86-64), FZ set (AArch64).
// Always false on processors where nnlab cannot control it.
bool thread_flushes_denormals();
// Sets or clears the calling thread's FTZ and DAZ (or FZ); returns the previous state.
bool set_thread_flush_denormals(bool flush);

class DenormalScope {
 public:
  DenormalScope();
  ~DenormalScope();
  DenormalScope(const DenormalScope&) = delete;
  DenormalScope& operator=(const DenormalScope&) = delete;

 private:
  bool flush_;                 // the mode this scope applies
  bool caller_before_ = false;  // the calling thread's mode before
  bool pool_set_ = false;       // whether the OpenMP pool was set too
};

}  // namespace nnlab::kernels
