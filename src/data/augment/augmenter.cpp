// ImageAugmenter: the options (Keras's ImageDataGenerator names), their validation and JSON form,
// and the pipeline that composes the geometric augmentations into one resampling.
#include <cmath>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "nnlab/config_reader.hpp"
#include "nnlab/data/augment.hpp"

namespace nnlab {

std::string augment::show(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
  return nlohmann::json(v).dump();  // the shortest text that reads back the same: 10.0, 0.1, -5.0
}

std::string augment::show_pair(double lo, double hi) {
  std::string s = "[";
  s += show(lo);
  s += ", ";
  s += show(hi);
  s += "]";
  return s;
}

void AugmentOptions::validate() const {
  using augment::require;
  for (const auto& [key, v] : {std::pair<const char*, double>{"rotation_range", rotation_range},
                               {"width_shift_range", width_shift_range},
                               {"height_shift_range", height_shift_range},
                               {"shear_range", shear_range},
                               {"gaussian_noise", gaussian_noise},
                               {"elastic_alpha", elastic_alpha},
                               {"elastic_sigma", elastic_sigma},
                               {"erasing_probability", erasing_probability}})
    require(std::isfinite(v), key, "a finite number", v);
  require(std::isfinite(cval), "cval", "a finite number", cval);
  require(std::isfinite(erasing_value), "erasing_value", "a finite number", erasing_value);
  // Each built-in checks its own values, with the option's name in the message.
  Rotation{rotation_range};
  WidthShift{width_shift_range};
  HeightShift{height_shift_range};
  Shear{shear_range};
  Zoom{zoom_range[0], zoom_range[1]};
  ElasticDistortion{elastic_alpha, elastic_sigma};
  Brightness{brightness_range[0], brightness_range[1]};
  GaussianNoise{gaussian_noise};
  RandomErasing{erasing_probability, erasing_area, erasing_aspect, erasing_value};
  parse_fill_mode(fill_mode);
}

bool AugmentOptions::any() const {
  return rotation_range > 0 || width_shift_range > 0 || height_shift_range > 0 || shear_range > 0 ||
         zoom_range != std::array<double, 2>{1, 1} || horizontal_flip || vertical_flip || elastic_alpha > 0 ||
         brightness_range != std::array<double, 2>{1, 1} || gaussian_noise > 0 || erasing_probability > 0;
}

ImageAugmenter::ImageAugmenter(AugmentOptions options) : opt_(std::move(options)) {
  opt_.validate();
  fill_ = {parse_fill_mode(opt_.fill_mode), opt_.cval};
  const auto& o = opt_;
  if (o.rotation_range > 0) geometric_.push_back(std::make_shared<Rotation>(o.rotation_range));
  if (o.width_shift_range > 0) geometric_.push_back(std::make_shared<WidthShift>(o.width_shift_range));
  if (o.height_shift_range > 0) geometric_.push_back(std::make_shared<HeightShift>(o.height_shift_range));
  if (o.shear_range > 0) geometric_.push_back(std::make_shared<Shear>(o.shear_range));
  if (o.zoom_range != std::array<double, 2>{1, 1})
    geometric_.push_back(std::make_shared<Zoom>(o.zoom_range[0], o.zoom_range[1]));
  if (o.elastic_alpha > 0) geometric_.push_back(std::make_shared<ElasticDistortion>(o.elastic_alpha, o.elastic_sigma));
  if (o.horizontal_flip) geometric_.push_back(std::make_shared<HorizontalFlip>(0.5));
  if (o.vertical_flip) geometric_.push_back(std::make_shared<VerticalFlip>(0.5));
  if (o.brightness_range != std::array<double, 2>{1, 1})
    pixelwise_.push_back(std::make_shared<Brightness>(o.brightness_range[0], o.brightness_range[1]));
  if (o.gaussian_noise > 0) pixelwise_.push_back(std::make_shared<GaussianNoise>(o.gaussian_noise));
  if (o.erasing_probability > 0)
    pixelwise_.push_back(
        std::make_shared<RandomErasing>(o.erasing_probability, o.erasing_area, o.erasing_aspect, o.erasing_value));
}

ImageAugmenter& ImageAugmenter::add(std::shared_ptr<const Augmentation> augmentation) {
  check(augmentation != nullptr, "augment: add() was given a null augmentation");
  if (auto g = std::dynamic_pointer_cast<const GeometricAugmentation>(augmentation)) {
    geometric_.push_back(std::move(g));
  } else {
    pixelwise_.push_back(std::move(augmentation));
  }
  return *this;
}

void ImageAugmenter::apply(ImageView image, Rng& rng, AugmentScratch& scratch) const {
  if (!geometric_.empty()) {
    augment::draw_and_resample(image, fill_, scratch, rng, [this](GeometryDraw& g, Rng& r) {
      for (const auto& a : geometric_) a->draw(g, r);
    });
  }
  for (const auto& a : pixelwise_) a->apply(image, rng);
}

void ImageAugmenter::apply(ImageView image, Rng& rng) const {
  static thread_local AugmentScratch scratch;
  apply(image, rng, scratch);
}

std::string ImageAugmenter::describe() const {
  using augment::show;
  const auto& o = opt_;
  std::string s;
  auto put = [&](const std::string& part) { s += (s.empty() ? "" : " ") + part; };
  auto pair = [](const std::array<double, 2>& p) { return augment::show_pair(p[0], p[1]); };
  if (o.rotation_range > 0) put("rotation_range=" + show(o.rotation_range));
  if (o.width_shift_range > 0) put("width_shift_range=" + show(o.width_shift_range));
  if (o.height_shift_range > 0) put("height_shift_range=" + show(o.height_shift_range));
  if (o.zoom_range != std::array<double, 2>{1, 1}) put("zoom_range=" + pair(o.zoom_range));
  if (o.shear_range > 0) put("shear_range=" + show(o.shear_range));
  if (o.horizontal_flip) put("horizontal_flip=true");
  if (o.vertical_flip) put("vertical_flip=true");
  if (o.elastic_alpha > 0) put("elastic_alpha=" + show(o.elastic_alpha) + " elastic_sigma=" + show(o.elastic_sigma));
  if (o.brightness_range != std::array<double, 2>{1, 1}) put("brightness_range=" + pair(o.brightness_range));
  if (o.gaussian_noise > 0) put("gaussian_noise=" + show(o.gaussian_noise));
  if (o.erasing_probability > 0)
    put("erasing_probability=" + show(o.erasing_probability) + " erasing_area=" + pair(o.erasing_area) +
        " erasing_aspect=" + pair(o.erasing_aspect) + " erasing_value=" + show(o.erasing_value));
  if (!geometric_.empty()) put("fill_mode=" + o.fill_mode + (fill_.mode == FillMode::Constant ? " cval=" + show(o.cval) : ""));
  std::string user;
  const size_t builtin_geo = static_cast<size_t>((o.rotation_range > 0) + (o.width_shift_range > 0) +
                                                 (o.height_shift_range > 0) + (o.shear_range > 0) +
                                                 (o.zoom_range != std::array<double, 2>{1, 1}) +
                                                 (o.elastic_alpha > 0) + o.horizontal_flip + o.vertical_flip);
  const size_t builtin_pix = static_cast<size_t>((o.brightness_range != std::array<double, 2>{1, 1}) +
                                                 (o.gaussian_noise > 0) + (o.erasing_probability > 0));
  for (size_t i = builtin_geo; i < geometric_.size(); ++i) user += (user.empty() ? "" : ", ") + geometric_[i]->name();
  for (size_t i = builtin_pix; i < pixelwise_.size(); ++i) user += (user.empty() ? "" : ", ") + pixelwise_[i]->name();
  if (!user.empty()) put("user-defined: " + user);
  return s.empty() ? "none" : s;
}

// [lo, hi] from a JSON pair of numbers, or from one number z as [1 - z, 1 + z] when allowed.
static std::array<double, 2> read_range(ConfigReader& r, const std::string& key, std::array<double, 2> fallback,
                                        bool number_means_one_plus_minus) {
  if (!r.has(key)) {
    r.get<double>(key, 0);  // marks the key as known for finish()'s message
    return fallback;
  }
  const nlohmann::json& v = r.raw(key);
  if (v.is_number() && number_means_one_plus_minus) {
    const double z = v.get<double>();
    augment::require(z >= 0, key, "0 or more (z means [1-z, 1+z]) or a pair [lo, hi]", v.dump());
    return {1 - z, 1 + z};
  }
  const bool pair = v.is_array() && v.size() == 2 && v[0].is_number() && v[1].is_number();
  augment::require(pair, key, number_means_one_plus_minus ? "a number z or a pair [lo, hi]" : "a pair [lo, hi]",
                   v.dump());
  return {v[0].get<double>(), v[1].get<double>()};
}

ImageAugmenter ImageAugmenter::from_json(const nlohmann::json& config, const std::string& where) {
  try {
    ConfigReader r(config, where);
    AugmentOptions o;
    o.rotation_range = r.get<double>("rotation_range", o.rotation_range);
    o.width_shift_range = r.get<double>("width_shift_range", o.width_shift_range);
    o.height_shift_range = r.get<double>("height_shift_range", o.height_shift_range);
    o.zoom_range = read_range(r, "zoom_range", o.zoom_range, true);
    o.shear_range = r.get<double>("shear_range", o.shear_range);
    o.horizontal_flip = r.get<bool>("horizontal_flip", o.horizontal_flip);
    o.vertical_flip = r.get<bool>("vertical_flip", o.vertical_flip);
    o.fill_mode = r.get<std::string>("fill_mode", o.fill_mode);
    o.cval = r.get<float>("cval", o.cval);
    o.brightness_range = read_range(r, "brightness_range", o.brightness_range, false);
    o.gaussian_noise = r.get<double>("gaussian_noise", o.gaussian_noise);
    o.elastic_alpha = r.get<double>("elastic_alpha", o.elastic_alpha);
    o.elastic_sigma = r.get<double>("elastic_sigma", o.elastic_sigma);
    o.erasing_probability = r.get<double>("erasing_probability", o.erasing_probability);
    o.erasing_area = read_range(r, "erasing_area", o.erasing_area, false);
    o.erasing_aspect = read_range(r, "erasing_aspect", o.erasing_aspect, false);
    o.erasing_value = r.get<float>("erasing_value", o.erasing_value);
    r.finish();
    return ImageAugmenter(o);
  } catch (const Error& e) {
    const std::string msg = e.what();
    if (msg.rfind(where, 0) == 0) throw;  // already names where
    const std::string own = "augment: ";  // the options' own prefix gives way to where
    throw Error(where + ": " + (msg.rfind(own, 0) == 0 ? msg.substr(own.size()) : msg));
  }
}

}  // namespace nnlab
