// Bad input of every kind that issue 13 found nnlab mishandling, generated here: each is refused with
// one line that names the file, key or value and what would be valid, an exit code below 128 (never
// a crash), and no run folder left behind. One test per class of defect.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "nnlab/data/binary.hpp"
#include "nnlab/nnlab.hpp"
#include "test_util.hpp"

using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::run_nnlab;
using nnlab::testing::TempDirTest;
namespace fs = std::filesystem;

namespace {

int count_lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

// Runs `nnlab args` and expects a refusal: exit code `code` and one error line holding every key word
// (train may print its experiment and model before a refusal that needs the data or the checkpoint).
void expect_refused(const std::string& args, int code, const std::vector<std::string>& words) {
  SCOPED_TRACE(args.substr(0, 300));
  const auto r = run_nnlab(args);
  EXPECT_EQ(r.exit_code, code) << r.output;
  const auto at = r.output.find("nnlab: error: ");
  ASSERT_NE(at, std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("nnlab: error: ", at + 1), std::string::npos) << "two errors: " << r.output;
  const std::string line = r.output.substr(at, r.output.find('\n', at) - at);
  for (const auto& w : words) EXPECT_CONTAINS(line, w);
}

const char* kTwoLayers = "[model]\nlayers = [{type = \"dense\", units = 8, activation = \"relu\"}, "
                         "{type = \"dense\", units = 1, activation = \"sigmoid\"}]\n"
                         "[train]\nloss = \"binary_crossentropy\"\noptimizer = \"sgd\"\nepochs = 2\nbatch_size = 4\n";

class BadInput : public TempDirTest {
 protected:
  // An experiment file in the test's folder.
  std::string experiment(const std::string& name, const std::string& text) {
    const std::string p = path(name);
    nnlab::testing::write_file(p, text);
    return p;
  }
  // A finished two-epoch XOR run folder (with its checkpoint), for the resume and model cases.
  std::string xor_run(const std::string& name) {
    const std::string exp = experiment(name + ".toml", std::string("seed = 1\n[data]\ndataset = \"xor\"\n") + kTwoLayers);
    const std::string out = path(name);
    const auto r = run_nnlab("train " + exp + " --quiet --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return out;
  }
  // A .nnds file of n samples with `features` features and `classes` classes.
  std::string nnds(const std::string& name, int64_t n, int64_t features, int64_t classes) {
    const std::string p = path(name);
    write_binary_dataset(p, nnlab::testing::random_dataset(n, {features}, classes, false, 3));
    return p;
  }
  // Rewrites a safetensors file through f.
  static void edit(const std::string& file, const std::function<void(SafetensorsFile&)>& f) {
    SafetensorsFile s = read_safetensors(file);
    f(s);
    write_safetensors(file, s);
  }
  static void edit_checkpoint_meta(const std::string& file, const std::function<void(nlohmann::json&)>& f) {
    edit(file, [&](SafetensorsFile& s) {
      auto meta = nlohmann::json::parse(s.metadata.at("nnlab.checkpoint"));
      f(meta);
      s.metadata["nnlab.checkpoint"] = meta.dump();
    });
  }
  // Bytes of a safetensors file whose header is `header` (padded) followed by `data`.
  static std::string raw_safetensors(std::string header, const std::string& data) {
    while ((8 + header.size()) % 8) header += ' ';
    std::string out(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
    return out + header + data;
  }
  size_t entries() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(dir_), fs::directory_iterator{}));
  }
};

}  // namespace

// --- crashes ---------------------------------------------------------------------------------------

TEST_F(BadInput, DeeplyNestedJsonIsRefusedNotAStackOverflow) {
  const int depth = 100000;
  const std::string exp = experiment("deep.json", "{\"name\": \"deep\", \"seed\": " + std::string(depth, '[') +
                                                      std::string(depth, ']') + "}");
  expect_refused("train " + exp + " --out " + path("run"), 1, {"deep.json", "nested more than 64"});
  EXPECT_FALSE(fs::exists(path("run")));
  const std::string toml = experiment("deep.toml", "x = " + std::string(depth, '[') + std::string(depth, ']') + "\n");
  expect_refused("train " + toml, 1, {"deep.toml", "nested"});
  // In a model file's header (its metadata would be copied and printed).
  nnlab::testing::write_file(path("deep.safetensors"),
                             raw_safetensors("{\"__metadata__\": {\"a\": " + std::string(depth, '[') +
                                                 std::string(depth, ']') + "}}",
                                             ""));
  expect_refused("summary " + path("deep.safetensors"), 1, {"deep.safetensors", "nested more than 64"});
  // Found by fuzz_experiment: a number too large for a double, refused naming the file.
  const std::string huge = experiment("huge.json", "{\"seed\": 22000084e701}");
  expect_refused("train " + huge, 1, {"huge.json", "not valid JSON", "number overflow"});
  // Deep but legal nesting still reaches the normal checks.
  const std::string ok = experiment("ok.json", "{\"x\": [[[1]]]}");
  expect_refused("train " + ok, 1, {"ok.json", "missing [model]"});
}

TEST_F(BadInput, ThreadCountIsBoundedNamingTheCores) {
  expect_refused("train xor --threads 100000", 2, {"--threads must be a whole number from 1 to", "cores", "100000"});
  const std::string exp = experiment("t.toml", "threads = 100000\n[data]\ndataset = \"xor\"\n" + std::string(kTwoLayers));
  expect_refused("train " + exp, 1, {"t.toml", "threads must be", "cores", "100000"});
  EXPECT_THROW(kernels::set_num_threads(kernels::max_threads() + 1), Error);
}

TEST_F(BadInput, HugeSizesAreRefusedNamingTheLayerBeforeAllocating) {
  const std::string units = experiment("units.toml", "[data]\ndataset = \"xor\"\n[model]\nlayers = [{type = \"dense\", "
                                                     "units = 1000000000000}, {type = \"dense\", units = 1}]\n");
  expect_refused("train " + units + " --out " + path("run"), 1, {"dense_1", "parameters", "memory"});
  const std::string pieces = experiment("pieces.toml", "[data]\ndataset = \"xor\"\n[model]\nlayers = [{type = \"maxout\", "
                                                       "units = 10000000000, pieces = 100000000000}]\n");
  expect_refused("train " + pieces, 1, {"maxout", "too large"});
  expect_refused("summary " + pieces, 1, {"maxout"});
  expect_refused("data synth --samples 10 --features 16777216 --classes 65536 --out " + path("s.nnds"), 1,
                 {"classes x features", "65536 x 16777216"});
  EXPECT_FALSE(fs::exists(path("run")));
}

TEST_F(BadInput, ModelFileAskingForMoreThanItHoldsIsRefusedBeforeAllocating) {
  // Metadata asking for 1e10 units, with a tensor of 4 values.
  const nlohmann::json arch = {{"input", {2}}, {"layers", {{{"type", "dense"}, {"units", 10000000000LL}, {"name", "big"}}}}};
  SafetensorsFile f;
  f.metadata["nnlab.model"] = arch.dump();
  f.metadata["nnlab.format"] = "1";
  f.tensors["big.kernel"] = Tensor({2, 2});
  write_safetensors(path("big.safetensors"), f);
  expect_refused("summary " + path("big.safetensors"), 1, {"big.safetensors", "'big'", "4 values"});
  // Input 2^32 and 2^32 units: 2^64 weights, a size no int64 holds (was signed overflow).
  f.metadata["nnlab.model"] =
      nlohmann::json({{"input", {4294967296LL}}, {"layers", {{{"type", "dense"}, {"units", 4294967296LL}}}}}).dump();
  write_safetensors(path("wide.safetensors"), f);
  expect_refused("predict " + path("wide.safetensors") + " --input 1", 1, {"wide.safetensors", "dense_1", "2^63"});
}

TEST(BadSizes, ShapeSizeAndCheckedMulThrowInsteadOfOverflowing) {
  EXPECT_EQ(shape_size({3, 0, int64_t{1} << 62, 5}), 0);
  EXPECT_EQ(shape_size({int64_t{1} << 31, int64_t{1} << 31}), int64_t{1} << 62);
  EXPECT_CONTAINS(nnlab::testing::error_of([] { shape_size({10000000000LL, 10000000000LL}); }), "2^63 - 1");
  EXPECT_CONTAINS(nnlab::testing::error_of([] { shape_size({2, -1}); }), "negative");
  EXPECT_CONTAINS(nnlab::testing::error_of([] { checked_mul(int64_t{1} << 40, int64_t{1} << 40, "w"); }), "w:");
}

// --- silent wrong answers --------------------------------------------------------------------------

TEST_F(BadInput, IntegerSettingsAreNeverNarrowed) {
  for (const char* v : {"4294967297", "4294967296", "2147483648"}) {
    const auto r = run_nnlab("train xor --set train.epochs=" + std::string(v) + " --quiet --out " + path("run"));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_CONTAINS(r.output, std::string("'epochs' must be a whole number from -2147483648 to 2147483647, got ") + v);
  }
  expect_refused("train xor --set seed=1e30", 1, {"'seed'", "1e+30"});
  expect_refused("train xor --set train.batch_size=2.5", 1, {"'batch_size'", "2.5"});
  expect_refused("train xor --epochs 4294967297", 2, {"--epochs must be a whole number of at most 2147483647"});
  EXPECT_FALSE(fs::exists(path("run")));
}

TEST_F(BadInput, CorruptCheckpointsAreRefused) {
  const std::string run = xor_run("run");
  const std::string ckpt = run + "/checkpoint.safetensors";
  const std::string saved = nnlab::testing::read_bytes(ckpt);
  edit_checkpoint_meta(ckpt, [](nlohmann::json& m) { m["next_epoch"] = -3; });
  expect_refused("train --resume " + run, 1, {"checkpoint.safetensors", "'next_epoch'", "-3"});
  edit_checkpoint_meta(ckpt, [](nlohmann::json& m) { m["next_epoch"] = 50; });
  expect_refused("train --resume " + run, 1, {"checkpoint.safetensors", "next_epoch is 50", "2 epochs"});
  nnlab::testing::write_file(ckpt, saved);
  edit(ckpt, [](SafetensorsFile& s) { s.tensors["model/dense_9.kernel"] = Tensor({1}); });
  expect_refused("train --resume " + run, 1, {"checkpoint.safetensors", "model/dense_9.kernel"});
  // The untouched checkpoint still resumes (a finished run: nothing left to train).
  nnlab::testing::write_file(ckpt, saved);
  const auto ok = run_nnlab("train --resume " + run + " --quiet");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

TEST_F(BadInput, TestTimeAugmentationNeedsAnAugmentTable) {
  const std::string run = xor_run("run");
  expect_refused("evaluate " + run + " --tta 2", 1, {"--tta 2", "no [augment] table"});
  expect_refused("evaluate " + run + " --tta -1", 2, {"--tta"});  // a usage error, as every bad flag
}

TEST_F(BadInput, NanAndInfinityAreRefusedWhereTheyWouldGiveWrongAnswers) {
  const std::string run = xor_run("run");
  const std::string model = run + "/model.safetensors";
  edit(model, [](SafetensorsFile& s) { s.tensors.at("dense_1.kernel").data()[3] = std::nanf(""); });
  expect_refused("evaluate " + run, 1, {"model.safetensors", "dense_1.kernel", "NaN"});
  edit(model, [](SafetensorsFile& s) {
    s.tensors.at("dense_1.kernel").data()[3] = 0.5f;
    s.tensors.at("dense_2.bias").data()[0] = std::numeric_limits<float>::infinity();
  });
  expect_refused("predict " + run + " --input 0,1", 1, {"dense_2.bias", "infinity"});

  // .nnds features (the CSV reader already refuses NaN).
  InMemoryDataset d = nnlab::testing::random_dataset(64, {4}, 2, false, 5);
  d.x()[4 * 10 + 2] = std::nanf("");
  write_binary_dataset(path("nan.nnds"), d);
  const std::string exp = experiment("nan.toml", "[data]\ndataset = \"file\"\ntrain = \"" + path("nan.nnds") +
                                                     "\"\n[model]\nlayers = [{type = \"dense\", units = 2, activation = "
                                                     "\"softmax\"}]\n[train]\nepochs = 1\n");
  const auto r = run_nnlab("train " + exp + " --quiet --out " + path("nan-run"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_CONTAINS(r.output, "nan.nnds: sample 10 has feature 2 = nan");

  const std::string good = xor_run("good");
  expect_refused("predict " + good + " --input nan,0", 1, {"--input 1", "'nan'", "not a finite number"});
  expect_refused("predict " + good + " --input 0,inf", 1, {"--input 1", "'inf'"});
  expect_refused("train xor --lr nan", 2, {"--lr must be a finite number above 0", "'nan'"});
  expect_refused("train xor --lr inf", 2, {"--lr must be a finite number above 0", "'inf'"});
}

TEST_F(BadInput, StatedModelInputMustMatchTheData) {
  const std::string three = experiment(
      "three.toml", "[data]\ndataset = \"xor\"\n[model]\ninput = [3]\nlayers = [{type = \"dense\", units = 1, "
                    "activation = \"sigmoid\"}]\n[train]\nloss = \"binary_crossentropy\"\nepochs = 1\n");
  expect_refused("train " + three + " --out " + path("run"), 1, {"three.toml [model]", "input = [3]", "(2)"});
  EXPECT_FALSE(fs::exists(path("run")));
}

TEST_F(BadInput, PredictInputFieldsAreAllNumbers) {
  const std::string run = xor_run("run");
  expect_refused("predict " + run + " --input 0,1,", 1, {"--input 1", "value 3", "empty"});
  expect_refused("predict " + run + " --input 0,,1", 1, {"--input 1", "value 2", "empty"});
  const auto ok = run_nnlab("predict " + run + " --input 0,1");
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

TEST_F(BadInput, PlotRefusesHistoriesItCannotDraw) {
  auto plot = [&](const std::string& name, const std::string& csv) {
    nnlab::testing::write_file(path(name) + "/history.csv", csv);
    return "plot " + path(name);
  };
  expect_refused(plot("only-epoch", "epoch\n0\n1\n"), 1, {"only an epoch column"});
  expect_refused(plot("cut", "epoch,loss\n0,0.5\n1,0.4"), 1, {"line 3", "incomplete"});
  expect_refused(plot("big-epoch", "epoch,loss\n0,0.5\n1e20,0.4\n"), 1, {"line 3", "epoch '1e20'"});
  expect_refused(plot("nan-epoch", "epoch,loss\nnan,0.5\n"), 1, {"line 2", "epoch 'nan'"});
  const auto ok = run_nnlab(plot("fine", "epoch,loss\n0,0.5\n1,0.4\n"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
}

// --- valid input refused ---------------------------------------------------------------------------

TEST_F(BadInput, ClassifierOutputsMustMatchTheClassesBeforeTraining) {
  const std::string data = nnds("ten.nnds", 200, 6, 10);
  const std::string exp = experiment(
      "wide.toml", "[data]\ndataset = \"file\"\ntrain = \"" + data + "\"\n[model]\nlayers = [{type = \"dense\", "
                   "units = 25, activation = \"softmax\"}]\n[train]\nepochs = 1\n");
  expect_refused("train " + exp + " --out " + path("run"), 1, {"10 classes", "25 outputs", "units = 10"});
  EXPECT_FALSE(fs::exists(path("run")));
  // One sigmoid output on two classes stays a valid binary classifier.
  const std::string run = xor_run("binary");
  EXPECT_TRUE(fs::exists(run + "/result.json"));
}

// --- unclear messages ------------------------------------------------------------------------------

TEST_F(BadInput, FlagRangesReadAsOneNnlabLine) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--epochs 0", "--epochs must be a whole number of at least 1, got 0"},
      {"--epochs -1", "--epochs must be a whole number of at least 1, got -1"},
      {"--epochs abc", "--epochs must be a whole number of at least 1, got 'abc'"},
      {"--threads 0", "--threads must be a whole number from 1 to"},
      {"--batch-size 0", "--batch-size must be a whole number of at least 1, got 0"},
      {"--limit 0", "--limit must be a whole number of at least 1, got 0"},
      {"--lr -1", "--lr must be a finite number above 0, got '-1'"},
      {"--seed -1", "--seed must be a whole number of at least 0, got -1"},
  };
  for (const auto& [flag, message] : cases) {
    const auto r = run_nnlab("train xor " + flag);
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_CONTAINS(r.output, "nnlab: error: " + message);
    EXPECT_FALSE(contains(r.output, "17976931348623157")) << r.output;
    EXPECT_EQ(count_lines(r.output), 1) << r.output;
  }
  expect_refused("frobnicate", 2, {"unknown command 'frobnicate'", "train", "evaluate", "predict"});
  expect_refused("", 2, {"a command is required", "train"});
}

TEST_F(BadInput, LibraryMessagesNameTheFileAndKey) {
  const std::string run = xor_run("run");
  const std::string ckpt = run + "/checkpoint.safetensors";
  const std::string saved = nnlab::testing::read_bytes(ckpt);
  edit_checkpoint_meta(ckpt, [](nlohmann::json& m) { m.erase("iterations"); });
  expect_refused("train --resume " + run, 1, {"checkpoint.safetensors", "'iterations' is missing"});
  nnlab::testing::write_file(ckpt, saved);
  edit_checkpoint_meta(ckpt, [](nlohmann::json& m) { m["learning_rate"] = "fast"; });
  expect_refused("train --resume " + run, 1, {"checkpoint.safetensors", "'learning_rate'", "\"fast\""});
  nnlab::testing::write_file(ckpt, saved);
  edit_checkpoint_meta(ckpt, [](nlohmann::json& m) { m["trainer_rng"] = "not a state"; });
  expect_refused("train --resume " + run, 1, {"checkpoint.safetensors", "'trainer_rng'"});

  const std::string model = run + "/model.safetensors";
  edit(model, [](SafetensorsFile& s) { s.metadata["nnlab.experiment"] = "{\"model\": 3}"; });
  expect_refused("evaluate " + run, 1, {"model.safetensors", "'nnlab.experiment'"});
  edit(model, [](SafetensorsFile& s) { s.metadata["nnlab.experiment"] = "{not json"; });
  expect_refused("evaluate " + run, 1, {"model.safetensors", "'nnlab.experiment'", "not valid JSON"});
  // Found by fuzz_experiment: a number too large for a double is a JSON "out of range" error, not a
  // parse error, and escaped as a raw library message naming no file.
  edit(model, [](SafetensorsFile& s) { s.metadata["nnlab.experiment"] = "{\"seed\": 22000084e701}"; });
  expect_refused("evaluate " + run, 1, {"model.safetensors", "'nnlab.experiment'", "not valid JSON"});

  nnlab::testing::write_file(path("neg.safetensors"),
                             raw_safetensors(R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[-1,3]}})", "abcd"));
  expect_refused("summary " + path("neg.safetensors"), 1, {"neg.safetensors", "data_offsets [-1,3]"});
  nnlab::testing::write_file(path("num.safetensors"),
                             raw_safetensors(R"({"t":{"dtype":5,"shape":[1],"data_offsets":[0,4]}})", "abcd"));
  expect_refused("summary " + path("num.safetensors"), 1, {"num.safetensors", "dtype 5"});

  const std::string huge = experiment("lr.toml", "[data]\ndataset = \"xor\"\n" + std::string(kTwoLayers) +
                                                     "[optimizer]\nlearning_rate = 1e300\n");
  expect_refused("train " + huge + " --out " + path("lr-run"), 1, {"learning_rate", "3.4e38"});
  EXPECT_FALSE(fs::exists(path("lr-run")));
}

// --- nothing left behind ---------------------------------------------------------------------------

TEST_F(BadInput, RefusalsLeaveNoRunFolder) {
  const std::string base = "[data]\ndataset = \"xor\"\n" + std::string(kTwoLayers);
  const std::string schedule = experiment("sched.toml", base + "[schedule]\ntype = \"formula\"\nformula = \"0.1 / epoch\"\n");
  expect_refused("train " + schedule + " --out " + path("r1"), 1, {"sched.toml [schedule]", "gives inf at epoch 0"});
  const std::string augment = experiment("aug.toml", base + "[augment]\nrotation_range = 10\n");
  expect_refused("train " + augment + " --out " + path("r2"), 1, {"aug.toml [augment]", "not square images"});
  const std::string lr = experiment("lr.toml", base + "[optimizer]\nlearning_rate = 1e300\n");
  expect_refused("train " + lr + " --out " + path("r3"), 1, {"learning_rate"});
  const std::string smoothing = experiment("ls.toml", base + "[loss]\nlabel_smoothing = 2\n");
  expect_refused("train " + smoothing + " --out " + path("r6"), 1,
                 {"ls.toml", "loss 'binary_crossentropy'", "label_smoothing must be in [0, 1], got 2"});
  const std::string loss_key = experiment("lk.toml", base + "[loss]\nfrom_logits = true\n");
  expect_refused("train " + loss_key + " --out " + path("r7"), 1, {"lk.toml", "unknown key 'from_logits'"});
  // A label outside the classes inside an .nnds file.
  InMemoryDataset d = nnlab::testing::random_dataset(32, {4}, 3, false, 9);
  write_binary_dataset(path("labels.nnds"), d);
  {
    std::string bytes = nnlab::testing::read_bytes(path("labels.nnds"));
    const float bad = 7;
    std::memcpy(bytes.data() + bytes.size() - 4, &bad, 4);  // the last sample's target
    nnlab::testing::write_file(path("labels.nnds"), bytes);
  }
  const std::string labels = experiment(
      "labels.toml", "[data]\ndataset = \"file\"\ntrain = \"" + path("labels.nnds") +
                         "\"\n[model]\nlayers = [{type = \"dense\", units = 3, activation = \"softmax\"}]\n");
  expect_refused("train " + labels + " --out " + path("r4"), 1, {"labels.nnds", "sample 31", "target 7"});
  for (const char* r : {"r1", "r2", "r3", "r4", "r6", "r7"}) EXPECT_FALSE(fs::exists(path(r))) << r;
}

TEST_F(BadInput, StaleTemporaryFilesAreRemovedOnResume) {
  const std::string run = xor_run("run");
  // As a write killed mid-way leaves it: the process (pid 999999999) is gone.
  const std::string stale = run + "/checkpoint.safetensors.tmp.999999999";
  nnlab::testing::write_file(stale, std::string(1000, 'x'));
  // A temporary of a live process (this one) is left alone, as are files that merely look alike.
  const std::string live = run + "/history.csv.tmp." + std::to_string(::getpid());
  const std::string other = run + "/notes.tmp.txt";
  nnlab::testing::write_file(live, "x");
  nnlab::testing::write_file(other, "x");
  const auto r = run_nnlab("train --resume " + run + " --quiet");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(live));
  EXPECT_TRUE(fs::exists(other));
  EXPECT_EQ(remove_stale_temporaries(run), 0);
}
