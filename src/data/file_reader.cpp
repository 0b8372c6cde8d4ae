#include "file_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "nnlab/error.hpp"

namespace nnlab::detail {

namespace fs = std::filesystem;

FileReader::FileReader(std::string path) : path_(std::move(path)) {
  std::error_code ec;
  const auto status = fs::status(path_, ec);
  check(fs::exists(status), path_ + ": no such file");
  check(!fs::is_directory(status), path_ + ": is a directory, not a file");
  file_size_ = fs::file_size(path_, ec);
  f_ = std::fopen(path_.c_str(), "rb");
  check(f_ != nullptr, path_ + ": cannot open: " + std::strerror(errno));
  unsigned char magic[2] = {0, 0};
  const size_t got = std::fread(magic, 1, 2, f_);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    std::fclose(f_);
    f_ = nullptr;
    gz_ = gzopen(path_.c_str(), "rb");
    check(gz_ != nullptr, path_ + ": cannot open as gzip: " + std::strerror(errno));
    gzbuffer(gz_, 1 << 20);
  } else {
    std::rewind(f_);
  }
}

FileReader::~FileReader() {
  if (f_) std::fclose(f_);
  if (gz_) gzclose(gz_);
}

size_t FileReader::read(void* dst, size_t n) {
  auto* out = static_cast<char*>(dst);
  size_t done = 0;
  while (done < n) {
    if (gz_) {
      const unsigned want = static_cast<unsigned>(std::min<size_t>(n - done, 1u << 30));
      const int got = gzread(gz_, out + done, want);
      if (got < 0) {
        int code = 0;
        const char* msg = gzerror(gz_, &code);
        throw Error(path_ + ": damaged gzip data after " + std::to_string(done) + " bytes of this read: " +
                    (msg ? msg : "unknown error"));
      }
      if (got == 0) break;  // the end, or a stream cut short (see end_note())
      done += static_cast<size_t>(got);
    } else {
      const size_t got = std::fread(out + done, 1, n - done, f_);
      if (got == 0) {
        check(!std::ferror(f_), path_ + ": read error: " + std::strerror(errno));
        break;
      }
      done += got;
    }
  }
  return done;
}

size_t FileReader::read_append(std::vector<uint8_t>& out, size_t n) {
  constexpr size_t kChunk = size_t{16} << 20;
  size_t done = 0;
  while (done < n) {
    const size_t want = std::min(kChunk, n - done);
    const size_t old = out.size();
    out.resize(old + want);
    const size_t got = read(out.data() + old, want);
    out.resize(old + got);
    done += got;
    if (got < want) break;
  }
  return done;
}

std::string FileReader::end_note() const {
  if (!gz_) return "";
  int code = 0;
  gzerror(gz_, &code);
  return code == Z_BUF_ERROR ? " (the gzip stream is cut short)" : "";
}

std::string read_whole_file(const std::string& path) {
  FileReader r(path);
  std::string out;
  // A plain file is read in one go (one byte more than its size shows whether it grew).
  size_t chunk = r.gzip() ? size_t{16} << 20 : static_cast<size_t>(r.file_size()) + 1;
  for (;;) {
    const size_t old = out.size();
    out.resize(old + chunk);
    const size_t got = r.read(out.data() + old, chunk);
    out.resize(old + got);
    if (got < chunk) break;
    chunk = size_t{16} << 20;
  }
  return out;
}

}  // namespace nnlab::detail
