// Data-parallel training across processes (MPI ranks): who this process is among the ranks, and the
// few collective operations training needs. Built with MPI (CMake option NNLAB_MPI) and launched by
// mpirun, a process is one rank of several; otherwise, or without a Session, it is rank 0 of 1 and
// every operation here is a no-op, so the library behaves exactly as a single process.
//
// Every collective must be called by all ranks in the same order (as MPI requires): the trainer calls
// them at the same points of every step on every rank.
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace nnlab::dist {

// True when nnlab was built with MPI.
bool built_with_mpi();
// True when this process was started by an MPI launcher (mpirun / srun set their rank variables).
bool launched_by_mpi();

// Starts MPI for the process's lifetime when launched by an MPI launcher (and nnlab has MPI): the
// command line's main() holds one, and so should a C++ program that trains on several ranks.
// Without a launcher it does nothing. Throws nnlab::Error when launched by mpirun but built without MPI
// (every process would train alone and write the same run folder).
class Session {
 public:
  Session(int& argc, char**& argv);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

 private:
  bool started_ = false;
};

// Makes this process a rank of one while it lives: what runs inside trains on its own (a rank's own
// ensemble members), writes as rank 0 would and calls no collective. Not for use across threads that
// keep training collectively meanwhile.
class LocalScope {
 public:
  LocalScope();
  ~LocalScope();
  LocalScope(const LocalScope&) = delete;
  LocalScope& operator=(const LocalScope&) = delete;
  int world_rank() const { return rank_; }  // this process's place among the ranks outside the scope
  int world_size() const { return size_; }

 private:
  int rank_, size_;
};

int rank();  // 0 .. size()-1; 0 without a session
int size();  // the number of ranks; 1 without a session
inline bool is_root() { return rank() == 0; }
inline bool active() { return size() > 1; }

// Ends every rank (MPI_Abort) after printing `message` on stderr, once: the way one failing rank
// brings the others down instead of leaving them waiting in a collective. Without MPI, exits.
[[noreturn]] void abort(const std::string& message, int code);

// How a program ends on an error: alone, it prints `message` and returns `code` (for main to return);
// among several ranks, which wait for each other in every step, it ends them all (abort). Rank 0
// reports at once; another rank first gives rank 0 two seconds, so an error every rank meets (a
// diverged loss) is reported once, by rank 0, and an error of its own (its shard's data, its memory)
// is still reported, naming its rank, within seconds.
int fail(const std::string& message, int code);

// Collectives (no-ops with one rank).
void broadcast(std::span<float> data);  // rank 0's values to every rank
void broadcast(std::string& text);      // rank 0's text to every rank
void broadcast_value(double& value);    // rank 0's value to every rank
void sum(std::span<double> values);     // in place: the sum over ranks, on every rank
double sum(double value);
void average(std::span<float> values);  // in place: the mean over ranks, on every rank
void barrier();

// The contiguous share of `count` items that rank `r` of `ranks` takes: [first, first + n), the
// shares differing by at most one item, in rank order (rank 0 first).
struct Share {
  int64_t first = 0, n = 0;
};
Share share(int64_t count, int r, int ranks);

// Whole tasks dealt out one by one (sweep variants, tuning trials, ensemble members): rank r takes
// items r, r + ranks, r + 2 ranks, ... of `count`; dealer(i) is the rank that takes item i.
std::vector<size_t> dealt(size_t count, int r, int ranks);
inline int dealer(size_t i, int ranks) { return static_cast<int>(i % static_cast<size_t>(ranks)); }

// Sums a flat gradient buffer over the ranks in buckets, each started (MPI_Iallreduce) as soon as the
// backward pass has finished the gradients it covers, so communication overlaps the rest of backward.
// Backward fills the buffer from its end to its start (the last layer first): ready(offset) says that
// every value from `offset` to the end is final. Each rank scales its values by `weight` before they
// are summed (its share of the global batch, so the sum is the global batch's mean gradient).
class GradientReducer {
 public:
  explicit GradientReducer(int64_t bucket_bytes = default_bucket_bytes());
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  void begin(std::span<float> grads, float weight);  // a new step over this buffer
  void ready(size_t offset);                         // grads[offset, end) are final
  void finish();  // starts what is left, waits for every bucket; the buffer then holds the sum

  // What the steps since the last reset did (with several ranks; all zero with one): how long they
  // waited in finish() for the sums (the part not hidden behind backward), and how many values and
  // buckets were started while backward still had gradients to compute (by ready() before the
  // buffer's start is final) rather than once it had none left.
  struct Timing {
    double wait_seconds = 0;
    int64_t steps = 0, values = 0, values_during_backward = 0, buckets = 0, buckets_during_backward = 0;
  };
  const Timing& timing() const { return timing_; }
  double wait_seconds() const { return timing_.wait_seconds; }
  void reset_timing() { timing_ = {}; }

  // 1 MiB, or the environment variable NNLAB_BUCKET_BYTES (for measuring: a value larger than the
  // model's gradients makes one bucket, started after backward, so nothing overlaps).
  static int64_t default_bucket_bytes();

 private:
  void start(size_t from, size_t to, bool during_backward);
  int64_t bucket_bytes_;
  std::span<float> grads_;
  float weight_ = 1;
  size_t pending_end_ = 0;   // [ready offset, pending_end_) is final but not started
  struct Requests;  // the MPI_Request of each bucket in flight (communicator.cpp)
  std::unique_ptr<Requests> requests_;
  Timing timing_;
};

}  // namespace nnlab::dist
