// `nnlab plot filters`: what the first convolution of a CNN learned, as one SVG: its kernels (each
// filter's weights, averaged over its input channels) and its feature maps for one image (the
// layer's output, after its activation, one map per filter), each a small greyscale PNG inlined as a
// data URI (as report.html inlines its images), scaled up with crisp pixels.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "nnlab/error.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/report/html.hpp"
#include "nnlab/report/plot.hpp"
#include "nnlab/report/png.hpp"
#include "svg_internal.hpp"

namespace nnlab {

namespace {

constexpr double kPad = 16, kGap = 10, kLabel = 14, kKernelCell = 48, kMapCell = 84;
constexpr int kColumns = 8;

// values (height, width) as an inlined PNG: lo -> black, hi -> white (grey 128 everywhere when equal).
std::string png_uri(const std::vector<float>& values, int64_t height, int64_t width, double lo, double hi) {
  std::vector<uint8_t> px(values.size(), 128);
  if (hi > lo)
    for (size_t i = 0; i < values.size(); ++i)
      px[i] = static_cast<uint8_t>(std::clamp(std::lround(255.0 * (values[i] - lo) / (hi - lo)), 0L, 255L));
  return "data:image/png;base64," + base64_encode(encode_png_gray(width, height, px.data()));
}

void image(std::ostringstream& os, double x, double y, double w, double h, const std::string& uri) {
  using plot::svg::num;
  os << "<image x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(w) << "\" height=\"" << num(h)
     << "\" preserveAspectRatio=\"none\" style=\"image-rendering:pixelated\" href=\"" << uri << "\"/>\n";
}

// One grid of cells (class `cls`), one per filter, `columns` to a row, starting at y; returns the y
// below it.
double grid(std::ostringstream& os, const std::string& cls, const std::vector<std::string>& uris, double cell_w,
            double cell_h, double y) {
  for (size_t k = 0; k < uris.size(); ++k) {
    const double x = kPad + static_cast<double>(k % kColumns) * (cell_w + kGap);
    const double top = y + static_cast<double>(k / kColumns) * (cell_h + kLabel + kGap);
    os << "<g class=\"" << cls << "\" data-filter=\"" << k << "\">\n";
    os << "<rect x=\"" << plot::svg::num(x - 0.5) << "\" y=\"" << plot::svg::num(top - 0.5) << "\" width=\""
       << plot::svg::num(cell_w + 1) << "\" height=\"" << plot::svg::num(cell_h + 1)
       << "\" fill=\"none\" stroke=\"#999\"/>\n";
    image(os, x, top, cell_w, cell_h, uris[k]);
    plot::svg::draw_text(os, x + cell_w / 2, top + cell_h + 12, std::to_string(k + 1), plot::svg::kTickFont);
    os << "</g>\n";
  }
  const auto rows = static_cast<double>((uris.size() + kColumns - 1) / kColumns);
  return y + rows * (cell_h + kLabel + kGap);
}

}  // namespace

int64_t plot_filters(Model& model, const Tensor& image_in, const std::string& path, const std::string& title) {
  check(model.built(), "plot filters: the model is not built");
  size_t at = model.num_layers();
  for (size_t i = 0; i < model.num_layers(); ++i)
    if (model.layer(i).type() == "conv2d") {
      at = i;
      break;
    }
  check(at < model.num_layers(), "plot filters: the model has no conv2d layer (its layers: " + [&] {
    std::string s;
    for (size_t i = 0; i < model.num_layers(); ++i) s += (i ? ", " : "") + model.layer(i).name;
    return s;
  }() + ")");
  Layer& conv = model.layer(at);
  const Shape& in = model.input_shape();
  check(in.size() == 3, "plot filters: the model's input is not an image (height, width, channels): " + shape_str(in));
  check(image_in.size() == shape_size(in),
        "plot filters: the image has " + std::to_string(image_in.size()) + " values, the model takes " + shape_str(in));

  // The kernel (kh, kw, in, filters): each filter's weights averaged over its input channels, all on
  // one scale (mid-grey 0, white the largest positive weight, black its negative).
  Shape kshape;
  std::span<const float> kernel;
  for (const auto& t : model.named_tensors())
    if (t.name == conv.name + ".kernel") kshape = t.shape, kernel = t.value;
  check(kshape.size() == 4, "plot filters: layer '" + conv.name + "' has no 4-dimensional kernel");
  const int64_t kh = kshape[0], kw = kshape[1], kin = kshape[2], filters = kshape[3];
  std::vector<std::vector<float>> kernels(static_cast<size_t>(filters), std::vector<float>(static_cast<size_t>(kh * kw)));
  double reach = 0;
  for (int64_t f = 0; f < filters; ++f)
    for (int64_t p = 0; p < kh * kw; ++p) {
      double s = 0;
      for (int64_t c = 0; c < kin; ++c) s += kernel[static_cast<size_t>((p * kin + c) * filters + f)];
      kernels[static_cast<size_t>(f)][static_cast<size_t>(p)] = static_cast<float>(s / static_cast<double>(kin));
      reach = std::max(reach, std::fabs(s / static_cast<double>(kin)));
    }
  std::vector<std::string> kernel_uris;
  for (const auto& k : kernels) kernel_uris.push_back(png_uri(k, kh, kw, -reach, reach));

  // The feature maps: the image through the layers up to the convolution, at inference.
  Shape batch{1};
  batch.insert(batch.end(), in.begin(), in.end());
  Tensor x(batch, std::vector<float>(image_in.span().begin(), image_in.span().end())), y;
  Rng rng(0);
  for (size_t i = 0; i <= at; ++i) {
    model.layer(i).forward(x, y, Mode::Infer, rng);
    std::swap(x, y);
  }
  const Shape& out = model.layer_output_shape(at);  // (oh, ow, filters)
  const int64_t oh = out[0], ow = out[1];
  std::vector<std::string> map_uris;
  for (int64_t f = 0; f < filters; ++f) {
    std::vector<float> m(static_cast<size_t>(oh * ow));
    for (int64_t p = 0; p < oh * ow; ++p) m[static_cast<size_t>(p)] = x[p * filters + f];
    const auto [lo, hi] = std::minmax_element(m.begin(), m.end());
    map_uris.push_back(png_uri(m, oh, ow, *lo, *hi));
  }

  // The image itself (channels averaged), scaled from its smallest to its largest value.
  std::vector<float> img(static_cast<size_t>(in[0] * in[1]));
  for (int64_t p = 0; p < in[0] * in[1]; ++p) {
    double s = 0;
    for (int64_t c = 0; c < in[2]; ++c) s += image_in[p * in[2] + c];
    img[static_cast<size_t>(p)] = static_cast<float>(s / static_cast<double>(in[2]));
  }
  const auto [ilo, ihi] = std::minmax_element(img.begin(), img.end());

  const double map_h = kMapCell * static_cast<double>(oh) / static_cast<double>(std::max(oh, ow));
  const double map_w = kMapCell * static_cast<double>(ow) / static_cast<double>(std::max(oh, ow));
  const double kern_h = kKernelCell * static_cast<double>(kh) / static_cast<double>(std::max(kh, kw));
  const double kern_w = kKernelCell * static_cast<double>(kw) / static_cast<double>(std::max(kh, kw));
  const int cols = static_cast<int>(std::min<int64_t>(filters, kColumns));
  const double width = std::max(2 * kPad + cols * (std::max(map_w, kern_w) + kGap), 520.0);

  std::ostringstream body;
  double yy = kPad;
  using plot::svg::draw_text;
  if (!title.empty()) {
    draw_text(body, width / 2, yy + 12, title, plot::svg::kTitleFont);
    yy += 28;
  }
  draw_text(body, kPad, yy + 10, "input image", plot::svg::kLabelFont, "start");
  yy += 18;
  body << "<g class=\"input-image\">\n";
  image(body, kPad, yy, kMapCell * static_cast<double>(in[1]) / static_cast<double>(std::max(in[0], in[1])),
        kMapCell * static_cast<double>(in[0]) / static_cast<double>(std::max(in[0], in[1])),
        png_uri(img, in[0], in[1], *ilo, *ihi));
  body << "</g>\n";
  yy += kMapCell + kGap;
  const std::string what = conv.name + " (" + conv.describe() + ")";
  draw_text(body, kPad, yy + 10,
            "kernels of " + what + ", " + std::to_string(kh) + "x" + std::to_string(kw) +
                (kin > 1 ? ", mean over " + std::to_string(kin) + " input channels" : "") +
                ": grey 0, white positive, black negative",
            plot::svg::kLabelFont, "start");
  yy += 18;
  yy = grid(body, "filter", kernel_uris, kern_w, kern_h, yy);
  draw_text(body, kPad, yy + 10,
            "feature maps of " + conv.name + " for the image, " + std::to_string(oh) + "x" + std::to_string(ow) +
                " (each black at its lowest, white at its highest)",
            plot::svg::kLabelFont, "start");
  yy += 18;
  yy = grid(body, "feature-map", map_uris, map_w, map_h, yy);
  const double height = yy + kPad;

  std::ostringstream os;
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << plot::svg::num(width) << "\" height=\""
     << plot::svg::num(height) << "\" viewBox=\"0 0 " << plot::svg::num(width) << " " << plot::svg::num(height)
     << "\" font-family=\"sans-serif\">\n";
  os << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n" << body.str() << "</svg>\n";
  write_file_atomic(path, os.str());
  return filters;
}

}  // namespace nnlab
