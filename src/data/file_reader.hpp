// Internal: reads a file that may be gzip-compressed (detected by its first bytes 1f 8b), with
// errors that name the file. Used by the IDX and CSV readers.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <zlib.h>

namespace nnlab::detail {

class FileReader {
 public:
  explicit FileReader(std::string path);  // throws nnlab::Error when missing or unreadable
  ~FileReader();
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;

  // Reads up to n bytes into dst; fewer only at the end of the data. Throws on a read error
  // (a damaged gzip stream included).
  size_t read(void* dst, size_t n);
  // Appends up to n bytes to out, growing it only as data arrives (so a header that claims more
  // than the file holds allocates nothing extra).
  size_t read_append(std::vector<uint8_t>& out, size_t n);

  // " (the gzip stream is cut short)" when a short read came from a truncated gzip file, else "".
  std::string end_note() const;

  bool gzip() const { return gz_ != nullptr; }
  uint64_t file_size() const { return file_size_; }  // on disk (compressed for gzip)
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  uint64_t file_size_ = 0;
  std::FILE* f_ = nullptr;
  gzFile gz_ = nullptr;
};

// The whole (decompressed) content of a file.
std::string read_whole_file(const std::string& path);

}  // namespace nnlab::detail
