// The HTML report (report.html): every section and image of a real run's page, the page of a run in
// progress (written after each epoch, refreshing itself), the comparison of two runs, a sweep's page,
// the command line, and the page as headless Chromium draws it at desktop and phone widths.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/io/safetensors.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/sweep.hpp"
#include "nnlab/training/trainer.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace nnlab;
using nnlab::testing::TempDirTest;

// EXPECT_CONTAINS for pages: on failure it names what is missing without printing the whole page.
#define EXPECT_HAS(page, needle) \
  EXPECT_NE((page).find(needle), std::string::npos) << "the page lacks: " << (needle)

namespace {

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size()) ++n;
  return n;
}

RunResult train(const std::string& experiment, const std::vector<std::string>& overrides, const std::string& dir) {
  Experiment e = Experiment::load(experiment, overrides);
  RunOptions ro;
  ro.out_dir = dir;
  ro.verbose = 0;
  return run_experiment(e, ro);
}

bool have_fashion() { return find_dataset("fashion-mnist").present; }

// A short real Fashion-MNIST run (a subset, so it takes seconds), or XOR where the data is absent.
std::string short_run(const std::string& dir) {
  if (have_fashion())
    train("fashion-mnist", {"data.limit=1500", "data.test_limit=400", "train.epochs=3", "train.batch_size=64"}, dir);
  else
    train("xor", {"train.epochs=300"}, dir);
  return nnlab::testing::read_bytes(fs::path(dir) / "report.html");
}

// What every run page has, whatever its data.
void expect_run_sections(const std::string& html, const std::string& title) {
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_HAS(html, "<title>" + title + "</title>");
  EXPECT_HAS(html, "name=\"viewport\"");
  for (const char* id : {"overview", "curves", "diagnosis", "confusion", "per-class", "experiment"})
    EXPECT_HAS(html, std::string("<section id=\"") + id + "\"");
  EXPECT_GE(count_of(html, "<svg class=\"chart\""), 2u) << "the loss and accuracy charts";
  EXPECT_HAS(html, "best epoch");                  // marked on the curves
  EXPECT_HAS(html, "Total params");                // the model summary
  EXPECT_HAS(html, "What to try");                 // the diagnosis's advice
  EXPECT_HAS(html, "<th>seed</th>");
  EXPECT_HAS(html, "<th>machine</th>");
  EXPECT_HAS(html, "badge finished");
  // Self-contained: no script, nothing fetched, and no refresh once the run has finished.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src=\"http"), std::string::npos);
  EXPECT_EQ(html.find("href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("http-equiv=\"refresh\""), std::string::npos);
  // Each inline chart's clip paths have ids of their own.
  EXPECT_EQ(count_of(html, "id=\"c0-clip0\""), 1u);
  EXPECT_EQ(count_of(html, "id=\"c1-clip0\""), 1u);
  EXPECT_EQ(html.find("id=\"clip0\""), std::string::npos);
}

// ---- decoding Chromium's screenshot (8-bit RGB or RGBA, not interlaced) ----

struct Image {
  uint32_t width = 0, height = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;  // (height, width, channels)
};

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint32_t(uint8_t(s[at + 3]));
}

Image decode_png(const std::string& png) {
  Image im;
  if (png.size() < 33 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return im;
  std::string idat;
  int depth = 0, type = 0, interlace = 0;
  for (size_t p = 8; p + 8 <= png.size();) {
    const uint32_t len = be32(png, p);
    const std::string kind = png.substr(p + 4, 4);
    if (kind == "IHDR") {
      im.width = be32(png, p + 8), im.height = be32(png, p + 12);
      depth = uint8_t(png[p + 16]), type = uint8_t(png[p + 17]), interlace = uint8_t(png[p + 20]);
    } else if (kind == "IDAT") {
      idat += png.substr(p + 8, len);
    }
    p += 12 + len;
  }
  if (depth != 8 || interlace != 0 || (type != 2 && type != 6)) return Image{};
  im.channels = type == 6 ? 4 : 3;
  const size_t stride = size_t(im.width) * im.channels;
  std::vector<uint8_t> raw((stride + 1) * im.height);
  uLongf n = raw.size();
  if (uncompress(raw.data(), &n, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK || n != raw.size())
    return Image{};
  im.pixels.resize(stride * im.height);
  const int bpp = im.channels;
  for (size_t y = 0; y < im.height; ++y) {
    const uint8_t filter = raw[y * (stride + 1)];
    const uint8_t* in = &raw[y * (stride + 1) + 1];
    uint8_t* out = &im.pixels[y * stride];
    const uint8_t* up = y ? &im.pixels[(y - 1) * stride] : nullptr;
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= size_t(bpp) ? out[x - bpp] : 0, b = up ? up[x] : 0, c = (up && x >= size_t(bpp)) ? up[x - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          pred = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
        default: break;
      }
      out[x] = uint8_t(in[x] + pred);
    }
  }
  return im;
}

std::string find_chromium() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome"}) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) == 0) return name;
  }
  return "";
}

// Runs the browser headless (as root it needs --no-sandbox), its output into `log`.
int chromium(const std::string& browser, const std::string& args, const fs::path& profile, const fs::path& log) {
  const std::string cmd = "timeout 120 " + browser + " --headless --no-sandbox --disable-gpu --hide-scrollbars "
                          "--no-first-run --disable-extensions --user-data-dir='" + profile.string() + "' " + args +
                          " >'" + log.string() + "' 2>'" + log.string() + ".err'";
  return std::system(cmd.c_str());
}

}  // namespace

class ReportTest : public TempDirTest {};

TEST_F(ReportTest, ShortRealRunHasEverySectionAndImage) {
  const std::string run = path("run");
  const std::string html = short_run(run);
  expect_run_sections(html, have_fashion() ? "fashion-mnist" : "xor");
  for (const char* f : {"report.html", "run.json", "history.csv", "loss.svg", "accuracy.svg", "diagnosis.txt",
                        "misclassified.json", "result.json"})
    EXPECT_TRUE(fs::exists(fs::path(run) / f)) << f;
  if (!have_fashion()) GTEST_SKIP() << "dataset-fashion-mnist is not installed: checked XOR's page, not the images";
  // Fashion-MNIST's class names in the confusion matrix and the mistakes, and the images themselves.
  for (const char* name : {"T-shirt/top", "Trouser", "Sneaker", "Ankle boot"}) EXPECT_HAS(html, name);
  EXPECT_HAS(html, "<section id=\"mistakes\"");
  const size_t images = count_of(html, "<img ");
  EXPECT_GE(images, 4u);
  EXPECT_EQ(count_of(html, "src=\"data:image/png;base64,"), images) << "every image is inline";
  // The first image decodes to a 28x28 PNG.
  const size_t at = html.find("base64,") + 7;
  const std::string b64 = html.substr(at, html.find('"', at) - at);
  std::string bytes;
  {
    int val = 0, bits = -8;
    for (char c : b64) {
      const auto p = std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/").find(c);
      if (p == std::string::npos) break;
      val = (val << 6) + int(p), bits += 6;
      if (bits >= 0) bytes += char((val >> bits) & 0xff), bits -= 8;
    }
  }
  ASSERT_GE(bytes.size(), 24u);
  EXPECT_EQ(bytes.substr(1, 3), "PNG");
  EXPECT_EQ(be32(bytes, 16), 28u);
  EXPECT_EQ(be32(bytes, 20), 28u);
  EXPECT_HAS(html, "taken for");
  EXPECT_HAS(html, "1,500 training");
}

TEST_F(ReportTest, Base64MatchesTheStandard) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("f"), "Zg==");
  EXPECT_EQ(base64_encode("fo"), "Zm8=");
  EXPECT_EQ(base64_encode("foo"), "Zm9v");
  EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64_encode(std::string("\xff\x00\x10", 3)), "/wAQ");
}

// The most confused pairs, most first, and their most confident mistakes with the images as PNGs.
TEST_F(ReportTest, MisclassifiedExamplesOfTheMostConfusedPairs) {
  InMemoryDataset data = nnlab::testing::random_dataset(6, {8, 8}, 3, true, 2);
  ConfusionMatrix cm;
  cm.classes = 3;
  cm.names = {"a", "b", "c"};
  cm.counts = {5, 2, 0,   // a taken for b twice
               0, 4, 0,
               3, 1, 6};  // c taken for a three times, for b once
  cm.mistakes = {{.index = 0, .truth = 0, .predicted = 1, .confidence = 0.6},
                 {.index = 1, .truth = 2, .predicted = 0, .confidence = 0.7},
                 {.index = 2, .truth = 2, .predicted = 0, .confidence = 0.9},
                 {.index = 3, .truth = 0, .predicted = 1, .confidence = 0.8},
                 {.index = 4, .truth = 2, .predicted = 0, .confidence = 0.5},
                 {.index = 5, .truth = 2, .predicted = 1, .confidence = 0.99}};
  EXPECT_EQ(cm.most_confused(2), (std::vector<std::pair<int64_t, int64_t>>{{2, 0}, {0, 1}}));
  EXPECT_EQ(cm.most_confused(9).size(), 3u);
  write_misclassified(cm, data, path("m.json"), "test", 2, 2);
  const auto j = nlohmann::json::parse(nnlab::testing::read_bytes(path("m.json")));
  ASSERT_EQ(j["pairs"].size(), 2u);
  EXPECT_EQ(j["pairs"][0]["true_name"], "c");
  EXPECT_EQ(j["pairs"][0]["predicted_name"], "a");
  EXPECT_EQ(j["pairs"][0]["count"], 3);
  ASSERT_EQ(j["pairs"][0]["examples"].size(), 2u);
  EXPECT_EQ(j["pairs"][0]["examples"][0]["index"], 2);  // 0.9 before 0.7
  EXPECT_EQ(j["pairs"][0]["examples"][1]["index"], 1);
  EXPECT_EQ(j["pairs"][1]["examples"][0]["index"], 3);
  const std::string png = j["pairs"][0]["examples"][0]["png"];
  EXPECT_EQ(png.substr(0, 8), base64_encode("\x89PNG\r\n").substr(0, 8));
  // Samples that are not images (XOR's two inputs) get no picture.
  InMemoryDataset flat = nnlab::testing::random_dataset(6, {2}, 3, false, 2);
  write_misclassified(cm, flat, path("flat.json"), "test", 1, 1);
  EXPECT_FALSE(nlohmann::json::parse(nnlab::testing::read_bytes(path("flat.json")))["pairs"][0]["examples"][0].contains("png"));
}

// The folder is written after every epoch, and the page of a run still training refreshes itself.
TEST_F(ReportTest, RunFolderIsCurrentAfterEveryEpoch) {
  const fs::path run = path("live");
  fs::create_directories(run);
  nnlab::testing::write_file(run / "config.json", R"({"name": "live", "train": {"epochs": 4}})");
  InMemoryDataset data = nnlab::testing::random_dataset(64, {6}, 3, false, 5);
  Model model = Model::from_config({{"input", {6}}, {"layers", {{{"type", "dense"}, {"units", 3}, {"activation", "softmax"}}}}}, 1);
  Trainer trainer(model, make_loss("sparse_categorical_crossentropy"), make_optimizer("adam", nlohmann::json::object()));
  struct Probe : Callback {
    fs::path dir;
    std::vector<std::string> seen;
    void on_epoch_end(int epoch, Logs&, TrainState&) override {
      const std::string h = nnlab::testing::read_bytes(dir / "history.csv");
      const std::string page = nnlab::testing::read_bytes(dir / "report.html");
      seen.push_back(std::to_string(count_of(h, "\n") - 1) + " rows; " +
                     (page.find("http-equiv=\"refresh\"") != std::string::npos ? "refresh; " : "") +
                     (page.find("training: epoch " + std::to_string(epoch + 1) + " of 4") != std::string::npos ? "status" : ""));
      EXPECT_TRUE(fs::exists(dir / "loss.svg"));
      EXPECT_TRUE(fs::exists(dir / "diagnosis.txt"));
    }
  } probe;
  probe.dir = run;
  RunFolderWriter writer(run.string(), std::chrono::milliseconds(0));
  FitOptions fo;
  fo.epochs = 4;
  fo.verbose = 0;
  trainer.fit(data, fo, &data, {&writer, &probe});
  EXPECT_EQ(probe.seen, (std::vector<std::string>{"1 rows; refresh; status", "2 rows; refresh; status",
                                                  "3 rows; refresh; status", "4 rows; refresh; status"}));
  // Once result.json exists, the page stops refreshing.
  nnlab::testing::write_file(run / "result.json", R"({"test_loss": 1.0, "test_accuracy": 0.5})");
  const std::string done = run_report_html(run.string());
  EXPECT_EQ(done.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_HAS(done, "badge finished");
  EXPECT_HAS(done, "50.00%");
}

TEST_F(ReportTest, ComparisonHighlightsTheSettingsThatDiffer) {
  train("xor", {"train.epochs=40", "optimizer.learning_rate=0.1"}, path("slow"));
  train("xor", {"train.epochs=40", "optimizer.learning_rate=0.5"}, path("fast"));
  const std::string out = path("compare.html");
  EXPECT_EQ(write_report({path("slow"), path("fast")}, out), out);
  const std::string html = nnlab::testing::read_bytes(out);
  EXPECT_HAS(html, "<title>Comparing 2 runs</title>");
  EXPECT_HAS(html, "<tr class=\"differs\"><th>optimizer.learning_rate</th><td>0.1</td><td>0.5</td></tr>");
  EXPECT_EQ(html.find("<tr class=\"differs\"><th>train.epochs"), std::string::npos) << "the same in both";
  EXPECT_HAS(html, "<th>train.epochs</th><td>40</td><td>40</td>");
  EXPECT_HAS(html, "<a href=\"slow/report.html\">slow</a>");
  EXPECT_HAS(html, "<a href=\"fast/report.html\">fast</a>");
  EXPECT_TRUE(fs::exists(fs::path(path("slow")) / "report.html"));
  EXPECT_GE(count_of(html, "<svg class=\"chart\""), 2u) << "loss and accuracy overlaid";
  EXPECT_HAS(html, "slow (lowest");  // a legend entry per run, named by what its dot ranks
  EXPECT_HAS(html, "fast (lowest");
}

TEST_F(ReportTest, SweepFolderGetsTheTableCurvesAndLinks) {
  SweepAxes axes;
  axes.learning_rate = {0.1, 0.5};
  SweepSpec s = load_sweep("xor", axes, {"train.epochs=30"});
  s.metric = "accuracy";  // XOR has no validation data
  run_sweep(s, path("sweep"), 0);
  const std::string html = nnlab::testing::read_bytes(fs::path(path("sweep")) / "report.html");
  EXPECT_HAS(html, "<title>sweep (sweep)</title>");
  EXPECT_HAS(html, "<section id=\"results\"");
  EXPECT_HAS(html, "<a href=\"lr-0.1/report.html\">lr-0.1</a>");
  EXPECT_HAS(html, "<a href=\"lr-0.5/report.html\">lr-0.5</a>");
  EXPECT_TRUE(fs::exists(fs::path(path("sweep")) / "lr-0.1" / "report.html"));
  EXPECT_GE(count_of(html, "<svg class=\"chart\""), 1u);
  EXPECT_HAS(html, "<tr class=\"differs\"><th>optimizer.learning_rate</th>");
}

TEST_F(ReportTest, CommandWritesThePageAndRefusesOtherFolders) {
  train("xor", {"train.epochs=20"}, path("run"));
  fs::remove(fs::path(path("run")) / "report.html");
  const auto r = nnlab::testing::run_nnlab("report '" + path("run") + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "report.html");
  EXPECT_TRUE(fs::exists(fs::path(path("run")) / "report.html"));
  fs::create_directories(path("empty"));
  const auto bad = nnlab::testing::run_nnlab("report '" + path("empty") + "'");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_CONTAINS(bad.output, "nnlab: error: report: '" + path("empty") + "' is neither a run folder");
  const auto two = nnlab::testing::run_nnlab("report '" + path("run") + "' '" + path("empty") + "' --out '" + path("c.html") + "'");
  EXPECT_EQ(two.exit_code, 1);
  EXPECT_CONTAINS(two.output, "is not a run folder (no config.json)");
}

// The page as a browser draws it: a screenshot at a laptop's and a phone's width is the page (its
// size, not blank, the dark header drawn by the CSS) and the DOM holds the title.
TEST_F(ReportTest, HeadlessChromiumDrawsThePageAtDesktopAndPhoneWidths) {
  const std::string browser = find_chromium();
  if (browser.empty())
    GTEST_SKIP() << "Chromium is not installed (Debian's 'chromium'; scripts/deps.sh installs it): the page was not "
                    "checked in a browser";
  const std::string run = path("run");
  short_run(run);
  const std::string url = "file://" + fs::absolute(fs::path(run) / "report.html").string();
  const std::string title = have_fashion() ? "fashion-mnist" : "xor";

  ASSERT_EQ(chromium(browser, "--dump-dom '" + url + "'", path("profile"), path("dom.html")), 0)
      << nnlab::testing::read_bytes(path("dom.html.err"));
  const std::string dom = nnlab::testing::read_bytes(path("dom.html"));
  EXPECT_HAS(dom, "<title>" + title + "</title>");
  EXPECT_HAS(dom, "<h1>" + title + " <span class=\"badge finished\">finished</span></h1>");

  for (auto [w, h] : {std::pair{1280, 900}, std::pair{390, 844}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    const std::string shot = path("shot-" + std::to_string(w) + ".png");
    ASSERT_EQ(chromium(browser, "--window-size=" + std::to_string(w) + "," + std::to_string(h) + " --screenshot='" + shot + "' '" + url + "'",
                       path("profile"), path("shot.log")),
              0)
        << nnlab::testing::read_bytes(path("shot.log.err"));
    const std::string bytes = nnlab::testing::read_bytes(shot);
    EXPECT_GT(bytes.size(), 10000u) << "a page of text and charts, not an empty one";
    const Image im = decode_png(bytes);
    ASSERT_EQ(im.width, uint32_t(w));
    ASSERT_EQ(im.height, uint32_t(h));
    // Not blank: many colours, and luminance that varies.
    std::set<uint32_t> colours;
    double sum = 0, sum2 = 0;
    const size_t n = size_t(im.width) * im.height;
    for (size_t i = 0; i < n; ++i) {
      const uint8_t* p = &im.pixels[i * im.channels];
      colours.insert((uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2]);
      const double l = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
      sum += l, sum2 += l * l;
    }
    const double sd = std::sqrt(std::max(0.0, sum2 / n - (sum / n) * (sum / n)));
    EXPECT_GT(colours.size(), 50u);
    EXPECT_GT(sd, 20.0);
    // The header's dark band (#1d2b3a) across the top, as the CSS draws it.
    const uint8_t* top = &im.pixels[(size_t(10) * im.width + 5) * im.channels];
    EXPECT_LT(int(top[0]) + top[1] + top[2], 200) << "the header is not dark: the CSS did not apply";
  }
}
