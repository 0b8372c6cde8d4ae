// Interrupted runs resume where they stopped: a training process killed outright (SIGKILL) at an
// arbitrary point and resumed with `train --resume` ends with exactly the weights of a run never
// interrupted (one thread, fixed seed), and Ctrl-C stops cleanly with the checkpoint in place.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "cli_runner.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/nnlab.hpp"

using namespace nnlab;
using nnlab::testing::run_nnlab;
namespace fs = std::filesystem;

namespace {

// A small course-style network with dropout (so the random state matters) on 3,000 Fashion-MNIST
// images: long enough to be killed mid-run, short enough for the suite.
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

bool same_tensors(const std::string& a, const std::string& b) {
  const SafetensorsFile fa = read_safetensors(a), fb = read_safetensors(b);
  if (fa.tensors.size() != fb.tensors.size()) return false;
  for (const auto& [name, t] : fa.tensors) {
    auto it = fb.tensors.find(name);
    if (it == fb.tensors.end() || it->second.size() != t.size()) return false;
    if (std::memcmp(t.data(), it->second.data(), sizeof(float) * static_cast<size_t>(t.size())) != 0) return false;
  }
  return true;
}

}  // namespace

TEST(Resume, KilledRunResumesToTheSameWeights) {
  if (!find_dataset("fashion-mnist").present) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  const fs::path dir = fs::temp_directory_path() / "nnlab_resume";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string exp = (dir / "exp.toml").string();
  write_file_atomic(exp, kExperiment);

  const fs::path whole = dir / "whole", killed = dir / "killed";
  auto r = run_nnlab("train " + exp + " --quiet --out " + whole.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;

  // Kill at several points after the first checkpoint appears, until one kill lands mid-run.
  bool killed_mid_run = false;
  for (int delay_ms : {150, 60, 20, 0}) {
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
    if (WIFSIGNALED(status) && !fs::exists(killed / "model.safetensors")) {
      killed_mid_run = true;
      break;
    }
  }
  ASSERT_TRUE(killed_mid_run) << "every run finished before it could be killed";
  // The checkpoint left behind by the kill is whole (atomic writes) and names its next epoch.
  const SafetensorsFile ck = read_safetensors((killed / "checkpoint.safetensors").string());
  const auto meta = nlohmann::json::parse(ck.metadata.at("nnlab.checkpoint"));
  EXPECT_GE(meta.at("next_epoch").get<int>(), 1);
  EXPECT_LT(meta.at("next_epoch").get<int>(), 8);

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
  const fs::path dir = fs::temp_directory_path() / "nnlab_interrupt";
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
