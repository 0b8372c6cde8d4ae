// `nnlab augment`: a preview of on-the-fly augmentation as a PNG grid; each row is one image of a
// built-in dataset followed by augmented copies of it.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "commands.hpp"
#include "nnlab/data/augment.hpp"
#include "nnlab/data/readers.hpp"
#include "nnlab/error.hpp"
#include "nnlab/experiment.hpp"
#include "nnlab/report/png.hpp"

namespace nnlab::cli {

namespace {

constexpr double kUnset = std::numeric_limits<double>::quiet_NaN();  // an option not given

// Samples to show: one of each class in turn, so the rows are different kinds of image.
std::vector<int64_t> pick_samples(const InMemoryDataset& d, int64_t count) {
  std::vector<int64_t> picked;
  const int64_t classes = std::max<int64_t>(1, d.num_classes);
  std::vector<int64_t> next(static_cast<size_t>(classes), 0);  // where to look for each class
  for (int64_t k = 0; static_cast<int64_t>(picked.size()) < count && k < count * 4; ++k) {
    const int64_t want = k % classes;
    int64_t& i = next[static_cast<size_t>(want)];
    while (i < d.size() && d.num_classes > 0 && static_cast<int64_t>(d.y()[i]) != want) ++i;
    if (i < d.size()) picked.push_back(i++);
  }
  for (int64_t i = 0; static_cast<int64_t>(picked.size()) < count && i < d.size(); ++i)
    if (std::find(picked.begin(), picked.end(), i) == picked.end()) picked.push_back(i);
  return picked;
}

struct AugmentArgs {
  std::string dataset = "fashion-mnist", data_dir, out, fill_mode;
  int64_t samples = 8, copies = 7, scale = 3, seed = 42;
  double rotation = kUnset, shift = kUnset, width_shift = kUnset, height_shift = kUnset, zoom = kUnset,
         shear = kUnset, noise = kUnset, elastic = kUnset, erasing = kUnset;
  std::vector<double> brightness;
  bool flip = false, vertical_flip = false;
  std::vector<std::string> set;
};

// The augmentation the flags ask for, by Keras's option names; the course's without any.
nlohmann::json augment_config(const AugmentArgs& a) {
  nlohmann::json cfg = nlohmann::json::object();
  auto number = [&](const char* key, double v) {
    if (!std::isnan(v)) cfg[key] = v;  // negative values too: the options refuse them with the value
  };
  number("rotation_range", a.rotation);
  number("width_shift_range", a.shift);
  number("height_shift_range", a.shift);
  number("width_shift_range", a.width_shift);
  number("height_shift_range", a.height_shift);
  number("zoom_range", a.zoom);
  number("shear_range", a.shear);
  number("gaussian_noise", a.noise);
  number("elastic_alpha", a.elastic);
  number("erasing_probability", a.erasing);
  if (a.flip) cfg["horizontal_flip"] = true;
  if (a.vertical_flip) cfg["vertical_flip"] = true;
  if (!a.brightness.empty()) cfg["brightness_range"] = a.brightness;
  if (!a.fill_mode.empty()) cfg["fill_mode"] = a.fill_mode;
  for (const auto& s : a.set) apply_override(cfg, s);
  if (cfg.empty()) cfg = {{"rotation_range", 10}, {"zoom_range", 0.1}, {"width_shift_range", 0.1},
                          {"height_shift_range", 0.1}};
  return cfg;
}

// The PNG's pixels: each row an original image (its channels' mean), a rule, then its copies.
struct Grid {
  int64_t width = 0, height = 0;
  std::vector<uint8_t> px;
};

Grid draw_grid(const Tensor& original, const Tensor& copies, const Shape& img, int64_t n_rows, const AugmentArgs& a) {
  const int64_t H = img[0], W = img[1], C = img[2], s = a.scale, gap = 2, rule = 6;
  const int64_t n_cols = 1 + a.copies;
  const int64_t width = gap + n_cols * (W * s + gap) + rule, height = gap + n_rows * (H * s + gap);
  std::vector<uint8_t> px(static_cast<size_t>(width * height), 96);  // grey gaps
  const int64_t per = H * W * C;
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t c = 0; c < n_cols; ++c) {
      const float* image = c == 0 ? original.data() + r * per : copies.data() + (r * a.copies + c - 1) * per;
      const int64_t x0 = gap + c * (W * s + gap) + (c > 0 ? rule : 0), y0 = gap + r * (H * s + gap);
      for (int64_t y = 0; y < H * s; ++y) {
        for (int64_t x = 0; x < W * s; ++x) {
          float v = 0;  // the channels' mean
          for (int64_t ch = 0; ch < C; ++ch) v += image[((y / s) * W + x / s) * C + ch];
          v /= static_cast<float>(C);
          px[static_cast<size_t>((y0 + y) * width + x0 + x)] =
              static_cast<uint8_t>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255.0f));
        }
      }
    }
  }
  return {width, height, std::move(px)};
}

void run_augment(const AugmentArgs& a) {
  const ImageAugmenter aug = ImageAugmenter::from_json(augment_config(a), "augment");

  auto [train, test] = load_builtin(a.dataset, a.data_dir);
  const std::vector<int64_t> rows = pick_samples(train, a.samples);
  std::vector<int64_t> indices;  // each row's image, copies times
  for (int64_t r : rows)
    for (int64_t c = 0; c < a.copies; ++c) indices.push_back(r);
  AugmentedDataset augmented(train, aug, static_cast<uint64_t>(a.seed));
  Tensor original, copies, y;
  train.gather(rows, original, y);
  augmented.gather(indices, copies, y);

  const int64_t n_rows = static_cast<int64_t>(rows.size());
  const auto [width, height, px] = draw_grid(original, copies, augmented.image_shape(), n_rows, a);
  write_png_gray(a.out, width, height, px.data());
  std::printf("augment: %s\n", aug.describe().c_str());
  std::printf("wrote %s: %lld rows of %s images (original, then %lld augmented copies), %lldx%lld pixels\n",
              a.out.c_str(), static_cast<long long>(n_rows), a.dataset.c_str(), static_cast<long long>(a.copies),
              static_cast<long long>(width), static_cast<long long>(height));
}

}  // namespace

void add_augment(CLI::App& app) {
  auto args = std::make_shared<AugmentArgs>();
  auto* cmd = app.add_subcommand(
      "augment",
      "Preview data augmentation: writes a PNG grid, each row an original image then augmented copies. Without "
      "augmentation options it shows the course's: rotation 10, zoom 0.1, shifts 0.1");
  cmd->add_option("--dataset", args->dataset, "Built-in dataset: mnist, fashion-mnist, sign-mnist")
      ->capture_default_str();
  cmd->add_option("--data-dir", args->data_dir, "Where to look for the dataset's files first");
  cmd->add_option("--samples", args->samples, "Rows: how many images")->capture_default_str()->check(whole_number(1, 1000));
  cmd->add_option("--copies", args->copies, "Augmented copies per image")->capture_default_str()->check(whole_number(1, 1000));
  cmd->add_option("--rotation", args->rotation, "rotation_range: degrees, uniform in +-range");
  cmd->add_option("--shift", args->shift, "width_shift_range and height_shift_range (below 1: fraction; else pixels)");
  cmd->add_option("--width-shift", args->width_shift, "width_shift_range");
  cmd->add_option("--height-shift", args->height_shift, "height_shift_range");
  cmd->add_option("--zoom", args->zoom, "zoom_range z: scale uniform in [1-z, 1+z]");
  cmd->add_option("--shear", args->shear, "shear_range: degrees");
  cmd->add_flag("--flip", args->flip, "horizontal_flip (p = 0.5)");
  cmd->add_flag("--vertical-flip", args->vertical_flip, "vertical_flip (p = 0.5)");
  cmd->add_option("--brightness", args->brightness, "brightness_range: LO,HI (multiply)")->expected(2)->delimiter(',');
  cmd->add_option("--noise", args->noise, "gaussian_noise: standard deviation");
  cmd->add_option("--elastic", args->elastic, "elastic_alpha (Simard et al.: 34 with elastic_sigma 4)");
  cmd->add_option("--erasing", args->erasing, "erasing_probability (random erasing)");
  cmd->add_option("--fill-mode", args->fill_mode, "fill_mode: nearest, constant, reflect, wrap");
  cmd->add_option("--set", args->set, "Any augmentation option by its Keras name: key=value (repeatable), e.g. cval=0.5");
  cmd->add_option("--seed", args->seed, "Seed")->capture_default_str()->check(whole_number(0));
  cmd->add_option("--scale", args->scale, "Pixels per image pixel in the PNG")->capture_default_str()->check(whole_number(1, 16));
  cmd->add_option("--out", args->out, "The PNG to write")->required();
  cmd->callback([args] { run_augment(*args); });
}

}  // namespace nnlab::cli
