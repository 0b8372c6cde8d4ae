// The Keras callbacks fed crafted sequences through their own hooks, with the expected epochs traced
// by hand from Keras 3's code; the same scenarios against Keras itself (tests/data/schedule_golden.json);
// and fits of the course's XOR network showing the rate cuts in the history.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "nnlab/nnlab.hpp"
#include "nnlab/training/callbacks.hpp"
#include "nnlab/training/schedules.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::error_of;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh folder under the build's temporary directory.
std::string temp_dir(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("nnlab_test_callbacks_" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

// A training state around a rate policy starting at 1 (and optionally a model), as Trainer::fit
// builds it.
struct Harness {
  LearningRate rate{1.0f};
  TrainState state;
  explicit Harness(Model* model = nullptr, int epochs = 100, int64_t steps_per_epoch = 1) {
    state.model = model;
    state.rate = &rate;
    state.epochs = epochs;
    state.steps_per_epoch = steps_per_epoch;
  }
  // One step of epoch e (one step per epoch), as fit takes it before the epoch's end.
  void step(int e) { state.lr = rate.next(e, e, e); }
  float lr() const { return rate.current(); }
};

// Runs a plateau callback over `values` of `key`; returns the rate after each epoch's end (the rate
// the next epoch uses).
std::vector<float> run_plateau(ReduceLROnPlateau& cb, const std::string& key, const std::vector<double>& values) {
  Harness h;
  cb.on_train_begin(h.state);
  std::vector<float> after;
  for (size_t e = 0; e < values.size(); ++e) {
    Logs logs{{key, values[e]}, {"loss", 0.5}};
    h.step(static_cast<int>(e));
    cb.on_epoch_end(static_cast<int>(e), logs, h.state);
    after.push_back(h.lr());
  }
  return after;
}

// The epochs (from 0) at whose end the rate changed.
std::vector<int> cuts(const std::vector<float>& after, float initial = 1.0f) {
  std::vector<int> out;
  float prev = initial;
  for (size_t e = 0; e < after.size(); ++e) {
    if (after[e] != prev) out.push_back(static_cast<int>(e));
    prev = after[e];
  }
  return out;
}

// Runs early stopping over `values`, stopping as fit does; returns the number of epochs run.
int run_early(EarlyStopping& cb, const std::string& key, const std::vector<double>& values, Model* model = nullptr,
              const std::function<void(int)>& before_epoch_end = {}) {
  Harness h(model);
  cb.on_train_begin(h.state);
  int run = 0;
  for (size_t e = 0; e < values.size() && !h.state.stop_training; ++e) {
    if (before_epoch_end) before_epoch_end(static_cast<int>(e));
    Logs logs{{key, values[e]}};
    cb.on_epoch_end(static_cast<int>(e), logs, h.state);
    ++run;
  }
  cb.on_train_end(h.state);
  return run;
}

Model tiny_model(bool with_batch_norm = false) {
  Model m;
  m.add<Dense>(3, "relu");
  if (with_batch_norm) m.add<BatchNorm>();
  m.add<Dense>(1, "sigmoid");
  m.build({2}, 7);
  return m;
}

void fill_model(Model& m, float v) {
  for (float& p : m.params()) p = v;
  for (float& s : m.state()) s = v + 0.5f;
}

}  // namespace

// ---------------------------------------------------------------- ReduceLROnPlateau

TEST(ReduceLROnPlateau, CutsAfterPatienceAndResetsTheWait) {
  // factor 0.5, patience 2: best 1.0 (e0), 0.9 (e1); e2, e3 no better -> cut at e3 (wait resets);
  // e4, e5 -> cut at e5; 0.8 improves at e6; e7, e8 -> cut at e8; e9, e10 -> cut at e10.
  ReduceLROnPlateau cb({.factor = 0.5, .patience = 2});
  auto after = run_plateau(cb, "val_loss", {1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8});
  EXPECT_EQ(cuts(after), (std::vector<int>{3, 5, 8, 10}));
  EXPECT_FLOAT_EQ(after.back(), 0.0625f);
  EXPECT_EQ(cb.wait(), 1);
}

TEST(ReduceLROnPlateau, CooldownAndMinLr) {
  // Constant values, factor 0.5, patience 2, cooldown 2, min_lr 0.1. A cut at e2 starts a cooldown
  // of 2: e3 counts it down to 1 (wait 0), e4 to 0 and, no longer in cooldown, waits 1; e5 waits 2
  // -> cut. So cuts every 3 epochs: e2, e5, e8, e11; the last is clamped to min_lr 0.1, and at e14
  // the rate is no longer above min_lr, so nothing happens.
  ReduceLROnPlateau cb({.factor = 0.5, .patience = 2, .cooldown = 2, .min_lr = 0.1});
  auto after = run_plateau(cb, "val_loss", std::vector<double>(15, 1.0));
  EXPECT_EQ(cuts(after), (std::vector<int>{2, 5, 8, 11}));
  EXPECT_FLOAT_EQ(after[8], 0.125f);
  EXPECT_FLOAT_EQ(after[11], 0.1f);
  EXPECT_FLOAT_EQ(after[14], 0.1f);
  EXPECT_EQ(cb.wait(), 2);  // not reset: no cut was made at e14
}

TEST(ReduceLROnPlateau, CooldownOfOneIsUsedUpInTheNextEpoch) {
  // Keras counts the cooldown down before testing, so with patience 0 a cooldown of 1 changes
  // nothing: every epoch after the first cuts. min_lr 0.05 stops it at e3.
  ReduceLROnPlateau cb({.factor = 0.3, .patience = 0, .cooldown = 1, .min_lr = 0.05});
  auto after = run_plateau(cb, "val_loss", std::vector<double>(8, 1.0));
  EXPECT_EQ(cuts(after), (std::vector<int>{1, 2, 3}));
  EXPECT_FLOAT_EQ(after[2], static_cast<float>(static_cast<double>(0.3f) * 0.3));
  EXPECT_FLOAT_EQ(after[3], 0.05f);
}

TEST(ReduceLROnPlateau, MinDeltaIsAbsolute) {
  // min_delta 0.05, patience 1: 0.96 is not 0.05 below 1.0 -> cut at e1; 0.90 is -> best; 0.86 and
  // 0.85 are not -> cuts at e3 and e4; 0.70 improves; 0.69 twice -> cuts at e6, e7.
  ReduceLROnPlateau cb({.factor = 0.1, .patience = 1, .min_delta = 0.05});
  auto after = run_plateau(cb, "val_loss", {1.0, 0.96, 0.90, 0.86, 0.85, 0.70, 0.69, 0.69});
  EXPECT_EQ(cuts(after), (std::vector<int>{1, 3, 4, 6, 7}));
}

TEST(ReduceLROnPlateau, ModeMaxOnValAccuracy) {
  // factor 0.2, patience 2, cooldown 1, maximising: 0.5, 0.6 improve; e2, e3 -> cut at e3; e4
  // ends the cooldown and 0.7 improves; e5, e6 -> cut; e7 ends the cooldown and waits 1, e8 -> cut;
  // e9 ends the cooldown and 0.71 improves; e10, e11 -> cut.
  const std::vector<double> acc = {0.5, 0.6, 0.6, 0.55, 0.7, 0.7, 0.7, 0.7, 0.7, 0.71, 0.7, 0.7, 0.7};
  ReduceLROnPlateau cb({.monitor = "val_accuracy", .factor = 0.2, .patience = 2, .mode = "max", .cooldown = 1});
  EXPECT_EQ(cuts(run_plateau(cb, "val_accuracy", acc)), (std::vector<int>{3, 6, 8, 11}));
  // mode auto knows accuracy rises.
  ReduceLROnPlateau autocb({.monitor = "val_accuracy", .factor = 0.2, .patience = 2, .cooldown = 1});
  EXPECT_EQ(cuts(run_plateau(autocb, "val_accuracy", acc)), (std::vector<int>{3, 6, 8, 11}));
}

TEST(ReduceLROnPlateau, KerasDefaults) {
  ReduceLROnPlateauOptions o;
  EXPECT_EQ(o.monitor, "val_loss");
  EXPECT_EQ(o.factor, 0.1);
  EXPECT_EQ(o.patience, 10);
  EXPECT_EQ(o.min_delta, 1e-4);
  EXPECT_EQ(o.cooldown, 0);
  EXPECT_EQ(o.min_lr, 0.0);
  ReduceLROnPlateau cb;
  auto after = run_plateau(cb, "val_loss", std::vector<double>(26, 1.0));
  EXPECT_EQ(cuts(after), (std::vector<int>{10, 20}));
}

TEST(ReduceLROnPlateau, MissingMonitorWarnsOnceAndDoesNothing) {
  ReduceLROnPlateau cb({.patience = 0});
  Harness h;
  cb.on_train_begin(h.state);
  ::testing::internal::CaptureStderr();
  for (int e = 0; e < 3; ++e) {
    Logs logs{{"loss", 1.0}};
    cb.on_epoch_end(e, logs, h.state);
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(h.lr(), 1.0f);
  EXPECT_TRUE(contains(err, "`val_loss` which is not available") && contains(err, "loss")) << err;
  EXPECT_EQ(err.find("warning"), err.rfind("warning")) << "warned more than once: " << err;
}

TEST(ReduceLROnPlateau, StateResetsAtTrainBegin) {
  ReduceLROnPlateau cb({.factor = 0.5, .patience = 1});
  run_plateau(cb, "val_loss", {0.1, 0.2});
  // A second fit starts with no best: 0.5 is the new best even though 0.1 was seen before.
  auto after = run_plateau(cb, "val_loss", {0.5, 0.4});
  EXPECT_TRUE(cuts(after).empty());
}

TEST(ReduceLROnPlateau, OptionsAreChecked) {
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.factor = 1.0}); }), "factor=1"));
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.factor = -0.5}); }), "factor=-0.5"));
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.patience = -1}); }), "patience=-1"));
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.min_delta = -1e-3}); }), "min_delta=-0.001"));
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.cooldown = -2}); }), "cooldown=-2"));
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.min_lr = -1}); }), "min_lr=-1"));
  EXPECT_TRUE(contains(error_of([] { ReduceLROnPlateau({.mode = "lowest"}); }), "\"lowest\""));
  const std::string e = error_of([] { ReduceLROnPlateau({.monitor = "val_widgets"}); });
  EXPECT_TRUE(contains(e, "'val_widgets'") && contains(e, "mode")) << e;
  EXPECT_NO_THROW(ReduceLROnPlateau({.monitor = "val_widgets", .mode = "min"}));
}

// ---------------------------------------------------------------- EarlyStopping

TEST(EarlyStopping, PatienceZeroStopsAtTheFirstEpochWithoutImprovement) {
  EarlyStopping cb;  // val_loss, patience 0
  EXPECT_EQ(run_early(cb, "val_loss", {1.0, 0.9, 0.95, 0.8}), 3);
  EXPECT_EQ(cb.stopped_epoch(), 2);
  EXPECT_EQ(cb.best_epoch(), 1);
}

TEST(EarlyStopping, PatienceCountsEpochsWithoutImprovement) {
  EarlyStopping cb({.patience = 2});
  EXPECT_EQ(run_early(cb, "val_loss", {1.0, 0.9, 0.95, 0.92, 0.91, 0.8}), 4);  // e2, e3 -> stop at e3
  EXPECT_EQ(cb.stopped_epoch(), 3);
  EXPECT_EQ(cb.wait(), 2);
}

TEST(EarlyStopping, MinDeltaIsAbsolute) {
  EarlyStopping cb({.min_delta = 0.05, .patience = 2});
  // 0.9 beats 1.0 by 0.1; 0.88 and 0.87 beat 0.9 by less than 0.05 -> stop at e3.
  EXPECT_EQ(run_early(cb, "val_loss", {1.0, 0.9, 0.88, 0.87, 0.86, 0.5}), 4);
  EXPECT_DOUBLE_EQ(*cb.best(), 0.9);
}

TEST(EarlyStopping, BaselineKeepsTheWaitGoing) {
  // Every epoch improves on the last, but none beats the baseline 0.5: the wait grows (Keras only
  // resets it when both are beaten), yet an improving epoch never stops training.
  EarlyStopping cb({.patience = 2, .baseline = 0.5});
  EXPECT_EQ(run_early(cb, "val_loss", {1.0, 0.9, 0.8, 0.7, 0.6}), 5);
  EXPECT_EQ(cb.wait(), 5);
  EXPECT_EQ(cb.stopped_epoch(), 0);
  // An epoch without improvement then stops at once, the wait being past patience.
  EarlyStopping again({.patience = 2, .baseline = 0.5});
  EXPECT_EQ(run_early(again, "val_loss", {1.0, 0.9, 0.8, 0.85}), 4);
  EXPECT_EQ(again.stopped_epoch(), 3);
  // Beating the baseline resets the wait.
  EarlyStopping beat({.patience = 2, .baseline = 0.5});
  EXPECT_EQ(run_early(beat, "val_loss", {1.0, 0.9, 0.4, 0.45, 0.45, 0.45}), 5);
  EXPECT_EQ(beat.stopped_epoch(), 4);
}

TEST(EarlyStopping, StartFromEpochIgnoresTheWarmUp) {
  EarlyStopping cb({.patience = 1, .start_from_epoch = 3});
  // Rising values, but epochs 0-2 are not monitored: e3 is the first best, e4 stops.
  EXPECT_EQ(run_early(cb, "val_loss", {1.0, 2.0, 3.0, 4.0, 5.0, 6.0}), 5);
  EXPECT_EQ(cb.stopped_epoch(), 4);
  EXPECT_EQ(cb.best_epoch(), 3);
}

TEST(EarlyStopping, ModeMaxAndAuto) {
  EarlyStopping cb({.monitor = "val_accuracy", .patience = 1, .mode = "max"});
  EXPECT_EQ(run_early(cb, "val_accuracy", {0.5, 0.6, 0.6, 0.7}), 3);
  EarlyStopping a({.monitor = "val_accuracy", .patience = 1});
  EXPECT_EQ(run_early(a, "val_accuracy", {0.5, 0.6, 0.6, 0.7}), 3);
}

TEST(EarlyStopping, RestoresTheBestEpochsParametersAndState) {
  Model m = tiny_model(true);
  EarlyStopping cb({.patience = 3, .restore_best_weights = true});
  // Before each epoch end the model holds parameters equal to the epoch number; the best val_loss
  // is at e1, and training stops at e4.
  const int run = run_early(cb, "val_loss", {1.0, 0.7, 0.8, 0.9, 0.95, 0.6}, &m, [&](int e) { fill_model(m, e); });
  EXPECT_EQ(run, 5);
  EXPECT_EQ(cb.best_epoch(), 1);
  for (float p : m.params()) ASSERT_EQ(p, 1.0f);
  for (float s : m.state()) ASSERT_EQ(s, 1.5f);
}

TEST(EarlyStopping, RestoresEvenWithoutStoppingAsKeras3) {
  Model m = tiny_model();
  EarlyStopping cb({.patience = 10, .restore_best_weights = true});
  run_early(cb, "val_loss", {1.0, 0.5, 0.7, 0.8}, &m, [&](int e) { fill_model(m, e); });
  EXPECT_EQ(cb.stopped_epoch(), 0);
  for (float p : m.params()) ASSERT_EQ(p, 1.0f);
  // Without restore_best_weights the last parameters stay.
  EarlyStopping keep({.patience = 10});
  run_early(keep, "val_loss", {1.0, 0.5, 0.7, 0.8}, &m, [&](int e) { fill_model(m, e); });
  for (float p : m.params()) ASSERT_EQ(p, 3.0f);
}

TEST(EarlyStopping, MissingMonitorWarnsAndNeverStops) {
  EarlyStopping cb;
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(run_early(cb, "loss", {1.0, 2.0, 3.0}), 3);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(err, "Early stopping conditioned on metric `val_loss`")) << err;
}

TEST(EarlyStopping, OptionsAreChecked) {
  EXPECT_TRUE(contains(error_of([] { EarlyStopping({.patience = -1}); }), "patience=-1"));
  EXPECT_TRUE(contains(error_of([] { EarlyStopping({.min_delta = -0.1}); }), "min_delta=-0.1"));
  EXPECT_TRUE(contains(error_of([] { EarlyStopping({.start_from_epoch = -3}); }), "start_from_epoch=-3"));
  EXPECT_TRUE(contains(error_of([] { EarlyStopping({.monitor = "speed"}); }), "'speed'"));
}

// ---------------------------------------------------------------- against Keras itself

TEST(Callbacks, MatchKerasGoldenScenarios) {
  std::ifstream in(std::string(NNLAB_TEST_DATA) + "/schedule_golden.json");
  ASSERT_TRUE(in.good());
  const json golden = json::parse(in);
  for (const auto& c : golden.at("reduce_lr_on_plateau")) {
    const json& o = c.at("options");
    ReduceLROnPlateauOptions opt;
    opt.monitor = o.value("monitor", opt.monitor);
    opt.factor = o.value("factor", opt.factor);
    opt.patience = o.value("patience", opt.patience);
    opt.mode = o.value("mode", opt.mode);
    opt.min_delta = o.value("min_delta", opt.min_delta);
    opt.cooldown = o.value("cooldown", opt.cooldown);
    opt.min_lr = o.value("min_lr", opt.min_lr);
    ReduceLROnPlateau cb(opt);
    const auto after = run_plateau(cb, opt.monitor, c.at("values").get<std::vector<double>>());
    const auto want = c.at("lr_after").get<std::vector<double>>();
    ASSERT_EQ(after.size(), want.size());
    for (size_t e = 0; e < want.size(); ++e) EXPECT_EQ(after[e], static_cast<float>(want[e])) << o.dump() << " epoch " << e;
  }
  for (const auto& c : golden.at("early_stopping")) {
    const json& o = c.at("options");
    EarlyStoppingOptions opt;
    opt.monitor = o.value("monitor", opt.monitor);
    opt.min_delta = o.value("min_delta", opt.min_delta);
    opt.patience = o.value("patience", opt.patience);
    opt.mode = o.value("mode", opt.mode);
    if (o.contains("baseline")) opt.baseline = o.at("baseline").get<double>();
    opt.restore_best_weights = o.value("restore_best_weights", false);
    opt.start_from_epoch = o.value("start_from_epoch", 0);
    Model m = tiny_model();
    EarlyStopping cb(opt);
    const int run = run_early(cb, opt.monitor, c.at("values").get<std::vector<double>>(), &m);
    EXPECT_EQ(run, c.at("epochs_run").get<int>()) << o.dump();
    EXPECT_EQ(cb.stopped_epoch(), c.at("stopped_epoch").get<int>()) << o.dump();
    EXPECT_EQ(cb.best_epoch(), c.at("best_epoch").get<int>()) << o.dump();
    EXPECT_EQ(cb.wait(), c.at("wait").get<int>()) << o.dump();
  }
}

// ---------------------------------------------------------------- CSVLogger

TEST(CSVLogger, WritesAndFlushesARowPerEpoch) {
  const std::string dir = temp_dir("csv");
  const std::string path = dir + "/log.csv";
  CSVLogger cb(path);
  Harness h;
  cb.on_train_begin(h.state);
  Logs e0{{"loss", 0.5}, {"accuracy", 0.75}, {"val_loss", 0.625}, {"lr", 0.1}};
  cb.on_epoch_end(0, e0, h.state);
  EXPECT_EQ(slurp(path), "epoch,accuracy,loss,lr,val_loss\n0,0.75,0.5,0.1,0.625\n");  // flushed already
  Logs e1{{"loss", 0.25}, {"accuracy", 1.0}, {"lr", 0.05}};  // no val_loss this epoch
  cb.on_epoch_end(1, e1, h.state);
  cb.on_train_end(h.state);
  EXPECT_EQ(slurp(path), "epoch,accuracy,loss,lr,val_loss\n0,0.75,0.5,0.1,0.625\n1,1,0.25,0.05,\n");

  // append: no second header; a fresh logger without append starts over.
  CSVLogger more(path, true);
  more.on_train_begin(h.state);
  Logs e2{{"loss", 0.125}, {"accuracy", 1.0}, {"val_loss", 0.5}, {"lr", 0.05}};
  more.on_epoch_end(2, e2, h.state);
  more.on_train_end(h.state);
  const std::string text = slurp(path);
  EXPECT_EQ(text, "epoch,accuracy,loss,lr,val_loss\n0,0.75,0.5,0.1,0.625\n1,1,0.25,0.05,\n2,1,0.125,0.05,0.5\n");
  History back = History::from_csv(text, path);
  ASSERT_EQ(back.logs.size(), 3u);
  EXPECT_EQ(back.epochs[2], 2);
  EXPECT_DOUBLE_EQ(back.logs[0]["val_loss"], 0.625);
  EXPECT_FALSE(back.logs[1].count("val_loss"));

  CSVLogger fresh(path);
  fresh.on_train_begin(h.state);
  fresh.on_epoch_end(0, e2, h.state);
  fresh.on_train_end(h.state);
  EXPECT_EQ(slurp(path), "epoch,accuracy,loss,lr,val_loss\n0,1,0.125,0.05,0.5\n");
}

TEST(CSVLogger, AppendToANewFileWritesTheHeaderAndBadPathsFail) {
  const std::string dir = temp_dir("csv_append");
  CSVLogger cb(dir + "/new.csv", true, ';');
  Harness h;
  cb.on_train_begin(h.state);
  Logs l{{"loss", 2.0}};
  cb.on_epoch_end(0, l, h.state);
  cb.on_train_end(h.state);
  EXPECT_EQ(slurp(dir + "/new.csv"), "epoch;loss\n0;2\n");
  CSVLogger bad(dir + "/missing/folder/log.csv");
  EXPECT_TRUE(contains(error_of([&] { bad.on_train_begin(h.state); }), "missing/folder/log.csv"));
}

// ---------------------------------------------------------------- ModelCheckpoint

TEST(ModelCheckpoint, BestOnlyWritesOnlyOnImprovement) {
  const std::string dir = temp_dir("ckpt");
  Model m = tiny_model();
  Harness h(&m);
  ModelCheckpoint every_best(dir + "/sub/ckpt-{epoch:02d}.safetensors", {.save_best_only = true});
  ModelCheckpoint single(dir + "/best.safetensors", {.save_best_only = true});
  const std::vector<double> val = {1.0, 0.8, 0.9, 0.7, 0.7};
  for (int e = 0; e < 5; ++e) {
    fill_model(m, static_cast<float>(e));
    Logs logs{{"loss", 1.0}, {"val_loss", val[e]}};
    every_best.on_epoch_end(e, logs, h.state);
    single.on_epoch_end(e, logs, h.state);
  }
  for (int e = 1; e <= 5; ++e) {
    char name[64];
    std::snprintf(name, sizeof(name), "/sub/ckpt-%02d.safetensors", e);
    EXPECT_EQ(fs::exists(dir + name), e == 1 || e == 2 || e == 4) << name;
  }
  std::map<std::string, std::string> meta;
  Model best = load_model(dir + "/best.safetensors", &meta);
  for (float p : best.params()) ASSERT_EQ(p, 3.0f);  // epoch index 3 had val_loss 0.7 first
  EXPECT_EQ(meta["nnlab.checkpoint.epoch"], "4");
  EXPECT_DOUBLE_EQ(*single.best(), 0.7);
}

TEST(ModelCheckpoint, SavesEveryEpochAndFormatsLogValues) {
  const std::string dir = temp_dir("ckpt_all");
  Model m = tiny_model();
  Harness h(&m);
  ModelCheckpoint cb(dir + "/m-{epoch}-{val_loss:.2f}.safetensors");
  for (int e = 0; e < 3; ++e) {
    Logs logs{{"val_loss", 0.5 / (e + 1)}};
    cb.on_epoch_end(e, logs, h.state);
  }
  EXPECT_TRUE(fs::exists(dir + "/m-1-0.50.safetensors"));
  EXPECT_TRUE(fs::exists(dir + "/m-2-0.25.safetensors"));
  EXPECT_TRUE(fs::exists(dir + "/m-3-0.17.safetensors"));
  EXPECT_EQ(cb.path_for(9, {{"val_loss", 0.1}}), dir + "/m-10-0.10.safetensors");
  ModelCheckpoint padded("x/{epoch:03d}{{literal}}.st");
  EXPECT_EQ(padded.path_for(6, {}), "x/007{literal}.st");
}

TEST(ModelCheckpoint, PathErrorsAreClear) {
  EXPECT_TRUE(contains(error_of([] { ModelCheckpoint("m-{epoch.st"); }), "no closing"));
  EXPECT_TRUE(contains(error_of([] { ModelCheckpoint("m-{epoch:x}.st"); }), "unsupported format"));
  ModelCheckpoint cb("m-{val_acc:.3f}.st");
  const std::string e = error_of([&] { cb.path_for(0, {{"loss", 1.0}}); });
  EXPECT_TRUE(contains(e, "{val_acc}") && contains(e, "loss")) << e;
}

TEST(ModelCheckpoint, MissingMonitorWarnsAndSaves) {
  const std::string dir = temp_dir("ckpt_missing");
  Model m = tiny_model();
  Harness h(&m);
  ModelCheckpoint cb(dir + "/m.safetensors", {.save_best_only = true});
  ::testing::internal::CaptureStderr();
  Logs logs{{"loss", 1.0}};
  cb.on_epoch_end(0, logs, h.state);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(contains(err, "Can save best model only with val_loss available")) << err;
  EXPECT_TRUE(fs::exists(dir + "/m.safetensors"));
}

// ---------------------------------------------------------------- with Trainer::fit

namespace {

// Records the rate each optimizer step used: st.lr in on_batch_end belongs to step iteration - 1.
struct RateProbe : Callback {
  std::vector<std::pair<int64_t, float>> steps;
  void on_batch_end(int64_t, const Logs&, TrainState& s) override { steps.emplace_back(s.iteration - 1, s.lr); }
};

}  // namespace

TEST(CallbacksInFit, PlateauAndSchedulerCutsShowInTheHistory) {
  InMemoryDataset d = truth_table("xor");
  Model m = truth_table_model("mlp", 1);
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", json{{"learning_rate", 0.1}}));
  // min_delta 10 means no epoch after the first counts as better: with patience 2 the rate halves
  // at the end of epochs 2, 4, 6, 8 and 10 (the wait resets after each cut), taking effect in the
  // next epoch; the scheduler also halves it at the start of epoch 6.
  ReduceLROnPlateau plateau({.factor = 0.5, .patience = 2, .min_delta = 10.0});
  LearningRateScheduler scheduler([](int epoch, float lr) { return epoch == 6 ? lr * 0.5f : lr; });
  FitOptions fit;
  fit.epochs = 12;
  fit.batch_size = 4;
  fit.verbose = 0;
  History h = t.fit(d, fit, &d, {&scheduler, &plateau});
  const std::vector<double> want = {0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.0125, 0.00625, 0.00625, 0.003125, 0.003125,
                                    0.0015625};
  const auto lr = h.column("lr");
  ASSERT_EQ(lr.size(), want.size());
  for (size_t e = 0; e < want.size(); ++e) EXPECT_NEAR(lr[e], want[e], 1e-7 * want[e]) << "epoch " << e;
}

TEST(CallbacksInFit, ScheduleCallbackSetsTheRateOfEveryStep) {
  InMemoryDataset d = truth_table("xor");
  Model m = truth_table_model("mlp", 2);
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", json{{"learning_rate", 0.2}}));
  auto schedule = std::shared_ptr<Schedule>(make_exponential_decay({.decay_steps = 3, .decay_rate = 0.5}));
  ScheduleCallback cb(schedule);
  RateProbe probe;
  FitOptions fit;
  fit.epochs = 5;
  fit.batch_size = 2;  // 2 steps per epoch
  fit.verbose = 0;
  History h = t.fit(d, fit, nullptr, {&cb, &probe});
  ASSERT_EQ(probe.steps.size(), 10u);
  for (const auto& [k, used] : probe.steps) {
    EXPECT_NEAR(used, 0.2 * std::pow(0.5, k / 3.0), 1e-7) << "step " << k;
  }
  // The history's rate is the one of each epoch's last step; the base is back after training.
  EXPECT_NEAR(h.logs[4]["lr"], 0.2 * std::pow(0.5, 9 / 3.0), 1e-7);
  EXPECT_FLOAT_EQ(t.learning_rate().scaled_base(), 0.2f);
}

TEST(CallbacksInFit, ScheduleCallbackFollowsAPlateauCut) {
  InMemoryDataset d = truth_table("xor");
  Model m = truth_table_model("mlp", 3);
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", json{{"learning_rate", 0.1}}));
  ScheduleCallback cb(std::shared_ptr<Schedule>(make_formula_schedule("lr * (1 + step / 100)")));
  ReduceLROnPlateau plateau({.factor = 0.5, .patience = 1, .min_delta = 10.0});
  RateProbe probe;
  FitOptions fit;
  fit.epochs = 3;
  fit.batch_size = 4;  // one step per epoch
  fit.verbose = 0;
  t.fit(d, fit, &d, {&cb, &plateau, &probe});
  // Step 0: 0.1; step 1: 0.1 * 1.01; the cut at the end of epoch 1 halves the base: step 2 = 0.05 * 1.02.
  ASSERT_EQ(probe.steps.size(), 3u);
  EXPECT_NEAR(probe.steps[0].second, 0.1, 1e-7);
  EXPECT_NEAR(probe.steps[1].second, 0.101, 1e-7);
  EXPECT_NEAR(probe.steps[2].second, 0.051, 1e-7);
  // The cut at the end of epoch 2 halves the rate once more; after training a fit without the
  // schedule would start from the cut base.
  EXPECT_NEAR(t.learning_rate().scaled_base(), 0.025, 1e-7);
}

TEST(CallbacksInFit, BadSchedulesFailBeforeTheFirstStep) {
  InMemoryDataset d = truth_table("xor");
  Model m = truth_table_model("mlp", 1);
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", json{{"learning_rate", 0.1}}));
  FitOptions fit;
  fit.epochs = 5;
  fit.verbose = 0;
  ScheduleCallback per_step(std::shared_ptr<Schedule>(make_formula_schedule("0.01 * abs(1/(epoch-2))")));
  std::string e = error_of([&] { t.fit(d, fit, nullptr, {&per_step}); });
  EXPECT_TRUE(contains(e, "'0.01 * abs(1/(epoch-2))'") && contains(e, "inf at epoch 2")) << e;
  LearningRateScheduler chained(std::shared_ptr<Schedule>(make_formula_schedule("lr - 0.03")));
  e = error_of([&] { t.fit(d, fit, nullptr, {&chained}); });
  EXPECT_TRUE(contains(e, "'lr - 0.03'") && contains(e, "epoch 3")) << e;  // 0.07, 0.04, 0.01, -0.02
  EXPECT_EQ(t.optimizer().iterations, 0);
  LearningRateScheduler fn([](int epoch, float lr) { return epoch == 1 ? -lr : lr; });
  e = error_of([&] { t.fit(d, fit, nullptr, {&fn}); });
  EXPECT_TRUE(contains(e, "LearningRateScheduler") && contains(e, "epoch 1")) << e;
}

TEST(CallbacksInFit, EarlyStoppingEndsFitAndCsvLoggerRecordsIt) {
  const std::string dir = temp_dir("fit");
  InMemoryDataset d = truth_table("xor");
  Model m = truth_table_model("mlp", 1);
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", json{{"learning_rate", 0.1}}));
  EarlyStopping stop({.min_delta = 10.0, .patience = 3});  // nothing after epoch 0 counts as better
  CSVLogger log(dir + "/h.csv");
  FitOptions fit;
  fit.epochs = 50;
  fit.verbose = 0;
  History h = t.fit(d, fit, &d, {&stop, &log});
  EXPECT_EQ(h.logs.size(), 4u);  // epochs 0-3: the wait reaches 3 at epoch 3
  EXPECT_EQ(stop.stopped_epoch(), 3);
  History back = History::from_csv(slurp(dir + "/h.csv"), "h.csv");
  ASSERT_EQ(back.logs.size(), 4u);
  EXPECT_NEAR(back.logs[3]["val_loss"], h.logs[3]["val_loss"], 1e-12);
}

// --- StochasticWeightAveraging ---------------------------------------------------------------------

namespace {
// Records the model's weights at every epoch end (it runs before the averaging callback).
struct WeightRecorder : Callback {
  std::vector<std::vector<float>> at_epoch_end;
  void on_epoch_end(int, Logs&, TrainState& s) override {
    at_epoch_end.emplace_back(s.model->params().begin(), s.model->params().end());
  }
};

// The course MLP on XOR (SGD 0.5, batch 2) for `epochs` epochs with the callbacks given.
void fit_xor(Model& m, int epochs, const std::vector<Callback*>& callbacks) {
  InMemoryDataset d = truth_table("xor");
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", {{"learning_rate", 0.5}}));
  FitOptions fit;
  fit.epochs = epochs;
  fit.batch_size = 2;
  fit.verbose = 0;
  t.fit(d, fit, nullptr, callbacks);
}
}  // namespace

TEST(StochasticWeightAveraging, TheModelIsTheMeanOfTheWeightsFromStartEpochOn) {
  for (int start : {2, -1}) {  // -1: three quarters of 6 epochs, epoch 4
    SCOPED_TRACE(start);
    Model m = truth_table_model("mlp", 1);
    WeightRecorder rec;
    StochasticWeightAveraging swa({start, 0});
    fit_xor(m, 6, {&rec, &swa});
    const int first = start >= 0 ? start : 4;
    EXPECT_EQ(swa.averaged(), 6 - first);
    ASSERT_EQ(rec.at_epoch_end.size(), 6u);
    const auto p = m.params();
    double moved = 0;
    for (size_t i = 0; i < p.size(); ++i) {
      double mean = 0;
      for (int e = first; e < 6; ++e) mean += rec.at_epoch_end[e][i];
      mean /= 6 - first;
      EXPECT_NEAR(p[i], mean, 1e-6) << "weight " << i;
      moved += std::fabs(rec.at_epoch_end.back()[i] - mean);
    }
    EXPECT_GT(moved, 1e-4);  // the average is not simply the last epoch's weights
  }
}

TEST(StochasticWeightAveraging, NothingChangesWhenTrainingEndsBeforeStartEpoch) {
  Model m = truth_table_model("mlp", 1);
  WeightRecorder rec;
  StochasticWeightAveraging swa({5, 0});
  fit_xor(m, 3, {&rec, &swa});
  EXPECT_EQ(swa.averaged(), 0);
  EXPECT_EQ(std::vector<float>(m.params().begin(), m.params().end()), rec.at_epoch_end.back());
}

TEST(StochasticWeightAveraging, BadStartEpochIsNamed) {
  const std::string msg = error_of([] { StochasticWeightAveraging({-2, 0}); });
  EXPECT_TRUE(contains(msg, "start_epoch")) << msg;
  EXPECT_TRUE(contains(msg, "-2")) << msg;
  const std::string key = error_of([] {
    Experiment::from_json({{"data", {{"dataset", "xor"}}},
                           {"model", {{"layers", json::array({{{"type", "dense"}, {"units", 1}}})}}},
                           {"swa", {{"start", 3}}}},
                          "x.toml");
  });
  EXPECT_TRUE(contains(key, "x.toml [swa]")) << key;
  EXPECT_TRUE(contains(key, "unknown key 'start'")) << key;
}

// --- SwapEMAWeights ---------------------------------------------------------------------------------

namespace {
// The course MLP on XOR with SGD (0.5, use_ema, momentum 0.8), XOR itself as validation data. Returns
// the history; `final_loss` is the loss of the model fit leaves (the average, with use_ema).
History fit_xor_ema(Model& m, const std::vector<Callback*>& callbacks, double& final_loss) {
  InMemoryDataset d = truth_table("xor");
  Trainer t(m, make_loss("binary_crossentropy"),
            make_optimizer("sgd", {{"learning_rate", 0.5}, {"use_ema", true}, {"ema_momentum", 0.8}}));
  FitOptions fit;
  fit.epochs = 6;
  fit.batch_size = 2;
  fit.verbose = 0;
  History h = t.fit(d, fit, &d, callbacks);
  final_loss = t.evaluate(d, 4).at("loss");
  return h;
}
}  // namespace

TEST(SwapEMAWeights, ValidationMeasuresTheAverageAndTrainingIsUnchanged) {
  Model plain = truth_table_model("mlp", 1), swapped = truth_table_model("mlp", 1);
  WeightRecorder plain_weights, swapped_weights;
  SwapEMAWeights swap;
  double plain_final = 0, swapped_final = 0;
  const History a = fit_xor_ema(plain, {&plain_weights}, plain_final);
  const History b = fit_xor_ema(swapped, {&swap, &swapped_weights}, swapped_final);
  // The same steps: the callbacks after the swap see the raw weights at every epoch end.
  EXPECT_EQ(plain_weights.at_epoch_end, swapped_weights.at_epoch_end);
  EXPECT_EQ(plain_final, swapped_final);
  // The last epoch's val_loss is the loss of the averaged model fit ends with, only with the swap.
  EXPECT_NEAR(b.logs.back().at("val_loss"), swapped_final, 1e-6);
  EXPECT_GT(std::fabs(a.logs.back().at("val_loss") - plain_final), 1e-4);
  EXPECT_EQ(a.logs.back().at("loss"), b.logs.back().at("loss"));
}

TEST(SwapEMAWeights, WithoutUseEmaItIsRefusedNamingTheTable) {
  auto load = [](json optimizer) {
    Experiment::from_json({{"data", {{"dataset", "xor"}}},
                           {"model", {{"layers", json::array({{{"type", "dense"}, {"units", 1}}})}}},
                           {"optimizer", optimizer},
                           {"swap_ema_weights", json::object()}},
                          "x.toml");
  };
  const std::string msg = error_of([&] { load({{"learning_rate", 0.1}}); });
  EXPECT_TRUE(contains(msg, "x.toml [swap_ema_weights]")) << msg;
  EXPECT_TRUE(contains(msg, "use_ema")) << msg;
  EXPECT_NO_THROW(load({{"use_ema", true}}));  // accepted with the average
  Model m = truth_table_model("mlp", 1);
  SwapEMAWeights swap;
  InMemoryDataset d = truth_table("xor");
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", {{"learning_rate", 0.5}}));
  FitOptions fit;
  fit.epochs = 1;
  fit.verbose = 0;
  const std::string run = error_of([&] { t.fit(d, fit, &d, {&swap}); });
  EXPECT_TRUE(contains(run, "use_ema = true")) << run;
}
