#include "nnlab/training/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <string>

namespace nnlab {

std::string iteration_arithmetic(int64_t samples, int64_t batch_size, int epochs) {
  const int64_t steps = (samples + batch_size - 1) / batch_size;
  return std::to_string(samples) + " samples / batch " + std::to_string(batch_size) + " = " + std::to_string(steps) +
         " iterations per epoch; " + std::to_string(epochs) + " epoch" + (epochs == 1 ? "" : "s") + " = " +
         std::to_string(steps * epochs) + " iterations";
}

ProgressBar::ProgressBar(int verbose, std::FILE* out)
    : verbose_(verbose), out_(out), tty_(isatty(fileno(out)) != 0) {}

static std::string format_logs(const Logs& logs) {
  std::string s;
  char buf[64];
  for (const char* k : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
    auto it = logs.find(k);
    if (it == logs.end()) continue;
    std::snprintf(buf, sizeof buf, " - %s: %.4f", k, it->second);
    s += buf;
  }
  if (auto it = logs.find("lr"); it != logs.end()) {
    std::snprintf(buf, sizeof buf, " - lr: %.3g", it->second);
    s += buf;
  }
  return s;
}

static std::string format_seconds(double s) {
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%d:%02d", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  else std::snprintf(buf, sizeof buf, "%d:%02d:%02d", static_cast<int>(s) / 3600, static_cast<int>(s) / 60 % 60,
                     static_cast<int>(s) % 60);
  return buf;
}

void ProgressBar::on_train_begin(TrainState& s) {
  if (verbose_ <= 0) return;
  if (s.ranks > 1)
    std::fprintf(out_, "data-parallel: %d ranks x batch %lld per rank = global batch %lld\n", s.ranks,
                 static_cast<long long>(s.rank_batch_size), static_cast<long long>(s.batch_size));
  std::fprintf(out_, "%s\n", iteration_arithmetic(s.samples, s.batch_size, s.epochs - s.initial_epoch).c_str());
  std::fflush(out_);
}

void ProgressBar::on_epoch_begin(int epoch, TrainState& s) {
  epoch_start_ = last_draw_ = std::chrono::steady_clock::now();
  if (verbose_ <= 0 || !tty_) return;
  std::fprintf(out_, "Epoch %d/%d\n", epoch + 1, s.epochs);
}

void ProgressBar::on_batch_end(int64_t batch, const Logs& logs, TrainState& s) {
  if (verbose_ <= 0 || !tty_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = batch + 1 == s.steps_per_epoch;
  if (!last && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - epoch_start_).count();
  const double eta = elapsed / static_cast<double>(batch + 1) * static_cast<double>(s.steps_per_epoch - batch - 1);
  const int width = 30;
  const int done = static_cast<int>(width * (batch + 1) / s.steps_per_epoch);
  std::string bar(static_cast<size_t>(done), '=');
  if (done < width) bar += '>' + std::string(static_cast<size_t>(width - done - 1), '.');
  std::fprintf(out_, "\r%lld/%lld [%s] - ETA: %s%s\033[K", static_cast<long long>(batch + 1),
               static_cast<long long>(s.steps_per_epoch), bar.c_str(), format_seconds(eta).c_str(),
               format_logs(logs).c_str());
  std::fflush(out_);
}

void ProgressBar::on_epoch_end(int epoch, Logs& logs, TrainState& s) {
  if (verbose_ <= 0) return;
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start_).count();
  const double per_step_ms = 1000.0 * elapsed / static_cast<double>(std::max<int64_t>(1, s.steps_per_epoch));
  char timing[64];
  std::snprintf(timing, sizeof timing, "%.1fs %.1fms/step", elapsed, per_step_ms);
  if (tty_) {
    std::fprintf(out_, "\r%lld/%lld [%s] - %s%s\033[K\n", static_cast<long long>(s.steps_per_epoch),
                 static_cast<long long>(s.steps_per_epoch), std::string(30, '=').c_str(), timing,
                 format_logs(logs).c_str());
  } else {
    // Plain lines: every epoch up to 100 epochs, then about 100 lines in all (and the last epoch).
    const int every = std::max(1, (s.epochs + 99) / 100);
    if ((epoch + 1) % every != 0 && epoch + 1 != s.epochs) return;
    std::fprintf(out_, "Epoch %d/%d - %lld/%lld - %s%s\n", epoch + 1, s.epochs,
                 static_cast<long long>(s.steps_per_epoch), static_cast<long long>(s.steps_per_epoch), timing,
                 format_logs(logs).c_str());
  }
  std::fflush(out_);
}

}  // namespace nnlab
