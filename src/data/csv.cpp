// CSV reader for image datasets in Kaggle's layout: an optional header, a label column, and one
// column per pixel. The file is read whole and parsed in parallel, row by row, with a fast path
// for the small non-negative integers pixels usually are.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string_view>

#include "file_reader.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/error.hpp"

namespace nnlab {

namespace {

struct Line {
  const char* begin;
  const char* end;  // without "\r\n"
  int64_t number;   // 1-based, counting the header and blank lines
};

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return static_cast<unsigned char>(c - '0') < 10; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_space(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

// A number filling the whole (trimmed, unquoted) field, or nothing.
std::optional<double> parse_number(std::string_view field) {
  field = trim(field);
  if (field.size() > 1 && field[0] == '+' && field[1] != '-') field.remove_prefix(1);
  if (field.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(field.data(), field.data() + field.size(), v);
  if (ec != std::errc() || ptr != field.data() + field.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> split(const Line& line, char delim) {
  std::vector<std::string_view> out;
  const char* p = line.begin;
  for (;;) {
    const char* q = static_cast<const char*>(std::memchr(p, delim, static_cast<size_t>(line.end - p)));
    if (!q) q = line.end;
    out.emplace_back(p, static_cast<size_t>(q - p));
    if (q == line.end) break;
    p = q + 1;
  }
  return out;
}

std::string number_str(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// A field as quoted in an error message, shortened when long.
std::string quoted(std::string_view field) {
  std::string out(1, '"');
  if (field.size() > 40) {
    out.append(field.substr(0, 37));
    out.append("...");
  } else {
    out.append(field);
  }
  out.push_back('"');
  return out;
}

struct RowError {
  int64_t line = std::numeric_limits<int64_t>::max();
  std::string message;
};

class RowParser {
 public:
  const std::string* path;
  const CsvOptions* opt;
  const std::vector<std::string>* column_names;  // empty without a header
  int64_t ncols, label_col;

  // Parses one row into xrow (ncols - 1 floats) and label; on failure sets err.message and
  // returns false.
  bool parse(const Line& line, float* xrow, int64_t& label, std::string& err) const {
    const char delim = opt->delimiter;
    const char* p = line.begin;
    const char* e = line.end;
    float* out = xrow;
    for (int64_t col = 0; col < ncols; ++col) {
      if (col > 0) {
        if (p == e) return ragged(line, err);
        ++p;  // the delimiter
      }
      double v;
      // Fast path: an unsigned integer of up to 9 digits ending at a delimiter.
      const char* q = p;
      uint32_t acc = 0;
      while (q < e && is_digit(*q) && q - p < 9) acc = acc * 10 + static_cast<uint32_t>(*q++ - '0');
      if (q > p && (q == e || *q == delim)) {
        v = acc;
        p = q;
      } else {
        const char* fe = static_cast<const char*>(std::memchr(p, delim, static_cast<size_t>(e - p)));
        if (!fe) fe = e;
        const std::string_view field(p, static_cast<size_t>(fe - p));
        const auto parsed = parse_number(field);
        if (!parsed) {
          const std::string_view t = trim(field);
          err = where(line, col) + (t.empty() ? std::string("empty field")
                                              : quoted(field) + " is not a number");
          return false;
        }
        if (!std::isfinite(*parsed)) {
          err = where(line, col) + quoted(field) + " is not a finite number";
          return false;
        }
        v = *parsed;
        p = fe;
      }
      if (col == label_col) {
        if (v != std::floor(v) || std::fabs(v) > 9.0e15) {
          err = where(line, col) + "label " + number_str(v) + " is not a whole number";
          return false;
        }
        if (v < 0) {
          err = where(line, col) + "label " + number_str(v) + " is negative";
          return false;
        }
        label = static_cast<int64_t>(v);
      } else {
        if (opt->check_pixel_range && !(v >= opt->pixel_min && v <= opt->pixel_max)) {
          err = where(line, col) + "pixel value " + number_str(v) + " is outside [" + number_str(opt->pixel_min) +
                ", " + number_str(opt->pixel_max) + "]";
          return false;
        }
        *out++ = static_cast<float>(v);
      }
    }
    if (p != e) return ragged(line, err);
    return true;
  }

 private:
  std::string where(const Line& line, int64_t col) const {
    std::string s = *path + ":" + std::to_string(line.number) + ": column " + std::to_string(col + 1);
    if (!column_names->empty()) s += " (" + (*column_names)[static_cast<size_t>(col)] + ")";
    return s + ": ";
  }
  bool ragged(const Line& line, std::string& err) const {
    const int64_t got =
        1 + static_cast<int64_t>(std::count(line.begin, line.end, opt->delimiter));
    err = *path + ":" + std::to_string(line.number) + ": expected " + std::to_string(ncols) + " columns, got " +
          std::to_string(got);
    return false;
  }
};

std::vector<Line> split_lines(const std::string& text) {
  std::vector<Line> lines;
  const char* p = text.data();
  const char* end = p + text.size();
  if (text.size() >= 3 && std::memcmp(p, "\xEF\xBB\xBF", 3) == 0) p += 3;  // UTF-8 byte-order mark
  int64_t number = 0;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* le = nl ? nl : end;
    ++number;
    const char* e = le;
    if (e > p && e[-1] == '\r') --e;
    const char* first = p;
    while (first < e && is_space(*first)) ++first;
    if (first < e) lines.push_back({p, e, number});  // blank lines are skipped
    p = nl ? nl + 1 : end;
  }
  return lines;
}

// The first line: a header or data? It also fixes the number of columns and where the label is.
struct Columns {
  int64_t count, label;
  bool header;
  std::vector<std::string> names;  // empty without a header
};

Columns find_columns(const Line& line, const std::string& path, const CsvOptions& options) {
  const std::vector<std::string_view> first = split(line, options.delimiter);
  const int64_t ncols = static_cast<int64_t>(first.size());
  bool header = options.header == CsvOptions::Header::Yes;
  if (options.header == CsvOptions::Header::Auto)
    header = std::any_of(first.begin(), first.end(), [](std::string_view f) { return !parse_number(f); });
  std::vector<std::string> names;
  if (header)
    for (std::string_view f : first) names.emplace_back(trim(f));

  int64_t label_col = 0;
  if (options.label_index >= 0) {
    check(options.label_index < ncols, path + ": label column index " + std::to_string(options.label_index) +
                                           " but the file has " + std::to_string(ncols) + " columns");
    label_col = options.label_index;
  } else if (header) {
    const auto it = std::find(names.begin(), names.end(), options.label_column);
    if (it == names.end()) {
      std::string shown;
      for (size_t i = 0; i < names.size() && i < 5; ++i) shown += (i ? ", " : "") + names[i];
      if (names.size() > 5) shown += ", ...";
      throw Error(path + ":1: no column named \"" + options.label_column + "\" in the header (" + shown +
                  "); name the label column or give its index");
    }
    label_col = it - names.begin();
  } else {
    check(options.label_column == "label" || options.label_column.empty(),
          path + ": the file has no header, so the label column \"" + options.label_column +
              "\" cannot be found by name; give its index");
  }
  check(ncols >= 2, path + ":" + std::to_string(line.number) + ": need a label column and pixel columns, got " +
                        std::to_string(ncols) + " column");
  return {ncols, label_col, header, std::move(names)};
}

// The dataset's shape: (n, features) when flattened, else (n, image...) with the image shape given
// or, when none is, a square one.
Shape dataset_shape(int64_t n, int64_t features, const std::string& path, const CsvOptions& options,
                    const Preprocess& preprocess) {
  Shape shape{n, features};
  if (!preprocess.flatten) {
    Shape img = options.image_shape;
    if (img.empty()) {
      const auto side = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(features))));
      check(side * side == features, path + ": " + std::to_string(features) +
                                         " pixels per row is not a square image; give CsvOptions::image_shape");
      img = {side, side};
    }
    check(shape_size(img) == features, path + ": image shape " + shape_str(img) + " holds " +
                                           std::to_string(shape_size(img)) + " pixels, rows have " +
                                           std::to_string(features));
    shape = {n};
    shape.insert(shape.end(), img.begin(), img.end());
  }
  return shape;
}

// Parses the data rows, lines[first_row...], in parallel into x (n, features) and their raw labels
// (n); throws the error of the earliest line that fails, whichever thread finds it first.
void parse_rows(const std::vector<Line>& lines, size_t first_row, const RowParser& parser, Tensor& x,
                std::vector<int64_t>& raw) {
  const int64_t n = static_cast<int64_t>(raw.size()), ncols = parser.ncols, features = ncols - 1;
  RowError first_error;
  float* xd = x.data();
#pragma omp parallel if (n * ncols >= (int64_t{1} << 16))
  {
    RowError mine;
    std::string err;
#pragma omp for schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const Line& line = lines[first_row + static_cast<size_t>(i)];
      if (line.number > mine.line) continue;  // an earlier line already failed in this thread
      if (!parser.parse(line, xd + i * features, raw[static_cast<size_t>(i)], err)) {
        mine.line = line.number;
        mine.message = err;
      }
    }
#pragma omp critical(nnlab_csv_error)
    if (mine.line < first_error.line) first_error = std::move(mine);
  }
  if (!first_error.message.empty()) throw Error(first_error.message);
}

// The class index (n, 1) of each raw label through labels; throws naming the line of a label that
// is not one of them.
Tensor class_indices(const std::vector<int64_t>& raw, const LabelMap& labels, const std::vector<Line>& lines,
                     size_t first_row, const std::string& path) {
  const int64_t n = static_cast<int64_t>(raw.size());
  Tensor y({n, 1});
  for (int64_t i = 0; i < n; ++i) {
    const auto o = labels.find(raw[static_cast<size_t>(i)]);
    if (!o) {
      const Line& line = lines[first_row + static_cast<size_t>(i)];
      throw Error(path + ":" + std::to_string(line.number) + ": label " + std::to_string(raw[static_cast<size_t>(i)]) +
                  " is not one of the declared labels " + labels.describe());
    }
    y[i] = static_cast<float>(*o);
  }
  return y;
}

}  // namespace

InMemoryDataset read_csv(const std::string& path, const CsvOptions& options, const Preprocess& preprocess) {
  const char d = options.delimiter;
  check(!is_digit(d) && d != '.' && d != '-' && d != '+' && d != '\n' && d != '\r' && d != '"',
        "csv: delimiter '" + std::string(1, d) + "' cannot separate numbers");
  check(!options.check_pixel_range || options.pixel_min <= options.pixel_max,
        "csv: pixel range [" + number_str(options.pixel_min) + ", " + number_str(options.pixel_max) + "] is empty");

  const std::string text = detail::read_whole_file(path);
  check(!text.empty(), path + ": empty file");
  const std::vector<Line> lines = split_lines(text);
  check(!lines.empty(), path + ": empty file (only blank lines)");

  const Columns columns = find_columns(lines[0], path, options);
  const int64_t features = columns.count - 1;
  const size_t first_row = columns.header ? 1 : 0;
  const int64_t n = static_cast<int64_t>(lines.size() - first_row);
  check(n > 0, path + ": no data rows after the header");

  Tensor x(dataset_shape(n, features, path, options, preprocess));
  std::vector<int64_t> raw(static_cast<size_t>(n));
  parse_rows(lines, first_row, RowParser{&path, &options, &columns.names, columns.count, columns.label}, x, raw);

  LabelMap labels = options.labels;
  if (labels.empty()) {
    std::vector<int64_t> found = raw;
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    labels = LabelMap(std::move(found));
  }
  Tensor y = class_indices(raw, labels, lines, first_row, path);

  apply_preprocess(x, preprocess);
  InMemoryDataset out(std::move(x), std::move(y), labels.size());
  out.class_names = labels.names();
  out.name = path;
  return out;
}

}  // namespace nnlab
