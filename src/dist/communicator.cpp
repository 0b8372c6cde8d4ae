// The MPI side of data-parallel training. Compiled with NNLAB_HAVE_MPI when the build found MPI
// (CMake option NNLAB_MPI); without it every operation is the single-rank no-op.
#include "nnlab/dist/communicator.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "nnlab/error.hpp"

#ifdef NNLAB_HAVE_MPI
#include <mpi.h>
#endif

namespace nnlab::dist {

namespace {
int g_rank = 0, g_size = 1;

#ifdef NNLAB_HAVE_MPI
bool running() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}
#endif
}  // namespace

bool built_with_mpi() {
#ifdef NNLAB_HAVE_MPI
  return true;
#else
  return false;
#endif
}

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

Session::Session([[maybe_unused]] int& argc, [[maybe_unused]] char**& argv) {
  if (!launched_by_mpi()) return;
#ifdef NNLAB_HAVE_MPI
  if (running()) return;  // a program that started MPI itself
  int provided = 0;
  // Only the thread that trains calls MPI (the prefetch worker and OpenMP threads never do).
  MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
  started_ = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
#else
  const char* n = std::getenv("OMPI_COMM_WORLD_SIZE");
  if (n && std::atoi(n) > 1)
    throw Error("launched by mpirun with " + std::string(n) +
                " processes, but this nnlab was built without MPI (install libopenmpi-dev and rebuild with "
                "-DNNLAB_MPI=ON); each process would train alone");
#endif
}

Session::~Session() {
#ifdef NNLAB_HAVE_MPI
  if (started_ && running()) MPI_Finalize();
#endif
  g_rank = 0;
  g_size = 1;
}

LocalScope::LocalScope() : rank_(g_rank), size_(g_size) {
  g_rank = 0;
  g_size = 1;
}

LocalScope::~LocalScope() {
  g_rank = rank_;
  g_size = size_;
}

int rank() { return g_rank; }
int size() { return g_size; }

void abort(const std::string& message, int code) {
  std::fprintf(stderr, "%s\n", message.c_str());
  std::fflush(stderr);
  std::fflush(stdout);
#ifdef NNLAB_HAVE_MPI
  if (running() && g_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::exit(code);
}

int fail(const std::string& message, int code) {
  if (g_size < 2) {
    std::fprintf(stderr, "%s\n", message.c_str());
    return code;
  }
  if (g_rank == 0) abort(message, code);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  abort(message + " (on rank " + std::to_string(g_rank) + " of " + std::to_string(g_size) + ")", code);
}

void broadcast([[maybe_unused]] std::span<float> data) {
#ifdef NNLAB_HAVE_MPI
  if (g_size < 2) return;
  // In pieces below INT_MAX values (MPI counts are int).
  constexpr size_t piece = size_t{1} << 30;
  for (size_t at = 0; at < data.size(); at += piece)
    MPI_Bcast(data.data() + at, static_cast<int>(std::min(piece, data.size() - at)), MPI_FLOAT, 0, MPI_COMM_WORLD);
#endif
}

void broadcast([[maybe_unused]] std::string& text) {
#ifdef NNLAB_HAVE_MPI
  if (g_size < 2) return;
  unsigned long long n = text.size();
  MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
  text.resize(n);
  MPI_Bcast(text.data(), static_cast<int>(n), MPI_CHAR, 0, MPI_COMM_WORLD);
#endif
}

void broadcast_value([[maybe_unused]] double& value) {
#ifdef NNLAB_HAVE_MPI
  if (g_size > 1) MPI_Bcast(&value, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
#endif
}

void sum([[maybe_unused]] std::span<double> values) {
#ifdef NNLAB_HAVE_MPI
  if (g_size < 2 || values.empty()) return;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#endif
}

double sum(double value) {
  sum(std::span<double>(&value, 1));
  return value;
}

void average([[maybe_unused]] std::span<float> values) {
#ifdef NNLAB_HAVE_MPI
  if (g_size < 2 || values.empty()) return;
  MPI_Allreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
  const float inv = 1.0f / static_cast<float>(g_size);
  for (float& v : values) v *= inv;
#endif
}

void barrier() {
#ifdef NNLAB_HAVE_MPI
  if (g_size > 1) MPI_Barrier(MPI_COMM_WORLD);
#endif
}

Share share(int64_t count, int r, int ranks) {
  const int64_t first = count * r / ranks, last = count * (r + 1) / ranks;
  return {first, last - first};
}

std::vector<size_t> dealt(size_t count, int r, int ranks) {
  std::vector<size_t> mine;
  for (size_t i = static_cast<size_t>(r); i < count; i += static_cast<size_t>(ranks)) mine.push_back(i);
  return mine;
}

// --- GradientReducer ---------------------------------------------------------------------------

struct GradientReducer::Requests {
#ifdef NNLAB_HAVE_MPI
  std::vector<MPI_Request> pending;
#endif
};

int64_t GradientReducer::default_bucket_bytes() {
  if (const char* v = std::getenv("NNLAB_BUCKET_BYTES")) {
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);
    check(end != v && *end == 0 && n >= 4, std::string("NNLAB_BUCKET_BYTES must be a number of bytes, at least 4, got '") + v + "'");
    return n;
  }
  return int64_t{1} << 20;
}

GradientReducer::GradientReducer(int64_t bucket_bytes)
    : bucket_bytes_(bucket_bytes), requests_(std::make_unique<Requests>()) {
  check(bucket_bytes >= 4, "gradient buckets must hold at least one value, got " + std::to_string(bucket_bytes) + " bytes");
}

GradientReducer::~GradientReducer() {
#ifdef NNLAB_HAVE_MPI
  // A step abandoned by an exception: its sums must still complete before the buffer goes.
  if (!requests_->pending.empty() && running())
    MPI_Waitall(static_cast<int>(requests_->pending.size()), requests_->pending.data(), MPI_STATUSES_IGNORE);
#endif
}

void GradientReducer::begin(std::span<float> grads, float weight) {
  grads_ = grads;
  weight_ = weight;
  pending_end_ = grads.size();
}

void GradientReducer::ready(size_t offset) {
  if (g_size < 2) return;
  const auto bucket = static_cast<size_t>(bucket_bytes_) / sizeof(float);
  if (pending_end_ - offset >= bucket) {
    // A bucket that reaches offset 0 starts when backward has finished every gradient: it has
    // nothing left to hide behind, so it does not count as overlapping.
    start(offset, pending_end_, offset > 0);
    pending_end_ = offset;
  }
#ifdef NNLAB_HAVE_MPI
  // Open MPI moves a non-blocking collective forward only inside MPI calls: a test per layer lets the
  // buckets already started progress while backward continues.
  if (!requests_->pending.empty()) {
    int done = 0;
    MPI_Testall(static_cast<int>(requests_->pending.size()), requests_->pending.data(), &done, MPI_STATUSES_IGNORE);
  }
#endif
}

void GradientReducer::start([[maybe_unused]] size_t from, [[maybe_unused]] size_t to,
                            [[maybe_unused]] bool during_backward) {
#ifdef NNLAB_HAVE_MPI
  if (to <= from) return;
  const auto n = static_cast<int64_t>(to - from);
  timing_.values += n;
  ++timing_.buckets;
  if (during_backward) timing_.values_during_backward += n, ++timing_.buckets_during_backward;
  float* g = grads_.data();
  if (weight_ != 1.0f)
    for (size_t i = from; i < to; ++i) g[i] *= weight_;
  constexpr size_t piece = size_t{1} << 30;
  for (size_t at = from; at < to; at += piece) {
    MPI_Request r;
    MPI_Iallreduce(MPI_IN_PLACE, g + at, static_cast<int>(std::min(piece, to - at)), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD,
                   &r);
    requests_->pending.push_back(r);
  }
#endif
}

void GradientReducer::finish() {
  if (g_size < 2) return;
#ifdef NNLAB_HAVE_MPI
  start(0, pending_end_, false);
  pending_end_ = 0;
  const auto t0 = std::chrono::steady_clock::now();
  MPI_Waitall(static_cast<int>(requests_->pending.size()), requests_->pending.data(), MPI_STATUSES_IGNORE);
  timing_.wait_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++timing_.steps;
  requests_->pending.clear();
#endif
}

}  // namespace nnlab::dist
