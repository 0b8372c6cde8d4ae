// Files: whole-file reads and atomic writes. A write goes to a temporary file beside the target,
// is flushed and synced, then renamed over it, so an interrupted run never leaves a half-written
// model, checkpoint, history or report. Below every module that writes (training, report, app).
#pragma once
#include <string>

namespace nnlab {

// Writes `bytes` to `path` atomically (temporary file, flush, fsync, rename). The temporary file is
// `path.tmp.<pid>`.
void write_file_atomic(const std::string& path, const std::string& bytes);
// Removes the temporary files (`NAME.tmp.<pid>`) in `dir` that a killed process left behind: those
// whose process no longer runs. A run calls it when it starts or resumes in its folder. Returns how
// many it removed.
int remove_stale_temporaries(const std::string& dir);
std::string read_file(const std::string& path);  // throws naming the path when it cannot be read

}  // namespace nnlab
