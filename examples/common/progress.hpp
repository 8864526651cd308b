// examples/common/progress.hpp - the training progress bar: one line redrawn in
// place on a terminal, plain lines otherwise (logs, CI).
#ifndef FIXQ_EXAMPLES_PROGRESS_HPP
#define FIXQ_EXAMPLES_PROGRESS_HPP

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <unistd.h>

#include <fixq/train.hpp>

namespace fixq_examples {

inline std::string clock_text(double seconds) {
  const long s = std::lround(std::max(seconds, 0.0));
  char b[32];
  std::snprintf(b, sizeof b, "%ld:%02ld", s / 60, s % 60);
  return b;
}

class ProgressBar {
 public:
  explicit ProgressBar(std::FILE* out = stdout) : out_(out), tty_(isatty(fileno(out)) != 0) {}

  void operator()(const fixq::train::Progress& p) {
    const double frac = static_cast<double>(p.step) / static_cast<double>(std::max<std::int64_t>(p.steps, 1));
    char line[256];
    std::snprintf(line, sizeof line, "epoch %d/%d %3.0f%% loss %.4f acc %.2f%% lr %.2e %5.0f img/s ETA %s",
                  p.epoch + 1, p.epochs, 100 * frac, p.loss, 100 * p.accuracy, p.lr, p.images_per_second,
                  clock_text(p.eta_seconds).c_str());
    std::string text = line;
    if (p.epoch_end && !std::isnan(p.val_accuracy)) {
      char v[64];
      std::snprintf(v, sizeof v, " | test %.2f%%", 100 * p.val_accuracy);
      text += v;
    }
    if (tty_) {
      constexpr int width = 24;
      const int fill = static_cast<int>(frac * width);
      const std::string bar = "[" + std::string(static_cast<std::size_t>(fill), '=') +
                              std::string(static_cast<std::size_t>(width - fill), ' ') + "] ";
      std::fprintf(out_, "\r\033[K%s%s%s", bar.c_str(), text.c_str(), p.epoch_end ? "\n" : "");
    } else {
      std::fprintf(out_, "%s\n", text.c_str());
    }
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  bool tty_;
};

}  // namespace fixq_examples

#endif  // FIXQ_EXAMPLES_PROGRESS_HPP
