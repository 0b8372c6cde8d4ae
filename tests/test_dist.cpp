// Data-parallel training (src/dist/, Trainer::fit on several ranks). The shares and the one-rank
// no-ops always; with MPI (NNLAB_MPI) the ranks themselves, through `mpirun -np 2 --oversubscribe`
// (tests/dist_check.cpp and the nnlab command): 2 ranks with batch 16 end with the weights of one
// process with batch 32, with and without augmentation; with dropout, 2 ranks match one process that
// emulates their shards and random streams; a resumed 2-rank run matches an uninterrupted one and a
// different number of ranks is refused; one failing or killed rank ends the run within seconds. The
// command on 2 ranks: train (one run folder, the overlap line, --resume to an uninterrupted run's
// weights), ensembles, and sweeps and tuning spread over the ranks with one process's results, bit for
// bit, written once by rank 0.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "test_util.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/dist/communicator.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/training/history.hpp"

namespace fs = std::filesystem;
using nnlab::testing::CommandResult;
using nnlab::testing::same_tensors;

#ifdef NNLAB_MPIEXEC
namespace {

CommandResult shell(const std::string& cmd) {
  CommandResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// `timeout` turns a hang into exit code 124 instead of a stuck suite.
std::string mpirun(int ranks, const std::string& program, int timeout_s = 120) {
  return "timeout " + std::to_string(timeout_s) + " '" NNLAB_MPIEXEC "' -np " + std::to_string(ranks) +
         " --oversubscribe --bind-to none '" + program + "'";
}

std::vector<float> read_floats(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<float> v;
  float f;
  while (in.read(reinterpret_cast<char*>(&f), sizeof f)) v.push_back(f);
  return v;
}

// max |a - b| over max |b|: the difference relative to the weights' scale.
double relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, scale = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::abs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("nnlab_dist_" + std::to_string(getpid()) + "_" +
                                               ::testing::UnitTest::GetInstance()->current_test_info()->name());
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A tiny two-class CSV (96 rows: label, two pixels) and a base experiment on it (dense, dropout,
// softmax; a quarter of the rows as validation; one thread), in dir: what the sweep, tune and resume
// cases train, a fraction of a second per run.
std::string tiny_base(const fs::path& dir) {
  std::string csv = "label,a,b\n";
  for (int i = 0; i < 96; ++i) {
    const int a = static_cast<int>(128 + 120 * std::sin(1.7 * i)), b = static_cast<int>(128 + 120 * std::cos(0.9 * i + 0.3));
    csv += std::to_string(a + b > 256 ? 1 : 0) + "," + std::to_string(a) + "," + std::to_string(b) + "\n";
  }
  nnlab::write_file_atomic((dir / "d.csv").string(), csv);
  const nlohmann::json base = {
      {"name", "tiny"},
      {"seed", 3},
      {"threads", 1},
      {"data", {{"dataset", "file"}, {"train", (dir / "d.csv").string()}}},
      {"model",
       {{"layers",
         {{{"type", "dense"}, {"units", 8}, {"activation", "relu"}},
          {{"type", "dropout"}, {"rate", 0.1}},
          {{"type", "dense"}, {"units", 2}, {"activation", "softmax"}}}}}},
      {"train", {{"loss", "categorical_crossentropy"}, {"optimizer", "adam"}, {"batch_size", 16}, {"epochs", 3},
                 {"validation_split", 0.25}}},
      {"optimizer", {{"learning_rate", 0.01}}}};
  nnlab::write_file_atomic((dir / "base.json").string(), base.dump(2));
  return (dir / "base.json").string();
}

// A CSV's lines without the given columns (by header name).
std::vector<std::string> csv_without(const std::string& text, const std::vector<std::string>& drop) {
  std::vector<std::string> lines, out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  if (lines.empty()) return out;
  auto cells = [](const std::string& l) {
    std::vector<std::string> c;
    std::istringstream s(l);
    for (std::string x; std::getline(s, x, ',');) c.push_back(x);
    return c;
  };
  const auto header = cells(lines[0]);
  for (const auto& l : lines) {
    const auto c = cells(l);
    std::string kept;
    for (size_t i = 0; i < c.size() && i < header.size(); ++i)
      if (std::find(drop.begin(), drop.end(), header[i]) == drop.end()) kept += c[i] + ",";
    out.push_back(kept);
  }
  return out;
}

}  // namespace
#endif

TEST(Dist, SharesCoverTheBatchAndDifferByAtMostOne) {
  for (int64_t count : {0, 1, 5, 32, 33}) {
    for (int ranks : {1, 2, 3, 8}) {
      int64_t next = 0, least = count, most = 0;
      for (int r = 0; r < ranks; ++r) {
        const auto s = nnlab::dist::share(count, r, ranks);
        EXPECT_EQ(s.first, next);
        next += s.n;
        least = std::min(least, s.n);
        most = std::max(most, s.n);
      }
      EXPECT_EQ(next, count);
      EXPECT_LE(most - least, 1);
    }
  }
}

TEST(Dist, WithoutMpirunTheProcessIsOneRank) {
  EXPECT_EQ(nnlab::dist::size(), 1);
  EXPECT_EQ(nnlab::dist::rank(), 0);
  std::vector<float> g{1, 2, 3};
  nnlab::dist::GradientReducer reducer(4);
  reducer.begin(g, 0.5f);
  reducer.ready(0);
  reducer.finish();
  EXPECT_EQ(g, (std::vector<float>{1, 2, 3}));  // one rank: nothing to sum, nothing scaled
  EXPECT_EQ(nnlab::dist::fail("test: a failure alone is returned, not aborted", 3), 3);
}

#ifdef NNLAB_MPIEXEC

// Trains with dist_check and returns rank 0's weights.
std::vector<float> weights(const std::string& launch, const fs::path& out, const std::string& args) {
  const auto r = shell(launch + " --out '" + out.string() + "' " + args);
  EXPECT_EQ(r.exit_code, 0) << launch << " " << args << "\n" << r.output;
  auto w = read_floats(out);
  EXPECT_GT(w.size(), 1000u) << r.output;
  return w;
}

TEST(DistMpi, TwoRanksEqualOneProcessWithTheGlobalBatch) {
  TempDir dir;
  for (const std::string extra : {"", "--augment"}) {
    const auto two = weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "two.bin", "--batch 16 --epochs 2 " + extra);
    const auto one = weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "one.bin", "--batch 32 --epochs 2 " + extra);
    ASSERT_EQ(two.size(), one.size());
    const double rel = relative_difference(two, one);
    std::printf("2 ranks x 16 vs 1 x 32 %s: max relative difference %.3g\n", extra.c_str(), rel);
    EXPECT_LE(rel, 1e-5) << extra;
    EXPECT_GT(relative_difference(one, weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "small.bin",
                                               "--batch 16 --epochs 2 " + extra)),
              1e-3)
        << "batch 16 alone should differ: the comparison must be able to fail";
  }
}

// The image layers under data-parallel training: a convolution and a max pooling before the dense
// layers, 2 ranks against one process with the global batch.
TEST(DistMpi, ConvolutionsTwoRanksEqualOneProcess) {
  TempDir dir;
  const auto two = weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "two.bin", "--cnn --batch 16 --epochs 2");
  const auto one = weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "one.bin", "--cnn --batch 32 --epochs 2");
  ASSERT_EQ(two.size(), one.size());
  const auto dense = weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "dense.bin", "--batch 32 --epochs 2");
  EXPECT_NE(two.size(), dense.size()) << "--cnn must add the convolution's weights";
  const double rel = relative_difference(two, one);
  std::printf("convolutions, 2 ranks x 16 vs 1 x 32: max relative difference %.3g\n", rel);
  EXPECT_LE(rel, 1e-5);
  EXPECT_GT(relative_difference(one, weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "small.bin",
                                             "--cnn --batch 16 --epochs 2")),
            1e-3)
      << "batch 16 alone should differ: the comparison must be able to fail";
}

// A streamed .nnds file: each rank reads only its shards (half the samples each), and the weights
// are those of the same run from memory.
TEST(DistMpi, StreamedDataIsReadByShard) {
  TempDir dir;
  const std::string nnds = (dir.path / "data.nnds").string();
  const auto r = shell(mpirun(2, NNLAB_DIST_CHECK) + " --out '" + (dir.path / "streamed.bin").string() +
                       "' --batch 16 --epochs 2 --nnds '" + nnds + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // 200 samples, 2 epochs of 7 global batches of 32 (the last of 8): 100 per rank per epoch.
  EXPECT_NE(r.output.find("samples read per rank: 200 200"), std::string::npos) << r.output;
  const auto memory = weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "memory.bin", "--batch 16 --epochs 2");
  EXPECT_EQ(read_floats(dir.path / "streamed.bin"), memory);
}

// Dropout masks are drawn per rank (rank 0 the model's stream, rank r one seeded from seed, r and
// epoch), so they cannot be one process's masks; 2 ranks must equal one process computing the same
// shards with the same streams, and repeat themselves exactly.
TEST(DistMpi, WithDropoutTwoRanksMatchTheirEmulationAndRepeat) {
  TempDir dir;
  const std::string args = "--batch 16 --epochs 2 --dropout --augment";
  const auto two = weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "two.bin", args);
  const auto again = weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "again.bin", args);
  EXPECT_EQ(two, again);
  const auto emulated = weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "emulated.bin", args + " --emulate 2");
  const double rel = relative_difference(two, emulated);
  std::printf("2 ranks with dropout vs their emulation: max relative difference %.3g\n", rel);
  EXPECT_LE(rel, 1e-5);
  // The emulation itself, without dropout, is one process with the global batch.
  const auto emulated_plain = weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "ep.bin", "--batch 16 --emulate 2");
  const auto one = weights(std::string("'") + NNLAB_DIST_CHECK + "'", dir.path / "one.bin", "--batch 32");
  EXPECT_LE(relative_difference(emulated_plain, one), 1e-5);
}

TEST(DistMpi, ResumedRunMatchesAnUninterruptedOneAndOtherRankCountsAreRefused) {
  TempDir dir;
  const std::string args = "--batch 16 --dropout --augment";
  const auto whole = weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "whole.bin", args + " --epochs 4");
  const std::string ck = (dir.path / "ck.safetensors").string();
  weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "half.bin", args + " --epochs 2 --checkpoint '" + ck + "'");
  const auto resumed =
      weights(mpirun(2, NNLAB_DIST_CHECK), dir.path / "resumed.bin", args + " --epochs 4 --resume --checkpoint '" + ck + "'");
  EXPECT_EQ(whole, resumed);
  const auto alone = shell(std::string("'") + NNLAB_DIST_CHECK + "' --out '" + (dir.path / "x.bin").string() + "' " + args +
                           " --epochs 4 --resume --checkpoint '" + ck + "'");
  EXPECT_EQ(alone.exit_code, 1) << alone.output;
  EXPECT_NE(alone.output.find("written by a run on 2 ranks and this one has 1"), std::string::npos) << alone.output;
  EXPECT_NE(alone.output.find("mpirun -np 2"), std::string::npos) << alone.output;
}

TEST(DistMpi, AFailingRankEndsEveryRankWithOneMessage) {
  TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = shell(mpirun(2, NNLAB_DIST_CHECK, 60) + " --out '" + (dir.path / "w.bin").string() +
                       "' --batch 16 --epochs 50 --throw-rank 1");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, 124) << "the ranks hung until the timeout:\n" << r.output;
  EXPECT_EQ(count(r.output, "rank 1 met bad data in its shard (on rank 1 of 2)"), 1u) << r.output;
  EXPECT_LT(seconds, 30) << r.output;
  std::printf("a failing rank ended the run in %.1f s\n", seconds);
}

TEST(DistMpi, AKilledRankEndsEveryRank) {
  TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = shell(mpirun(2, NNLAB_DIST_CHECK, 60) + " --out '" + (dir.path / "w.bin").string() +
                       "' --batch 16 --epochs 50 --kill-rank 1");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.exit_code, 124) << "the ranks hung until the timeout:\n" << r.output;
  EXPECT_LT(seconds, 30) << r.output;
  EXPECT_FALSE(fs::exists(dir.path / "w.bin"));
  std::printf("a killed rank ended the run in %.1f s\n", seconds);
}

// The command: one run folder, the arithmetic printed once with the global batch, the overlap line
// (the step, the wait for the gradient sums) once, and a diverged loss (every rank meets it) reported
// once. On the tiny CSV (72 training rows), so that it needs no dataset and takes seconds.
TEST(DistMpi, TrainCommandOnTwoRanks) {
  TempDir dir;
  const std::string exp = tiny_base(dir.path);
  const std::string nnlab = std::string(NNLAB_CLI);
  const auto r = shell("cd '" + dir.path.string() + "' && " + mpirun(2, nnlab) + " train " + exp + " --epochs 2 --out run");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(count(r.output, "data-parallel: 2 ranks x batch 16 per rank = global batch 32"), 1u) << r.output;
  EXPECT_EQ(count(r.output, "72 samples / batch 32 = 3 iterations per epoch"), 1u) << r.output;
  EXPECT_EQ(count(r.output, "data-parallel: a step"), 1u) << r.output;
  EXPECT_EQ(count(r.output, "of the step); "), 1u) << r.output;
  EXPECT_EQ(count(r.output, "run folder:"), 1u) << r.output;
  EXPECT_TRUE(fs::exists(dir.path / "run" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(dir.path / "run" / "result.json"));
  const auto run = nlohmann::json::parse(nnlab::read_file((dir.path / "run" / "run.json").string()));
  EXPECT_EQ(run.at("ranks"), 2);

  // An ensemble (of the built-in XOR: ensembles take named datasets): each rank trains its own
  // member, rank 0 combines once.
  const auto ens = shell("cd '" + dir.path.string() + "' && " + mpirun(2, nnlab) +
                         " ensemble xor --members 2 --holdout 0 --out ens --set train.epochs=5");
  ASSERT_EQ(ens.exit_code, 0) << ens.output;
  EXPECT_EQ(count(ens.output, "members trained in"), 1u) << ens.output;
  for (const char* member : {"member-1", "member-2"})
    EXPECT_TRUE(fs::exists(dir.path / "ens" / member / "model.safetensors")) << member << "\n" << ens.output;
  EXPECT_TRUE(fs::exists(dir.path / "ens" / "ensemble.json")) << ens.output;

  // A refused command line is refused once, not once per rank.
  const auto usage = shell(mpirun(2, nnlab, 60) + " train " + exp + " --epochs 0");
  EXPECT_EQ(count(usage.output, "nnlab: error:"), 1u) << usage.output;
  EXPECT_EQ(count(usage.output, "--epochs must be"), 1u) << usage.output;

  const auto diverged = shell("cd '" + dir.path.string() + "' && " + mpirun(2, nnlab, 60) + " train " + exp +
                              " --out bad --lr 1e30 --quiet");
  EXPECT_NE(diverged.exit_code, 0) << diverged.output;
  EXPECT_NE(diverged.exit_code, 124) << diverged.output;
  EXPECT_EQ(count(diverged.output, "training diverged"), 1u) << diverged.output;
}


// nnlab sweep on 2 ranks: the variants spread over the ranks (rank 0: a and c, rank 1: b), each
// trained as one process would, so the table's rows, the histories and the weights are those of a
// sweep in one process, bit for bit; rank 0 writes one table. A folder of models put together with
// ensemble --models is written by rank 0 alone. A variant that fails on rank 1 ends both ranks with
// one message.
TEST(DistMpi, SweepSpreadsVariantsOverRanks) {
  TempDir dir;
  const std::string base = tiny_base(dir.path);
  const std::string sweep = (dir.path / "s.toml").string();
  nnlab::write_file_atomic(sweep, "name = \"dist-sweep\"\nbase = \"" + base + "\"\n"
                                  "[[variant]]\nname = \"a\"\n"
                                  "[[variant]]\nname = \"b\"\nset = [\"optimizer.learning_rate=0.03\"]\n"
                                  "[[variant]]\nname = \"c\"\nset = [\"model.layers.0.units=4\"]\n");
  const std::string nnlab = std::string(NNLAB_CLI), at = "cd '" + dir.path.string() + "' && ";
  const auto one = shell(at + "'" + nnlab + "' sweep s.toml --out one");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = shell(at + mpirun(2, nnlab) + " sweep s.toml --out two");
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_EQ(count(two.output, "spread over 2 ranks"), 1u) << two.output;
  EXPECT_EQ(count(two.output, "| variant |"), 1u) << two.output;
  EXPECT_EQ(count(two.output, "] b"), 0u) << "rank 1's lines are not printed:\n" << two.output;
  const auto table = [&](const char* run) { return nnlab::read_file((dir.path / run / "table.csv").string()); };
  EXPECT_EQ(csv_without(table("two"), {"train_seconds", "run_dir"}), csv_without(table("one"), {"train_seconds", "run_dir"}))
      << table("two") << "\n" << table("one");
  EXPECT_EQ(count(table("two"), "\n"), 4u) << table("two");  // the header and the 3 variants
  for (const char* v : {"a", "b", "c"}) {
    EXPECT_TRUE(same_tensors(dir.path / "one" / v / "model.safetensors", dir.path / "two" / v / "model.safetensors")) << v;
    const auto h1 = nnlab::History::from_csv(nnlab::read_file((dir.path / "one" / v / "history.csv").string()), "one");
    const auto h2 = nnlab::History::from_csv(nnlab::read_file((dir.path / "two" / v / "history.csv").string()), "two");
    EXPECT_EQ(h1.column("val_accuracy"), h2.column("val_accuracy")) << v;
    EXPECT_EQ(h1.column("val_loss"), h2.column("val_loss")) << v;
  }

  // ensemble --models on 2 ranks, each in its own working directory: only rank 0's --out appears.
  const std::string script = (dir.path / "assemble.sh").string();
  nnlab::write_file_atomic(script, "#!/bin/sh\nmkdir -p \"r$OMPI_COMM_WORLD_RANK\" && cd \"r$OMPI_COMM_WORLD_RANK\" && exec '" +
                                       nnlab + "' ensemble --models ../two/a,../two/c --out ens\n");
  fs::permissions(script, fs::perms::owner_all);
  const auto ens = shell(at + mpirun(2, script));
  ASSERT_EQ(ens.exit_code, 0) << ens.output;
  EXPECT_EQ(count(ens.output, "2 members, default combination"), 1u) << ens.output;
  EXPECT_TRUE(fs::exists(dir.path / "r0" / "ens" / "ensemble.json")) << ens.output;
  EXPECT_TRUE(fs::exists(dir.path / "r0" / "ens" / "member-2" / "model.safetensors")) << ens.output;
  EXPECT_TRUE(fs::exists(dir.path / "r1")) << ens.output;
  EXPECT_FALSE(fs::exists(dir.path / "r1" / "ens")) << "rank 1 wrote an ensemble folder too";

  // Variant b (rank 1's) diverges: one message, naming its rank, and both ranks end.
  nnlab::write_file_atomic(sweep, "name = \"dist-sweep\"\nbase = \"" + base + "\"\nset = [\"train.epochs=200\"]\n"
                                  "[[variant]]\nname = \"a\"\n"
                                  "[[variant]]\nname = \"b\"\nset = [\"optimizer.learning_rate=1e30\"]\n");
  const auto t0 = std::chrono::steady_clock::now();
  const auto bad = shell(at + mpirun(2, nnlab, 60) + " sweep s.toml --out bad -q");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_NE(bad.exit_code, 0) << bad.output;
  EXPECT_NE(bad.exit_code, 124) << "the ranks hung until the timeout:\n" << bad.output;
  EXPECT_EQ(count(bad.output, "training diverged"), 1u) << bad.output;
  EXPECT_EQ(count(bad.output, "(on rank 1 of 2)"), 1u) << bad.output;
  EXPECT_FALSE(fs::exists(dir.path / "bad" / "table.md"));
  EXPECT_LT(seconds, 30) << bad.output;
}

// nnlab tune on 2 ranks: each rung's trials spread over the ranks, rank 0 promotes and writes; the
// scores (tune.json), the table and best.toml are those of one process exactly. A search killed
// after the last rung's training but before its scores were recorded continues to the same files.
TEST(DistMpi, TuneSpreadsTrialsOverRanksAndContinues) {
  TempDir dir;
  const std::string base = tiny_base(dir.path);
  nnlab::write_file_atomic((dir.path / "t.toml").string(),
                           "base = \"" + base + "\"\ntrials = 5\nmin_epochs = 1\nmax_epochs = 4\nreduction = 2\nseed = 5\n"
                           "[space]\n\"optimizer.learning_rate\" = { log_uniform = [1e-3, 1e-1] }\n"
                           "\"model.layers.0.units\" = { int_uniform = [2, 12] }\n"
                           "\"train.batch_size\" = { choice = [8, 16, 32] }\n");
  const std::string nnlab = std::string(NNLAB_CLI), at = "cd '" + dir.path.string() + "' && ";
  const auto one = shell(at + "'" + nnlab + "' tune t.toml --out one -q");
  ASSERT_EQ(one.exit_code, 0) << one.output;
  const auto two = shell(at + mpirun(2, nnlab) + " tune t.toml --out two");
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_EQ(count(two.output, "spread over 2 ranks"), 3u) << two.output;  // rungs at 1, 2 and 4 epochs
  EXPECT_EQ(count(two.output, "8 trial-rung(s) trained now"), 1u) << two.output;
  const auto file = [&](const char* run, const char* name) { return nnlab::read_file((dir.path / run / name).string()); };
  for (const char* f : {"tune.json", "table.md", "best.toml"}) EXPECT_EQ(file("two", f), file("one", f)) << f;

  auto state = nlohmann::json::parse(file("two", "tune.json"));
  int dropped = 0;
  for (auto& s : state["scores"])
    if (s.size() == 3) s.erase(2), ++dropped;
  ASSERT_EQ(dropped, 1);
  nnlab::write_file_atomic((dir.path / "two" / "tune.json").string(), state.dump(1) + "\n");
  fs::remove(dir.path / "two" / "best.toml");
  const auto again = shell(at + mpirun(2, nnlab) + " tune t.toml --out two -q");
  ASSERT_EQ(again.exit_code, 0) << again.output;
  EXPECT_EQ(count(again.output, "1 trial-rung(s) trained now"), 1u) << again.output;
  for (const char* f : {"tune.json", "table.md", "best.toml"}) EXPECT_EQ(file("two", f), file("one", f)) << f;
}

// nnlab train --resume on 2 ranks: a run stopped after 2 of 4 epochs (its checkpoint kept, its model
// and result gone, as a killed run leaves them) continues to the weights of an uninterrupted run.
TEST(DistMpi, TheCommandsResumeOnTwoRanksEqualsAnUninterruptedRun) {
  TempDir dir;
  tiny_base(dir.path);
  const std::string nnlab = std::string(NNLAB_CLI), at = "cd '" + dir.path.string() + "' && ";
  const auto whole = shell(at + mpirun(2, nnlab) + " train base.json --epochs 4 --out whole -q");
  ASSERT_EQ(whole.exit_code, 0) << whole.output;
  const auto half = shell(at + mpirun(2, nnlab) + " train base.json --epochs 2 --out half -q");
  ASSERT_EQ(half.exit_code, 0) << half.output;
  fs::remove(dir.path / "half" / "model.safetensors");
  fs::remove(dir.path / "half" / "result.json");
  const auto resumed = shell(at + mpirun(2, nnlab) + " train --resume half --epochs 4");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_EQ(count(resumed.output, "resuming from"), 1u) << resumed.output;
  EXPECT_TRUE(same_tensors(dir.path / "whole" / "model.safetensors", dir.path / "half" / "model.safetensors"));
  const auto alone = shell(at + "'" + nnlab + "' train --resume half --epochs 5 -q");
  EXPECT_EQ(alone.exit_code, 1) << alone.output;
  EXPECT_NE(alone.output.find("written by a run on 2 ranks and this one has 1"), std::string::npos) << alone.output;
}

#endif
