// Image augmentation on the fly, with Keras ImageDataGenerator's option names and meanings.
//
//   nnlab::AugmentOptions o;
//   o.rotation_range = 10;          // degrees, uniform in [-10, 10]
//   o.width_shift_range = 0.1;      // below 1: a fraction of the width; 1 or more: pixels
//   o.height_shift_range = 0.1;
//   o.zoom_range = nnlab::AugmentOptions::zoom(0.1);  // scale uniform in [0.9, 1.1], x and y independently
//   nnlab::ImageAugmenter aug(o);   // validates o
//   aug.add(std::make_shared<MyAugmentation>());      // user-defined ones run after the built-ins
//   nnlab::AugmentedDataset train_aug(train, aug, seed);  // gather() returns augmented batches
//
// Pipeline for one image, in this order:
//   1. geometry, resampled ONCE with bilinear interpolation (scipy.ndimage order=1, as Keras):
//      Keras's affine matrix (rotation, shift, shear, zoom about the image centre), then an elastic
//      displacement field (Simard et al. 2003), then the flips (Keras flips after the affine);
//   2. brightness (multiply), 3. gaussian noise (add), 4. random erasing (Zhong et al. 2017),
//   5. the user-defined augmentations, in the order they were added.
//
// Geometry conventions (image coordinates: x = column to the right, y = row downwards, origin at
// the top-left pixel's centre). As in Keras's apply_affine_transform, the matrix maps OUTPUT pixel
// positions to the INPUT positions they are sampled from:
//     in = c + R(theta) * (t + Sh(shear) * Z(zx, zy) * (out - c)),   c = ((W-1)/2, (H-1)/2)
//   theta > 0 turns the content counter-clockwise on screen;
//   tx > 0 moves the content LEFT by tx pixels, ty > 0 moves it UP (out(x, y) = in(x + tx, y + ty));
//   zx > 1 shrinks the content horizontally by zx (Keras's zoom: 2 shows twice as much, half size);
//   shear: in_x = x - sin(shear) * y, in_y = cos(shear) * y (Keras's shear matrix).
// Random ranges are symmetric, so the signs only matter when parameters are given explicitly.
// Differences from Keras, on purpose: width_shift_range moves the content horizontally and
// height_shift_range vertically (current Keras swaps them: keras-team/keras#17398); the centre of
// a non-square image is its true centre (Keras uses (H-1)/2 for x); shifts of 1 or more pixels are
// drawn uniformly in [-v, v] (Keras picks a whole number in (-v, v)); fill_mode "wrap" is periodic
// (scipy's "grid-wrap"; scipy's "wrap" overlaps the first and last pixel); brightness multiplies
// the values without PIL's 8-bit rounding and clipping.
#pragma once
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <span>
#include <string>
#include <vector>

#include "nnlab/data/dataset.hpp"
#include "nnlab/random.hpp"

namespace nnlab {

// One image in row-major (H, W, C) order: a (H, W) image is C = 1.
struct ImageView {
  float* data = nullptr;  // (height, width, channels)
  int64_t height = 0, width = 0, channels = 1;
  int64_t pixels() const { return height * width; }
  int64_t size() const { return height * width * channels; }
  float& at(int64_t y, int64_t x, int64_t c = 0) const { return data[(y * width + x) * channels + c]; }
};

// How samples outside the image are filled (scipy.ndimage modes, as Keras's fill_mode):
//   nearest  aaaa|abcd|dddd  (Keras's default)
//   constant kkkk|abcd|kkkk  with k = cval; positions outside [0, size-1] give cval
//   reflect  dcba|abcd|dcba  (half-sample symmetric)
//   wrap     abcd|abcd|abcd  (periodic)
enum class FillMode { Nearest, Constant, Reflect, Wrap };
FillMode parse_fill_mode(const std::string& name);  // throws naming the value and the valid ones
std::string fill_mode_name(FillMode mode);

struct Fill {
  FillMode mode = FillMode::Nearest;
  float cval = 0.0f;  // for constant
};

// Explicit geometry for one image, in pixels and degrees (see the conventions above).
struct GeometryParams {
  double theta = 0;            // rotation, degrees
  double tx = 0, ty = 0;       // shift, pixels (x: columns, y: rows)
  double shear = 0;            // degrees
  double zx = 1, zy = 1;       // zoom factors (output-to-input scale)
  bool flip_horizontal = false, flip_vertical = false;
  bool is_identity() const {
    return theta == 0 && tx == 0 && ty == 0 && shear == 0 && zx == 1 && zy == 1 && !flip_horizontal && !flip_vertical;
  }
};

// The 2x3 matrix {a, b, c, d, e, f}: in_x = a*x + b*y + c, in_y = d*x + e*y + f, for an output pixel
// (x, y) of a height x width image, flips not included.
std::array<double, 6> affine_matrix(const GeometryParams& p, int64_t height, int64_t width);

// Resamples `image` in place with bilinear interpolation: out(p) = in(M * (f(p) + d(f(p)))), where f
// flips p when asked and d is the displacement field `field` ((2, H, W): dx then dy, in pixels; null
// for none). `scratch` receives a copy of the input (resized only when too small).
void apply_geometry(ImageView image, const GeometryParams& p, const Fill& fill, const float* field,
                    std::vector<float>& scratch);
void apply_geometry(ImageView image, const GeometryParams& p, const Fill& fill = {});  // allocates

// --- The augmentation interface -------------------------------------------------------------

// Changes one image in place with randomness from rng. apply() is called from several threads at
// once (different images, different Rngs): it must not change shared state. Augmentations have no
// gradients: they run on the data before the model sees it.
class Augmentation {
 public:
  virtual ~Augmentation() = default;
  virtual std::string name() const = 0;
  virtual void apply(ImageView image, Rng& rng) const = 0;
};

// Buffers one thread reuses for every image it augments (sized once, on first use).
struct AugmentScratch {
  std::vector<float> source;  // (H, W, C) copy of the input for resampling
  std::vector<float> field;   // (2, H, W) displacement field
  std::vector<float> work;    // (H, W) smoothing temporary
  std::vector<float> kernel;  // Gaussian taps for the elastic field
};

// What the geometric augmentations of one image draw into; resampled once by the augmenter.
struct GeometryDraw {
  GeometryParams params;
  int64_t height = 0, width = 0;
  AugmentScratch* scratch = nullptr;
  bool has_field = false;  // scratch->field holds a displacement field to add
};

// A geometric augmentation adds its random part to a GeometryDraw, so that rotation, shifts, zoom,
// shear, elastic distortion and flips cost one resampling together. Applied alone (apply()), it
// resamples with `fill`. ImageAugmenter::add() composes any GeometricAugmentation with the others.
class GeometricAugmentation : public Augmentation {
 public:
  virtual void draw(GeometryDraw& g, Rng& rng) const = 0;
  void apply(ImageView image, Rng& rng) const override;
  Fill fill;  // used only by apply(); the augmenter uses its own fill_mode and cval
};

// --- Built-ins (src/data/augment/, one file each) -------------------------------------------

class Rotation : public GeometricAugmentation {  // theta uniform in [-range, range] degrees
 public:
  explicit Rotation(double range_degrees);
  std::string name() const override { return "rotation"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double range;
};

// Keras's width_shift_range / height_shift_range: below 1 a fraction of the size, 1 or more pixels;
// the shift is uniform in [-range, range].
class WidthShift : public GeometricAugmentation {
 public:
  explicit WidthShift(double range);
  std::string name() const override { return "width_shift"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double range;
};
class HeightShift : public GeometricAugmentation {
 public:
  explicit HeightShift(double range);
  std::string name() const override { return "height_shift"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double range;
};

class Zoom : public GeometricAugmentation {  // zx, zy independently uniform in [lo, hi]
 public:
  Zoom(double lo, double hi);
  std::string name() const override { return "zoom"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double lo, hi;
};

class Shear : public GeometricAugmentation {  // shear angle uniform in [-range, range] degrees
 public:
  explicit Shear(double range_degrees);
  std::string name() const override { return "shear"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double range;
};

class HorizontalFlip : public GeometricAugmentation {  // mirrors left-right with probability p
 public:
  explicit HorizontalFlip(double p = 0.5);
  std::string name() const override { return "horizontal_flip"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double probability;
};
class VerticalFlip : public GeometricAugmentation {  // mirrors top-bottom with probability p
 public:
  explicit VerticalFlip(double p = 0.5);
  std::string name() const override { return "vertical_flip"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double probability;
};

// Simard et al. 2003: dx, dy uniform in [-1, 1) per pixel, each smoothed by a Gaussian of std
// sigma (pixels, zero beyond the border), times alpha. MNIST: alpha 34, sigma 4.
class ElasticDistortion : public GeometricAugmentation {
 public:
  ElasticDistortion(double alpha, double sigma);
  std::string name() const override { return "elastic"; }
  void draw(GeometryDraw& g, Rng& rng) const override;
  double alpha, sigma;
};

class Brightness : public Augmentation {  // multiplies every value by a factor uniform in [lo, hi]
 public:
  Brightness(double lo, double hi);
  std::string name() const override { return "brightness"; }
  void apply(ImageView image, Rng& rng) const override;
  double lo, hi;
};

class GaussianNoise : public Augmentation {  // adds N(0, stddev^2) to every value
 public:
  explicit GaussianNoise(double stddev);
  std::string name() const override { return "gaussian_noise"; }
  void apply(ImageView image, Rng& rng) const override;
  double stddev;
};

// Zhong et al. 2017: with probability p, a rectangle of area uniform in area (fractions of the
// image) and aspect ratio (height / width) log-uniform in aspect is set to `value` in every
// channel; up to 100 tries to fit one inside the image, else the image is left as is.
class RandomErasing : public Augmentation {
 public:
  RandomErasing(double probability, std::array<double, 2> area = {0.02, 0.4},
                std::array<double, 2> aspect = {0.3, 3.3}, float value = 0.0f);
  std::string name() const override { return "random_erasing"; }
  void apply(ImageView image, Rng& rng) const override;
  double probability;
  std::array<double, 2> area, aspect;
  float value;
};

// --- The augmenter: options (Keras key names) and the pipeline ------------------------------

struct AugmentOptions {
  double rotation_range = 0;      // degrees
  double width_shift_range = 0;   // below 1: fraction of the width; 1 or more: pixels
  double height_shift_range = 0;  // below 1: fraction of the height; 1 or more: pixels
  std::array<double, 2> zoom_range = {1, 1};  // scale range; zoom(z) gives Keras's [1-z, 1+z]
  double shear_range = 0;         // degrees
  bool horizontal_flip = false;   // p = 0.5
  bool vertical_flip = false;     // p = 0.5
  std::string fill_mode = "nearest";  // nearest, constant, reflect, wrap
  float cval = 0;                     // fill value for constant
  std::array<double, 2> brightness_range = {1, 1};  // multiply by uniform [lo, hi]; {1, 1} is off
  double gaussian_noise = 0;      // stddev of added noise
  double elastic_alpha = 0;       // 0 is off; Simard et al. use 34 for MNIST
  double elastic_sigma = 4;       // pixels
  double erasing_probability = 0;
  std::array<double, 2> erasing_area = {0.02, 0.4};   // fraction of the image
  std::array<double, 2> erasing_aspect = {0.3, 3.3};  // height / width
  float erasing_value = 0;

  static std::array<double, 2> zoom(double z) { return {1 - z, 1 + z}; }
  // Throws nnlab::Error naming the option and the received value.
  void validate() const;
  bool any() const;  // false when every built-in is off
};

class ImageAugmenter {
 public:
  explicit ImageAugmenter(AugmentOptions options = {});  // validates
  // Reads Keras's key names from a JSON object (an experiment's [augment] table): rotation_range,
  // width_shift_range, height_shift_range, zoom_range (z or [lo, hi]), shear_range, horizontal_flip,
  // vertical_flip, fill_mode, cval, brightness_range ([lo, hi]), gaussian_noise, elastic_alpha,
  // elastic_sigma, erasing_probability, erasing_area, erasing_aspect, erasing_value. Unknown keys
  // and bad values throw, naming `where`, the key and the value.
  static ImageAugmenter from_json(const nlohmann::json& config, const std::string& where = "augment");

  // Adds a user-defined augmentation; a GeometricAugmentation is composed into the one resampling.
  ImageAugmenter& add(std::shared_ptr<const Augmentation> augmentation);

  // Augments one image in place with its own scratch buffers (allocated once per thread).
  void apply(ImageView image, Rng& rng) const;
  void apply(ImageView image, Rng& rng, AugmentScratch& scratch) const;

  const AugmentOptions& options() const { return opt_; }
  bool empty() const { return geometric_.empty() && pixelwise_.empty(); }
  std::string describe() const;  // one line: the options that are on, and the user-defined names

 private:
  AugmentOptions opt_;
  Fill fill_;
  std::vector<std::shared_ptr<const GeometricAugmentation>> geometric_;  // composed, one resampling
  std::vector<std::shared_ptr<const Augmentation>> pixelwise_;          // in order, after geometry
};

// --- A dataset whose batches come out augmented ---------------------------------------------

// Wraps a dataset of images: samples (H, W), (H, W, C), or flat (H*W*C) with `image_shape` given
// ((H, W) or (H, W, C); when none is given a flat square sample of 64 values or more, such as
// 784, is taken as a square one-channel image, (28, 28)).
// Every gather() gathers from the base dataset, then augments each sample with its own Rng seeded
// from (seed, number of earlier gather() calls, position in the batch) by splitmix64, so a run is
// reproducible whatever the thread count. The wrapper owns that call counter: Trainer::fit, on
// resuming from a checkpoint, tells it how many batches were taken (seek_batches), so a resumed fit
// augments exactly as an uninterrupted one. Targets pass through unchanged. The base dataset must
// outlive this wrapper. Wrap only the training set: validation data is never augmented, and
// set_enabled(false) turns the wrapper into a plain pass-through (inference mode).
class AugmentedDataset : public Dataset {
 public:
  AugmentedDataset(const Dataset& base, ImageAugmenter augmenter, uint64_t seed = 42, Shape image_shape = {});

  int64_t size() const override { return base_.size(); }
  Shape sample_shape() const override { return base_.sample_shape(); }
  int64_t target_width() const override { return base_.target_width(); }
  // Called once per mini-batch, in order (possibly from one background thread): not re-entrant.
  void gather(std::span<const int64_t> indices, Tensor& x, Tensor& y) const override;
  // Sample i of the shard is augmented as position + i of the whole batch.
  void gather_shard(std::span<const int64_t> indices, int64_t position, Tensor& x, Tensor& y) const override;

  void set_enabled(bool enabled) { enabled_ = enabled; }
  bool enabled() const { return enabled_; }
  // Threads for one batch. 1 (default): serially on the calling thread, right when gather() runs on
  // the trainer's prefetch thread, which already overlaps it with training (a second OpenMP team
  // there would fight the GEMMs' threads for the cores). 0: OpenMP's thread count; n: n threads;
  // for a loop that gathers and trains in turn. Batches smaller than min_parallel_batch(), and calls
  // from inside a parallel region, are always done serially.
  void set_threads(int threads);  // throws below 0
  static constexpr int64_t min_parallel_batch() { return 16; }
  // The gather-call counter, which picks each batch's random stream: the number of augmented
  // batches gathered so far (0 at construction). set_calls(n) makes the next gather() augment as
  // the (n+1)-th did; Trainer::fit does that through seek_batches when it resumes a checkpoint (one
  // gather per training batch, so the batches of the finished epochs), nobody else needs to.
  uint64_t calls() const { return calls_.load(); }
  void set_calls(uint64_t calls) { calls_.store(calls); }
  void seek_batches(uint64_t batches_done) const override { calls_.store(batches_done); }

  const ImageAugmenter& augmenter() const { return aug_; }
  const Shape& image_shape() const { return image_; }  // (H, W, C)

 private:
  const Dataset& base_;
  ImageAugmenter aug_;
  uint64_t seed_;
  Shape image_;  // (H, W, C)
  bool enabled_ = true;
  int threads_ = 1;
  mutable std::atomic<uint64_t> calls_{0};
};

// Test-time augmentation: `copies` augmented versions of a dataset's images, copy k augmented as an
// AugmentedDataset seeded with seed + k gathers it (in batches of 256, in order), so the copies are
// reproducible. Averaging a model's predictions over the images and their copies (evaluation.hpp's
// predict_averaged) is what `nnlab evaluate --tta` and ensembles' evaluation do; off by default.
std::vector<Tensor> augmented_copies(const Dataset& data, const ImageAugmenter& augmenter, int copies, uint64_t seed,
                                     Shape image_shape = {});

// splitmix64's finaliser: a good 64-bit mixing function (Steele et al. 2014).
uint64_t splitmix64(uint64_t x);
// The seed of the sample at `position` in the `call`-th gather() of a run seeded with `seed`.
uint64_t augment_sample_seed(uint64_t seed, uint64_t call, uint64_t position);

}  // namespace nnlab
