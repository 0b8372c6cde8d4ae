// The course guide (docs/guide/) cannot drift from the program: every command its pages show is listed
// in docs/guide/commands.txt with a reduced-settings variant, and this test runs every variant through
// the built nnlab (exit status 0 and an expected fragment of the output). It also checks that every
// `nnlab` / `build/nnlab` line in a code block of the guide's Markdown is listed, that every listed
// command appears on its page in English and in Korean, and that the runner does report a broken
// command as a failure.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.hpp"
#include "nnlab/data/readers.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path kGuide = fs::path(NNLAB_SOURCE_DIR) / "docs" / "guide";

// ---- docs/guide/commands.txt ----

struct GuideCommand {
  int line = 0;  // where its block starts in commands.txt
  std::string page, guide, test, expect, needs;
  std::vector<std::pair<std::string, std::string>> pictures;  // file written -> img/NAME
  bool variation = false;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

// Collapses runs of blanks so that spacing differences between a page and commands.txt do not matter.
std::string normalise(const std::string& s) {
  std::istringstream in(s);
  std::string word, out;
  while (in >> word) out += (out.empty() ? "" : " ") + word;
  return out;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses commands.txt; a malformed block is reported as a failure naming its line.
std::vector<GuideCommand> parse_guide_commands(const std::string& text, std::vector<std::string>* errors) {
  std::vector<GuideCommand> out;
  GuideCommand cur;
  bool open = false;
  auto close = [&] {
    if (!open) return;
    const std::string where = "commands.txt:" + std::to_string(cur.line) + ": ";
    if (cur.page.empty() || cur.guide.empty() || cur.test.empty() || cur.expect.empty())
      errors->push_back(where + "a block needs page, guide, test and expect");
    else if (cur.guide.rfind("build/nnlab ", 0) != 0)
      errors->push_back(where + "a guide command starts with 'build/nnlab ': " + cur.guide);
    else if (cur.test.rfind("nnlab ", 0) != 0)
      errors->push_back(where + "a test command starts with 'nnlab ': " + cur.test);
    else
      out.push_back(cur);
    cur = GuideCommand{};
    open = false;
  };
  std::istringstream in(text);
  std::string raw;
  for (int n = 1; std::getline(in, raw); ++n) {
    const std::string line = trim(raw);
    if (line.empty()) {
      close();
      continue;
    }
    if (line[0] == '#') continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      errors->push_back("commands.txt:" + std::to_string(n) + ": expected 'key: value', got: " + line);
      continue;
    }
    if (!open) {
      open = true;
      cur.line = n;
    }
    const std::string key = line.substr(0, colon), value = trim(line.substr(colon + 1));
    if (key == "page") cur.page = value;
    else if (key == "guide") cur.guide = normalise(value);
    else if (key == "test") cur.test = value;
    else if (key == "expect") cur.expect = value;
    else if (key == "needs") cur.needs = value;
    else if (key == "variation") cur.variation = value == "yes";
    else if (key == "picture") {
      const auto arrow = value.find("->");
      if (arrow == std::string::npos) errors->push_back("commands.txt:" + std::to_string(n) + ": picture: FILE -> img/NAME");
      else cur.pictures.emplace_back(trim(value.substr(0, arrow)), trim(value.substr(arrow + 2)));
    } else {
      errors->push_back("commands.txt:" + std::to_string(n) + ": unknown key '" + key + "'");
    }
  }
  close();
  return out;
}

// NNLAB_GUIDE_COMMANDS=FILE reads another list (to see the tests fail on a broken copy).
std::vector<GuideCommand> guide_commands() {
  std::vector<std::string> errors;
  const char* other = std::getenv("NNLAB_GUIDE_COMMANDS");
  const fs::path file = other && *other ? fs::path(other) : kGuide / "commands.txt";
  if (!fs::is_regular_file(file)) ADD_FAILURE() << "cannot read " << file;
  auto cmds = parse_guide_commands(read_text(file), &errors);
  for (const auto& e : errors) ADD_FAILURE() << e;
  return cmds;
}

// ---- the guide's Markdown ----

struct CodeLine {
  int line;
  std::string command;  // normalised, starting with "build/nnlab " (a bare "nnlab " gets the prefix)
};

// Lines inside fenced code blocks that run nnlab: `nnlab ...`, `build/nnlab ...`, `$ build/nnlab ...`.
std::vector<CodeLine> nnlab_code_lines(const std::string& markdown) {
  std::vector<CodeLine> out;
  std::istringstream in(markdown);
  std::string raw;
  bool in_code = false;
  for (int n = 1; std::getline(in, raw); ++n) {
    std::string line = trim(raw);
    if (line.rfind("```", 0) == 0) {
      in_code = !in_code;
      continue;
    }
    if (!in_code) continue;
    if (line.rfind("$ ", 0) == 0) line = trim(line.substr(2));
    if (line.rfind("./", 0) == 0) line = line.substr(2);
    if (line.rfind("nnlab ", 0) == 0 || line == "nnlab") line = "build/" + line;
    if (line.rfind("build/nnlab ", 0) == 0 || line == "build/nnlab") out.push_back({n, normalise(line)});
  }
  return out;
}

std::vector<fs::path> guide_pages() {
  std::vector<fs::path> pages{kGuide / "README.md"};
  for (const char* lang : {"en", "ko"})
    for (const auto& e : fs::directory_iterator(kGuide / lang))
      if (e.path().extension() == ".md") pages.push_back(e.path());
  std::sort(pages.begin(), pages.end());
  return pages;
}

// ---- the runner ----

struct StepResult {
  bool ok = false;
  std::string why;  // empty when ok
  std::string output;
  double seconds = 0;
};

// Runs one reduced guide command ("nnlab ARGS") in `workdir` with NNLAB_DATA=`data_dir` and checks
// that it exits with status 0 and prints `expect`. The shell sees ARGS as written in commands.txt.
StepResult run_guide_step(const std::string& test_command, const std::string& expect, const fs::path& workdir,
                          const fs::path& data_dir) {
  StepResult r;
  if (test_command.rfind("nnlab ", 0) != 0) {
    r.why = "a test command must start with 'nnlab ': " + test_command;
    return r;
  }
  const std::string cmd = "cd '" + workdir.string() + "' && NNLAB_DATA='" + data_dir.string() +
                          "' OMP_NUM_THREADS=1 '" + NNLAB_CLI + "' " + test_command.substr(6) + " 2>&1";
  const auto t0 = std::chrono::steady_clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) {
    r.why = "cannot start a shell";
    return r;
  }
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(p);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0)
    r.why = "exit status " + std::to_string(code);
  else if (r.output.find(expect) == std::string::npos)
    r.why = "the output lacks the expected text '" + expect + "'";
  r.ok = r.why.empty();
  return r;
}

std::string tail(const std::string& s, size_t n = 3000) { return s.size() <= n ? s : "..." + s.substr(s.size() - n); }

// ---- small stand-ins for datasets that are not installed ----

struct Rng {
  uint64_t s;
  uint32_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(s >> 33);
  }
};

// A 28x28 grey image whose pattern depends on the class, with noise, so a network can learn something.
std::vector<uint8_t> fake_image(int label, Rng& rng) {
  std::vector<uint8_t> px(784);
  for (int i = 0; i < 784; ++i) {
    const int row = i / 28, col = i % 28;
    const bool on = ((row + 2 * col + 7 * label) / 5) % 3 == 0;
    px[i] = static_cast<uint8_t>(std::min<uint32_t>(255, (on ? 160 : 20) + rng.next() % 80));
  }
  return px;
}

void write_csv(const fs::path& file, const std::string& pixel_prefix, bool kaggle_mnist_header,
               const std::vector<int>& classes, int rows, uint64_t seed) {
  std::ofstream out(file);
  out << "label";
  for (int i = 0; i < 784; ++i)
    out << ',' << (kaggle_mnist_header ? std::to_string(i / 28 + 1) + "x" + std::to_string(i % 28 + 1)
                                       : pixel_prefix + std::to_string(i + 1));
  out << '\n';
  Rng rng{seed};
  for (int r = 0; r < rows; ++r) {
    const int label = classes[r % classes.size()];
    out << label;
    for (uint8_t v : fake_image(label, rng)) out << ',' << int(v);
    out << '\n';
  }
}

uint32_t crc32(const std::string& data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// gzip with stored (uncompressed) deflate blocks: what `nnlab data download mnist` leaves on disk.
void write_gzip(const fs::path& file, const std::string& data) {
  std::string z = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff'};
  size_t pos = 0;
  do {
    const size_t len = std::min<size_t>(65535, data.size() - pos);
    const bool last = pos + len == data.size();
    z += static_cast<char>(last ? 1 : 0);
    for (uint16_t v : {static_cast<uint16_t>(len), static_cast<uint16_t>(~len)}) {
      z += static_cast<char>(v & 0xFF);
      z += static_cast<char>(v >> 8);
    }
    z.append(data, pos, len);
    pos += len;
  } while (pos < data.size());
  for (uint32_t v : {crc32(data), static_cast<uint32_t>(data.size())})
    for (int k = 0; k < 4; ++k) z += static_cast<char>((v >> (8 * k)) & 0xFF);
  std::ofstream(file, std::ios::binary) << z;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

void write_mnist_idx(const fs::path& dir, const std::string& split, int rows, uint64_t seed) {
  std::string images = be32(0x803) + be32(rows) + be32(28) + be32(28), labels = be32(0x801) + be32(rows);
  Rng rng{seed};
  for (int r = 0; r < rows; ++r) {
    const int label = r % 10;
    const auto px = fake_image(label, rng);
    images.append(px.begin(), px.end());
    labels += static_cast<char>(label);
  }
  write_gzip(dir / (split + "-images-idx3-ubyte.gz"), images);
  write_gzip(dir / (split + "-labels-idx1-ubyte.gz"), labels);
}

// MNIST as IDX .gz files, Sign Language MNIST as Kaggle CSV files, and Fashion-MNIST as CSV only
// when the real one (Debian's dataset-fashion-mnist) is not installed.
void write_stand_in_data(const fs::path& data) {
  fs::create_directories(data / "mnist");
  write_mnist_idx(data / "mnist", "train", 600, 1);
  write_mnist_idx(data / "mnist", "t10k", 200, 2);
  fs::create_directories(data / "sign-mnist");
  std::vector<int> letters;
  for (int l = 0; l <= 24; ++l)
    if (l != 9) letters.push_back(l);
  write_csv(data / "sign-mnist" / "sign_mnist_train.csv", "pixel", false, letters, 600, 3);
  write_csv(data / "sign-mnist" / "sign_mnist_test.csv", "pixel", false, letters, 240, 4);
  if (!nnlab::find_dataset("fashion-mnist").present) {
    fs::create_directories(data / "fashion-mnist");
    const std::vector<int> ten{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    write_csv(data / "fashion-mnist" / "fashion-mnist_train.csv", "pixel", false, ten, 2000, 5);
    write_csv(data / "fashion-mnist" / "fashion-mnist_test.csv", "pixel", false, ten, 500, 6);
  }
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

// Every command a page shows is in commands.txt, and every command in commands.txt is shown on its
// page in both languages: the guide and the list cannot drift apart.
TEST(Guide, EveryCommandInTheMarkdownIsListedAndEveryListedCommandIsShown) {
  const auto cmds = guide_commands();
  ASSERT_FALSE(cmds.empty());
  std::set<std::string> listed;
  for (const auto& c : cmds) listed.insert(c.guide);

  std::map<fs::path, std::set<std::string>> shown;  // page -> commands in its code blocks
  for (const auto& page : guide_pages())
    for (const auto& cl : nnlab_code_lines(read_text(page))) {
      shown[page].insert(cl.command);
      EXPECT_TRUE(listed.count(cl.command))
          << fs::relative(page, NNLAB_SOURCE_DIR).string() << ":" << cl.line << ": '" << cl.command
          << "' is not in docs/guide/commands.txt (add it there with a reduced test variant)";
    }
  for (const auto& c : cmds)
    for (const char* lang : {"en", "ko"}) {
      const fs::path page = kGuide / lang / (c.page + ".md");
      if (!fs::exists(page)) {
        ADD_FAILURE() << "commands.txt:" << c.line << ": no page " << page;
        continue;
      }
      EXPECT_TRUE(shown[page].count(c.guide))
          << "commands.txt:" << c.line << ": '" << c.guide << "' is not shown in a code block of " << lang << "/"
          << c.page << ".md";
    }
}

// Every picture the guide shows comes from a listed command, and every listed picture is on its page.
TEST(Guide, EveryPictureComesFromAGuideCommand) {
  std::map<std::string, const GuideCommand*> made;  // img/NAME -> its command
  const auto cmds = guide_commands();
  for (const auto& c : cmds)
    for (const auto& [file, img] : c.pictures) {
      made[img] = &c;
      // A picture of a dataset that may be absent (needs:) is shown once someone has drawn it.
      if (!fs::exists(kGuide / img)) {
        EXPECT_FALSE(c.needs.empty()) << img << " is missing: run scripts/guide-pictures.sh";
        continue;
      }
      for (const char* lang : {"en", "ko"})
        EXPECT_NE(read_text(kGuide / lang / (c.page + ".md")).find("../" + img), std::string::npos)
            << lang << "/" << c.page << ".md does not show ../" << img;
    }
  for (const auto& e : fs::directory_iterator(kGuide / "img"))
    EXPECT_TRUE(made.count("img/" + e.path().filename().string()))
        << "docs/guide/img/" << e.path().filename().string() << " is made by no command in commands.txt";
}

// The guide's commands, on reduced settings, in order, in one fresh folder (never the source tree).
TEST(Guide, EveryGuideCommandRunsOnReducedSettings) {
  const auto cmds = guide_commands();
  ASSERT_FALSE(cmds.empty());
  TempDir work("nnlab-guide");
  const fs::path data = work.path / "data", runs = work.path / "work";
  write_stand_in_data(data);
  fs::create_directories(runs);
  double total = 0;
  for (const auto& c : cmds) {
    const StepResult r = run_guide_step(c.test, c.expect, runs, data);
    total += r.seconds;
    std::printf("[guide] %5.1fs  %s\n", r.seconds, c.test.c_str());
    EXPECT_TRUE(r.ok) << "docs/guide/commands.txt:" << c.line << " (page " << c.page << ")\n  guide: " << c.guide
                      << "\n  test:  " << c.test << "\n  " << r.why << "\n--- output ---\n"
                      << tail(r.output);
    for (const auto& [file, img] : c.pictures)
      if (r.ok) EXPECT_TRUE(fs::exists(runs / file)) << c.test << " did not write " << file << " (for " << img << ")";
  }
  std::printf("[guide] %zu commands in %.1fs\n", cmds.size(), total);
}

// The runner the test above uses does fail: a misspelled flag, an unknown command, missing output.
TEST(Guide, RunnerReportsABrokenCommandAsAFailure) {
  TempDir work("nnlab-guide-broken");
  auto cmds = guide_commands();
  ASSERT_FALSE(cmds.empty());
  // The guide's first command with its first flag misspelled (or an extra bad flag when it has none).
  GuideCommand broken = cmds.front();
  const auto dash = broken.test.find(" --");
  broken.test = dash == std::string::npos ? broken.test + " --no-such-flag"
                                          : broken.test.substr(0, dash) + " --misspelled" + broken.test.substr(dash + 3);
  const StepResult bad_flag = run_guide_step(broken.test, broken.expect, work.path, work.path);
  EXPECT_FALSE(bad_flag.ok) << broken.test << "\n" << bad_flag.output;
  EXPECT_NE(bad_flag.why.find("exit status"), std::string::npos) << bad_flag.why;

  const StepResult unknown = run_guide_step("nnlab trian xor", "run folder", work.path, work.path);
  EXPECT_FALSE(unknown.ok) << unknown.output;

  const StepResult missing = run_guide_step("nnlab linearity", "text no command prints", work.path, work.path);
  EXPECT_FALSE(missing.ok);
  EXPECT_NE(missing.why.find("expected text"), std::string::npos) << missing.why;

  const StepResult fine = run_guide_step("nnlab linearity", "the same map", work.path, work.path);
  EXPECT_TRUE(fine.ok) << fine.why << "\n" << fine.output;
}

// The drift check catches a page that shows a command commands.txt does not list.
TEST(Guide, DriftCheckFindsAnUnlistedCommand) {
  const std::string page =
      "Text `build/nnlab inline` is not a code block.\n```sh\n$ build/nnlab train xor   --out runs/xor\n"
      "nnlab linearity\necho hi\n```\n";
  const auto lines = nnlab_code_lines(page);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].command, "build/nnlab train xor --out runs/xor");
  EXPECT_EQ(lines[1].command, "build/nnlab linearity");
  std::set<std::string> listed;
  for (const auto& c : guide_commands()) listed.insert(c.guide);
  EXPECT_TRUE(listed.count(lines[0].command));
  EXPECT_FALSE(listed.count("build/nnlab train xor --epochz 3 --out runs/xor"));
  std::vector<std::string> errors;
  parse_guide_commands("page: x\nguide: nnlab xor\ntest: nnlab xor\nexpect: XOR\n", &errors);
  EXPECT_EQ(errors.size(), 1u) << "a guide command without build/ is refused";
}
