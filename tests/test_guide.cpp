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
#include <cctype>
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

// ---- bold markup that CommonMark leaves as literal asterisks ----
//
// A rule-based stand-in for rendering a page with a CommonMark renderer and looking for "**" in the
// output. It follows the spec's emphasis rules (https://spec.commonmark.org/0.31.2/#emphasis-and-strong-emphasis)
// for '*' runs: a run is left-flanking when the next character is not whitespace and either not
// punctuation or preceded by whitespace or punctuation; right-flanking likewise mirrored; '*' opens
// when left-flanking and closes when right-flanking; openers and closers pair up by the spec's
// "process emphasis" procedure (rule of 3 included). Whatever of a run of two or more is left unpaired
// shows as literal asterisks. So `**배치(batch)**로` fails (the second run follows ')' and precedes a
// letter: not right-flanking, so it cannot close), and `**배치**(batch)로` passes. Fenced code blocks
// and inline code spans are not markup; `\*` is an escaped asterisk; list markers are stripped;
// headings and table rows are blocks of their own (stricter than CommonMark, which reads a table
// as one paragraph). Underscore emphasis is ignored: it cannot pair with '*'.

// The UTF-8 code point that starts at `pos` (-1 past the end), and the one that ends just before it.
int32_t code_point_at(const std::string& s, size_t pos) {
  if (pos >= s.size()) return -1;
  const auto b = static_cast<unsigned char>(s[pos]);
  const int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (len == 1) return b;
  int32_t cp = b & (0x7F >> (len + 1));
  for (int k = 1; k < len && pos + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[pos + k]) & 0x3F);
  return cp;
}
int32_t code_point_before(const std::string& s, size_t pos) {
  if (pos == 0) return -1;
  size_t start = pos - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  return code_point_at(s, start);
}

// Unicode whitespace (Zs, tab, line feed, form feed, carriage return); -1 (a line's edge) counts too.
bool is_md_whitespace(int32_t c) {
  return c < 0 || c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Unicode punctuation (general categories P and S) for the ranges a guide page uses: ASCII, Latin-1's
// signs, general punctuation, arrows and mathematical operators, CJK and full-width punctuation.
// Letters of every script (Hangul included) are not punctuation.
bool is_md_punctuation(int32_t c) {
  if (c < 0) return false;
  if (c < 0x80) return std::ispunct(static_cast<int>(c)) != 0;
  if (c >= 0xA1 && c <= 0xBF) return c != 0xAA && c != 0xB2 && c != 0xB3 && c != 0xB5 && c != 0xB9 && c != 0xBA &&
                                       !(c >= 0xBC && c <= 0xBE);
  if (c == 0xD7 || c == 0xF7) return true;
  if (c >= 0x2010 && c <= 0x2027) return true;
  if (c >= 0x2030 && c <= 0x205E) return true;
  if (c >= 0x2190 && c <= 0x23FF) return true;
  if (c >= 0x2500 && c <= 0x27BF) return true;
  if (c >= 0x3001 && c <= 0x303F) return true;
  if (c >= 0xFF01 && c <= 0xFF0F) return true;
  if (c >= 0xFF1A && c <= 0xFF20) return true;
  if (c >= 0xFF3B && c <= 0xFF40) return true;
  if (c >= 0xFF5B && c <= 0xFF65) return true;
  return false;
}

struct LiteralStars {
  int line;             // 1-based line of the page
  std::string context;  // the text around it
};

// The '*' runs of one block (paragraph, heading, list item or table row) paired as CommonMark pairs
// them; appends every run left with two or more unpaired asterisks.
void check_block(const std::string& text, int first_line, std::vector<LiteralStars>* out) {
  struct Run {
    size_t pos;
    int line, count, orig;
    bool open, close;
  };
  std::vector<Run> runs;
  int line = first_line;
  for (size_t i = 0; i < text.size();) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
    } else if (c == '\\' && i + 1 < text.size() && std::ispunct(static_cast<unsigned char>(text[i + 1]))) {
      i += 2;  // an escaped character is literal
    } else if (c == '`') {
      size_t n = 0;
      while (i + n < text.size() && text[i + n] == '`') ++n;
      // A code span runs to the next backtick string of the same length; without one the backticks are literal.
      size_t j = i + n, close = std::string::npos;
      while (j < text.size()) {
        const size_t k = text.find('`', j);
        if (k == std::string::npos) break;
        size_t m = 0;
        while (k + m < text.size() && text[k + m] == '`') ++m;
        if (m == n) {
          close = k;
          break;
        }
        j = k + m;
      }
      if (close == std::string::npos) {
        i += n;
      } else {
        line += static_cast<int>(std::count(text.begin() + static_cast<long>(i), text.begin() + static_cast<long>(close), '\n'));
        i = close + n;
      }
    } else if (c == '*') {
      size_t n = 0;
      while (i + n < text.size() && text[i + n] == '*') ++n;
      const int32_t before = code_point_before(text, i), after = code_point_at(text, i + n);
      const bool left = !is_md_whitespace(after) &&
                        (!is_md_punctuation(after) || is_md_whitespace(before) || is_md_punctuation(before));
      const bool right = !is_md_whitespace(before) &&
                         (!is_md_punctuation(before) || is_md_whitespace(after) || is_md_punctuation(after));
      runs.push_back({i, line, static_cast<int>(n), static_cast<int>(n), left, right});
      i += n;
    } else {
      ++i;
    }
  }
  // "Process emphasis": each closer, left to right, takes the nearest opener before it that the rule
  // of 3 allows; the runs between a matched pair can no longer match anything outside it.
  std::vector<bool> alive(runs.size(), true);
  for (size_t ci = 0; ci < runs.size(); ++ci) {
    Run& closer = runs[ci];
    while (alive[ci] && closer.close && closer.count > 0) {
      long oi = static_cast<long>(ci) - 1;
      for (; oi >= 0; --oi) {
        const Run& o = runs[static_cast<size_t>(oi)];
        if (!alive[static_cast<size_t>(oi)] || !o.open || o.count == 0) continue;
        const bool rule_of_3 = (o.close || closer.open) && (o.orig + closer.orig) % 3 == 0 &&
                               !(o.orig % 3 == 0 && closer.orig % 3 == 0);
        if (!rule_of_3) break;
      }
      if (oi < 0) break;
      Run& opener = runs[static_cast<size_t>(oi)];
      const int use = opener.count >= 2 && closer.count >= 2 ? 2 : 1;
      opener.count -= use;
      closer.count -= use;
      for (size_t k = static_cast<size_t>(oi) + 1; k < ci; ++k) alive[k] = false;  // literal from now on
      if (opener.count == 0) alive[static_cast<size_t>(oi)] = false;
    }
  }
  for (const Run& r : runs)
    if (r.count >= 2) {
      auto starts_char = [&](size_t k) {  // the context never splits a UTF-8 character
        return k >= text.size() || (static_cast<unsigned char>(text[k]) & 0xC0) != 0x80;
      };
      size_t from = r.pos >= 30 ? r.pos - 30 : 0, to = std::min(text.size(), r.pos + r.count + 30);
      while (!starts_char(from)) --from;
      while (!starts_char(to)) ++to;
      std::string context = text.substr(from, to - from);
      std::replace(context.begin(), context.end(), '\n', ' ');
      out->push_back({r.line, context});
    }
}

// Every place of a Markdown page where "**" would survive CommonMark rendering as literal text.
std::vector<LiteralStars> literal_double_asterisks(const std::string& markdown) {
  std::vector<LiteralStars> out;
  std::istringstream in(markdown);
  std::string raw, block;
  int block_line = 0;
  bool in_code = false;
  std::string fence;
  auto flush = [&] {
    if (!block.empty()) check_block(block, block_line, &out);
    block.clear();
  };
  auto add = [&](const std::string& text, int n) {
    if (block.empty()) block_line = n;
    else block += '\n';
    block += text;
  };
  for (int n = 1; std::getline(in, raw); ++n) {
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    const std::string line = trim(raw);
    if (in_code) {
      if (line.rfind(fence, 0) == 0 && line.find_first_not_of(fence[0]) == std::string::npos) in_code = false;
      continue;
    }
    if (line.rfind("```", 0) == 0 || line.rfind("~~~", 0) == 0) {
      flush();
      in_code = true;
      fence = line.substr(0, line.find_first_not_of(line[0]) == std::string::npos ? line.size()
                                                                                   : line.find_first_not_of(line[0]));
      continue;
    }
    if (line.empty()) {
      flush();
      continue;
    }
    std::string text = line;
    while (!text.empty() && text[0] == '>') text = trim(text.substr(1));  // a block quote's marker
    const bool heading = text[0] == '#', row = text[0] == '|';
    size_t marker = 0;  // a list item's marker: "- ", "* ", "+ ", "1. ", "1) "
    if (text.size() > 1 && (text[0] == '-' || text[0] == '*' || text[0] == '+') && text[1] == ' ') marker = 2;
    else {
      size_t d = 0;
      while (d < text.size() && std::isdigit(static_cast<unsigned char>(text[d]))) ++d;
      if (d > 0 && d + 1 < text.size() && (text[d] == '.' || text[d] == ')') && text[d + 1] == ' ') marker = d + 2;
    }
    if (heading || row || marker) flush();
    add(trim(text.substr(marker)), n);
    if (heading || row) flush();
  }
  flush();
  return out;
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

// No page keeps bold markup that CommonMark would print as asterisks (as `**배치(batch)**로` did:
// a closing "**" right after punctuation and right before a letter does not close).
TEST(Guide, NoPageShowsLiteralAsterisksAfterCommonMarkRendering) {
  auto pages = guide_pages();
  pages.push_back(fs::path(NNLAB_SOURCE_DIR) / "README.md");
  // NNLAB_GUIDE_PAGE=FILE checks one more page (to see the test fail on a broken copy).
  if (const char* extra = std::getenv("NNLAB_GUIDE_PAGE"); extra && *extra) pages.push_back(extra);
  for (const auto& page : pages) {
    ASSERT_TRUE(fs::is_regular_file(page)) << page;
    const std::string where = page.string().rfind(NNLAB_SOURCE_DIR, 0) == 0
                                  ? fs::relative(page, NNLAB_SOURCE_DIR).string() : page.string();
    std::set<int> reported;  // a bold pair that fails leaves two runs on its line: one failure a line
    for (const auto& l : literal_double_asterisks(read_text(page)))
      if (reported.insert(l.line).second)
        ADD_FAILURE() << where << ":" << l.line << ": '**' would stay literal after CommonMark rendering: ..."
                    << l.context << "... (a closing ** right after punctuation needs a space or punctuation "
                                    "after it: write **word**(note)suffix, not **word(note)**suffix)";
  }
}

// The check above does fail: the Korean bold of the issue, a lone "**", an unclosed opener; and it
// passes what CommonMark does render as bold, and asterisks in code.
TEST(Guide, LiteralAsteriskCheckFindsUnrenderedBold) {
  auto lines = [](const std::string& md) {  // the lines with a finding, each once
    std::set<int> at;
    for (const auto& l : literal_double_asterisks(md)) at.insert(l.line);
    return std::vector<int>(at.begin(), at.end());
  };
  using V = std::vector<int>;
  EXPECT_EQ(lines("작은 단위인 **배치(batch)**로 쪼개서\n"), V{1});
  EXPECT_EQ(lines("첫 줄\n이것을 **과적합(overfitting)**이라 하며\n"), V{2});
  EXPECT_EQ(lines("**과소적합(underfitting)**입니다.\n"), V{1});
  EXPECT_EQ(lines("a ** b\n"), V{1});
  EXPECT_EQ(lines("**never closed\n"), V{1});
  EXPECT_EQ(lines("# a heading **cut\n\n across** a block\n"), (V{1, 3}));
  EXPECT_EQ(lines("- item **one\n- item two**\n"), (V{1, 2}));
  EXPECT_TRUE(lines("작은 단위인 **배치**(batch)로 쪼개서, **이터레이션**(iteration)이고\n").empty());
  EXPECT_TRUE(lines("**The idea.** Bold, and **bold across\na line break**; ***both***; **(parenthesised)**.\n").empty());
  EXPECT_TRUE(lines("**New here? Follow [the guide](x.md)**: the week.\n").empty());
  EXPECT_TRUE(lines("**In Korean / 한국어:** [한국어 가이드](#한국어)\n").empty());
  EXPECT_TRUE(lines("```text\n| **vote** | 5 members |\n**(x)**y\n```\n").empty());
  EXPECT_TRUE(lines("Inline `**(x)**y` and ``a ` **(b)**c`` are code; \\*\\* is escaped.\n").empty());
  EXPECT_TRUE(lines("* a list item\n* **bold** item\n").empty());
  EXPECT_TRUE(lines("| **vote** | 5 members |\n").empty());
}
