// Interrupted runs resume where they stopped: a training process killed outright (SIGKILL) at an
// arbitrary point and resumed with `train --resume` ends with exactly the weights of a run never
// interrupted (one thread, fixed seed), and Ctrl-C stops cleanly with the checkpoint in place.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "cli_runner.hpp"
#include "test_util.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
using nnlab::testing::run_nnlab;
using nnlab::testing::same_tensors;
namespace fs = std::filesystem;

namespace {

// A small course-style network with dropout (so the random state matters) and a cosine schedule (the
// rate depends on the step) on 3,000 Fashion-MNIST images: long enough to be killed mid-run, short
// enough for the suite.
const char* kExperiment = R"(name = "resume-test"
seed = 7
threads = 1
[data]
dataset = "fashion-mnist"
limit = 3000
test_limit = 500
[model]
layers = [
  { type = "dense", units = 256, activation = "relu" },
  { type = "dropout", rate = 0.3 },
  { type = "dense", units = 10, activation = "softmax" },
]
[train]
loss = "categorical_crossentropy"
optimizer = "adam"
epochs = 8
batch_size = 32
[schedule]
type = "cosine"
)";

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen("/dev/null", "w", stdout)) _exit(127);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

TEST(Resume, KilledRunResumesToTheSameWeights) {
  if (!find_dataset("fashion-mnist").present) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path dir = fs::temp_directory_path() / ("nnlab_resume_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string exp = (dir / "exp.toml").string();
  write_file_atomic(exp, kExperiment);

  const fs::path whole = dir / "whole", killed = dir / "killed";
  auto r = run_nnlab("train " + exp + " --quiet --out " + whole.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Kill at several points after the first checkpoint appears, until one kill lands while epochs
  // are left (a kill after the last epoch's checkpoint, in the final evaluation, leaves nothing to
  // train: it is tried again, sooner).
  bool killed_mid_run = false;
  int next_epoch = -1;
  for (int delay_ms : {150, 60, 20, 0, 0, 0}) {
    fs::remove_all(killed);
    const pid_t pid = spawn({NNLAB_CLI, "train", exp, "--quiet", "--out", killed.string()});
    const auto start = std::chrono::steady_clock::now();
    while (!fs::exists(killed / "checkpoint.safetensors") &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(120))
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status) || fs::exists(killed / "model.safetensors")) continue;
    // The checkpoint left behind by the kill is whole (atomic writes) and names its next epoch.
    const SafetensorsFile ck = read_safetensors((killed / "checkpoint.safetensors").string());
    next_epoch = nlohmann::json::parse(ck.metadata.at("nnlab.checkpoint")).at("next_epoch").get<int>();
    EXPECT_GE(next_epoch, 1);
    if (next_epoch < 8) {
      killed_mid_run = true;
      break;
    }
  }
  ASSERT_TRUE(killed_mid_run) << "every run finished its 8 epochs before it could be killed (last checkpoint's next epoch: "
                              << next_epoch << ")";

  auto resumed = run_nnlab("train --resume " + killed.string());
  ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming from"), std::string::npos) << resumed.output;
  EXPECT_TRUE(same_tensors((whole / "model.safetensors").string(), (killed / "model.safetensors").string()));
  const auto h1 = History::from_csv(read_file((whole / "history.csv").string()), "whole");
  const auto h2 = History::from_csv(read_file((killed / "history.csv").string()), "killed");
  ASSERT_EQ(h2.logs.size(), 8u);
  EXPECT_NEAR(h1.logs[7].at("val_accuracy"), h2.logs[7].at("val_accuracy"), 1e-9);
  fs::remove_all(dir);
}

TEST(Resume, CtrlCStopsCleanlyAndSaysHowToResume) {
  if (!find_dataset("fashion-mnist").present) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path dir = fs::temp_directory_path() / ("nnlab_interrupt_" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string exp = (dir / "exp.toml").string();
  write_file_atomic(exp, kExperiment);
  const fs::path run = dir / "run";
  const pid_t pid = spawn({NNLAB_CLI, "train", exp, "--out", run.string(), "--set", "train.epochs=200"});
  const auto start = std::chrono::steady_clock::now();
  while (!fs::exists(run / "checkpoint.safetensors") && std::chrono::steady_clock::now() - start < std::chrono::seconds(120))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_TRUE(fs::exists(run / "checkpoint.safetensors"));
  EXPECT_FALSE(fs::exists(run / "model.safetensors"));
  fs::remove_all(dir);
}

// ---- Resume exactness for every schedule and every callback that keeps state ----
// A run interrupted after an epoch's checkpoint and resumed with `train --resume`'s call
// (Experiment::load of the run folder, RunOptions::resume) must end with the weights, the history
// (learning rate column included) and the callback files of the run never interrupted. The
// interruption is a callback that throws once the checkpoint of epoch `after` is on disk, which is
// what a SIGKILL at that moment leaves (the kill itself is tested above).
namespace {

struct Interruption : std::runtime_error {
  Interruption() : std::runtime_error("simulated kill") {}
};

// Throws at the start of epoch `at` (after the checkpoint of epoch at-1 was written), or at train
// end (after the last checkpoint, before the model file) when `at` is -1.
class KillAt : public Callback {
 public:
  explicit KillAt(int at) : at_(at) {}
  void on_epoch_begin(int epoch, TrainState&) override {
    if (epoch == at_) throw Interruption();
  }
  void on_train_end(TrainState&) override {
    if (at_ < 0) throw Interruption();
  }

 private:
  int at_;
};

class ResumeExactly : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("nnlab_resume_exact_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    // 8x8 "images" of 4 classes whose mean brightness depends on the class, so training moves.
    std::string train = "label", test = "label";
    for (int i = 0; i < 64; ++i) train += ",p" + std::to_string(i);
    test = train;
    uint64_t s = 12345;
    auto next = [&s] { s = s * 6364136223846793005ull + 1442695040888963407ull; return static_cast<int>(s >> 33); };
    auto rows = [&](std::string& out, int n) {
      for (int r = 0; r < n; ++r) {
        const int label = r % 4;
        out += "\n" + std::to_string(label);
        for (int i = 0; i < 64; ++i) out += "," + std::to_string((next() % 160) + label * 30);
      }
      out += "\n";
    };
    rows(train, 200);
    rows(test, 40);
    write_file_atomic((dir_ / "train.csv").string(), train);
    write_file_atomic((dir_ / "test.csv").string(), test);
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // An experiment of `epochs` epochs with a dropout network; `extra` is merged into it.
  nlohmann::json experiment(const nlohmann::json& extra, int epochs = 5) const {
    nlohmann::json e = {
        {"name", "exact"},
        {"seed", 11},
        {"threads", 1},
        {"data", {{"dataset", "file"}, {"train", (dir_ / "train.csv").string()}, {"test", (dir_ / "test.csv").string()}}},
        {"model",
         {{"layers", nlohmann::json::array({{{"type", "dense"}, {"units", 16}, {"activation", "relu"}},
                                            {{"type", "dropout"}, {"rate", 0.25}},
                                            {{"type", "dense"}, {"units", 4}, {"activation", "softmax"}}})}}},
        {"train", {{"loss", "sparse_categorical_crossentropy"}, {"optimizer", "sgd"}, {"epochs", epochs}, {"batch_size", 32}}},
        {"optimizer", {{"learning_rate", 0.05}, {"momentum", 0.9}}}};
    e.merge_patch(extra);
    return e;
  }

  // Runs the experiment whole, then interrupted by KillAt(at) and resumed, and compares the two.
  void expect_exact_resume(const nlohmann::json& config, int at = 2) {
    const Experiment e = Experiment::from_json(config, (dir_ / "exp.json").string());
    RunOptions whole;
    whole.out_dir = (dir_ / "whole").string();
    whole.verbose = 0;
    run_experiment(e, whole);

    KillAt kill(at);
    RunOptions cut = whole;
    cut.out_dir = (dir_ / "cut").string();
    cut.callbacks = {&kill};
    EXPECT_THROW(run_experiment(e, cut), Interruption);
    ASSERT_TRUE(fs::exists(dir_ / "cut" / "checkpoint.safetensors"));
    ASSERT_FALSE(fs::exists(dir_ / "cut" / "model.safetensors"));

    RunOptions again;  // as `train --resume DIR` does it
    again.out_dir = cut.out_dir;
    again.verbose = 0;
    again.resume = true;
    run_experiment(Experiment::load(cut.out_dir), again);

    EXPECT_TRUE(same_tensors((dir_ / "whole" / "model.safetensors").string(), (dir_ / "cut" / "model.safetensors").string()))
        << "the resumed run ends with other weights";
    // The history holds every epoch's rate and losses as the shortest exact decimals.
    EXPECT_EQ(read_file((dir_ / "whole" / "history.csv").string()), read_file((dir_ / "cut" / "history.csv").string()));
  }

  fs::path dir_;
};

}  // namespace

TEST_F(ResumeExactly, ConstantRateWithDropout) { expect_exact_resume(experiment(nlohmann::json::object())); }

// The moving average of the weights is optimizer state a checkpoint must keep (and label smoothing
// rides along in the [loss] table).
TEST_F(ResumeExactly, WeightAverageAndLabelSmoothing) {
  expect_exact_resume(experiment({{"optimizer", {{"use_ema", true}, {"ema_momentum", 0.9}}},
                                  {"train", {{"loss", "categorical_crossentropy"}}},
                                  {"loss", {{"label_smoothing", 0.1}}}}));
}

TEST_F(ResumeExactly, StochasticWeightAveraging) {
  expect_exact_resume(experiment({{"swa", {{"start_epoch", 1}}}}));
}

TEST_F(ResumeExactly, StepDecay) {
  expect_exact_resume(experiment({{"schedule", {{"type", "step"}, {"drop", 0.5}, {"every", 1}}}}));
}

TEST_F(ResumeExactly, ExponentialDecay) {
  expect_exact_resume(experiment({{"schedule", {{"type", "exponential"}, {"decay_steps", 3}, {"decay_rate", 0.8}}}}));
}

TEST_F(ResumeExactly, InverseTimeDecay) {
  expect_exact_resume(experiment(
      {{"schedule", {{"type", "inverse_time"}, {"decay_steps", 2}, {"decay_rate", 0.5}, {"staircase", true}}}}));
}

// The reported case: the rate ran ahead from the resumed epoch on.
TEST_F(ResumeExactly, CosineDecay) { expect_exact_resume(experiment({{"schedule", {{"type", "cosine"}}}})); }

// Interrupted inside the warmup (step 7 of 10), which rises from the base rate.
TEST_F(ResumeExactly, CosineDecayWithWarmup) {
  expect_exact_resume(
      experiment({{"schedule", {{"type", "cosine"}, {"alpha", 0.1}, {"warmup_target", 0.1}, {"warmup_steps", 10}}}}), 1);
}

TEST_F(ResumeExactly, CosineDecayRestarts) {
  expect_exact_resume(experiment(
      {{"schedule", {{"type", "cosine_restarts"}, {"first_decay_steps", 5}, {"t_mul", 1.5}, {"m_mul", 0.8}}}}));
}

// Without max_lr the cycle peaks at the base rate, so a wrong base would show.
TEST_F(ResumeExactly, OneCycle) {
  expect_exact_resume(experiment({{"schedule", {{"type", "one_cycle"}, {"pct_start", 0.5}}}}));
}

TEST_F(ResumeExactly, LinearWarmupThenStep) {
  expect_exact_resume(experiment({{"schedule",
                                   {{"type", "linear_warmup"},
                                    {"warmup_steps", 12},
                                    {"then", {{"type", "step"}, {"drop", 0.7}, {"every", 1}}}}}}));
}

TEST_F(ResumeExactly, FormulaPerEpochAndPerStep) {
  expect_exact_resume(experiment({{"schedule", "lr * 0.8^epoch"}}));
  fs::remove_all(dir_ / "whole");
  fs::remove_all(dir_ / "cut");
  expect_exact_resume(experiment({{"schedule", {{"type", "formula"}, {"formula", "lr / (1 + step / 7)"}}}}));
}

// ReduceLROnPlateau cuts the rate at every epoch from the second on (nothing beats the first epoch
// by min_delta), before and after the interruption; its counters and the schedule's base must both
// come back.
TEST_F(ResumeExactly, ReduceLROnPlateauWithCosine) {
  expect_exact_resume(experiment(
      {{"schedule", {{"type", "cosine"}}},
       {"reduce_lr_on_plateau", {{"patience", 1}, {"cooldown", 1}, {"factor", 0.5}, {"min_delta", 100.0}, {"verbose", 0}}}},
      6), 3);
}

// Early stopping keeps the first epoch's weights (nothing beats it by min_delta) and stops at epoch
// 4 of 8: interrupted after epoch 3, the resumed run must still restore the kept weights.
TEST_F(ResumeExactly, EarlyStoppingRestoresTheKeptWeights) {
  const auto config = experiment(
      {{"early_stopping", {{"patience", 3}, {"min_delta", 100.0}, {"restore_best_weights", true}, {"verbose", 0}}}}, 8);
  expect_exact_resume(config, 3);
  EXPECT_EQ(History::from_csv(read_file((dir_ / "cut" / "history.csv").string()), "cut").logs.size(), 4u);
}

// Killed after early stopping's last checkpoint but before the model was written: the resumed run
// trains no further epoch.
TEST_F(ResumeExactly, EarlyStoppingThatHadStoppedStaysStopped) {
  const auto config = experiment(
      {{"early_stopping", {{"patience", 2}, {"min_delta", 100.0}, {"restore_best_weights", true}, {"verbose", 0}}}}, 8);
  expect_exact_resume(config, -1);
  EXPECT_EQ(History::from_csv(read_file((dir_ / "cut" / "history.csv").string()), "cut").logs.size(), 3u);
}

// The augmentation stream (one random draw per sample per batch) continues where it stopped.
TEST_F(ResumeExactly, AugmentationDropoutAndCosine) {
  expect_exact_resume(experiment({{"schedule", {{"type", "cosine"}}},
                                  {"augment",
                                   {{"rotation_range", 10},
                                    {"width_shift_range", 0.1},
                                    {"height_shift_range", 0.1},
                                    {"zoom_range", 0.1}}}}));
}

// Interrupted after the first epoch and after the last but one, as well as in the middle.
TEST_F(ResumeExactly, CosineFromEveryEpoch) {
  for (int at : {1, 4}) {
    fs::remove_all(dir_ / "whole");
    fs::remove_all(dir_ / "cut");
    SCOPED_TRACE("interrupted before epoch " + std::to_string(at + 1));
    expect_exact_resume(experiment({{"schedule", {{"type", "cosine"}}}}), at);
  }
}

// The library's own callbacks that write files: CSVLogger cuts rows written after the checkpoint,
// ModelCheckpoint(save_best_only) keeps its bar.
TEST_F(ResumeExactly, CsvLoggerAndModelCheckpointThroughTrainer) {
  auto run = [&](const std::string& name, int kill_at, bool resume) {
    Model m = Model::from_config(nlohmann::json::parse(R"({"input": [6], "layers": [
        {"type": "dense", "units": 8, "activation": "tanh"}, {"type": "dropout", "rate": 0.2},
        {"type": "dense", "units": 3, "activation": "softmax"}]})"), 5);
    Trainer t(m, make_loss("sparse_categorical_crossentropy"), make_optimizer("adam", {{"learning_rate", 0.01}}));
    const InMemoryDataset d = nnlab::testing::random_dataset(90, {6}, 3, false, 9);
    const fs::path out = dir_ / name;
    fs::create_directories(out);
    CSVLogger log((out / "log.csv").string());
    ModelCheckpointOptions mo;
    mo.monitor = "loss";
    mo.save_best_only = true;
    ModelCheckpoint best((out / "best-{epoch}.safetensors").string(), mo);
    KillAt kill(kill_at);
    FitOptions f;
    f.epochs = 6;
    f.batch_size = 16;
    f.verbose = 0;
    f.seed = 3;
    f.checkpoint_path = (out / "checkpoint.safetensors").string();
    f.resume = resume;
    std::vector<Callback*> cbs{&log, &best};
    if (kill_at >= 0) cbs.push_back(&kill);
    t.fit(d, f, &d, cbs);
    save_model(m, (out / "model.safetensors").string());
  };
  run("whole", 99, false);
  EXPECT_THROW(run("cut", 3, false), Interruption);
  // A kill between the CSV row of epoch 4 and its checkpoint leaves one row too many.
  std::ofstream((dir_ / "cut" / "log.csv").string(), std::ios::app) << "3,junk\n";
  run("cut", 99, true);
  EXPECT_EQ(read_file((dir_ / "whole" / "log.csv").string()), read_file((dir_ / "cut" / "log.csv").string()));
  EXPECT_TRUE(same_tensors((dir_ / "whole" / "model.safetensors").string(), (dir_ / "cut" / "model.safetensors").string()));
  std::vector<std::string> a, b;
  for (const auto& p : fs::directory_iterator(dir_ / "whole"))
    if (p.path().filename().string().rfind("best-", 0) == 0) a.push_back(p.path().filename().string());
  for (const auto& p : fs::directory_iterator(dir_ / "cut"))
    if (p.path().filename().string().rfind("best-", 0) == 0) b.push_back(p.path().filename().string());
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  EXPECT_EQ(a, b) << "save_best_only saved other epochs after the resume";
}
