#include "nnlab/training/distillation.hpp"

#include <algorithm>
#include <cmath>

#include "nnlab/error.hpp"

namespace nnlab {

Distiller::Distiller(std::vector<std::shared_ptr<Model>> teachers, DistillOptions options)
    : teachers_(std::move(teachers)), options_(options) {
  check(!teachers_.empty(), "distill: at least one teacher is required");
  check(options_.temperature > 0 && std::isfinite(options_.temperature),
        "distill: temperature must be a positive number, got " + std::to_string(options_.temperature));
  check(options_.student_loss_weight >= 0 && options_.student_loss_weight <= 1,
        "distill: student_loss_weight must be in [0, 1], got " + std::to_string(options_.student_loss_weight));
  for (const auto& t : teachers_) check(t != nullptr && t->built(), "distill: a teacher is not a built model");
}

const Tensor& Distiller::teacher_log_probs(const Tensor& x) {
  const int64_t batch = x.rows();
  for (size_t k = 0; k < teachers_.size(); ++k) {
    Model& t = *teachers_[k];
    t.infer(x);
    const Tensor* z = t.output_logits();
    check(z != nullptr, "distill: a teacher keeps no logits for its softmax");
    const int64_t classes = z->cols();
    if (k == 0) log_probs_.resize({batch, classes});
    check(classes == log_probs_.cols(), "distill: the teachers disagree on the number of classes");
    for (int64_t r = 0; r < batch; ++r) {
      const float* zr = z->data() + r * classes;
      float* out = log_probs_.data() + r * classes;
      const double m = *std::max_element(zr, zr + classes);
      double e = 0.0;
      for (int64_t c = 0; c < classes; ++c) e += std::exp(zr[c] - m);
      const double lse = m + std::log(e);
      // One teacher: its log-softmax. Several: first the sum of their probabilities, logged below.
      for (int64_t c = 0; c < classes; ++c) {
        const double lp = zr[c] - lse;
        if (teachers_.size() == 1) out[c] = static_cast<float>(lp);
        else out[c] = static_cast<float>((k == 0 ? 0.0 : out[c]) + std::exp(lp));
      }
    }
  }
  if (teachers_.size() > 1) {
    const double n = static_cast<double>(teachers_.size());
    for (int64_t i = 0; i < log_probs_.size(); ++i)
      log_probs_[i] = static_cast<float>(std::log(std::max(static_cast<double>(log_probs_[i]) / n, 1e-30)));
  }
  return log_probs_;
}

double Distiller::soft_loss(const Tensor& teacher_log_probs, const Tensor& student_logits, Tensor* grad) {
  const int64_t batch = student_logits.rows(), classes = student_logits.cols();
  check(teacher_log_probs.rows() == batch && teacher_log_probs.cols() == classes,
        "distill: the teachers give " + shape_str(teacher_log_probs.shape()) + " for student logits of shape " +
            shape_str(student_logits.shape()));
  const double t = options_.temperature, scale = 1.0 / static_cast<double>(batch);
  const double g_weight = (1.0 - options_.student_loss_weight) * t * scale;  // d/dz of the weighted mean
  std::vector<double>& q = q_;
  std::vector<double>& s = s_;
  q.resize(static_cast<size_t>(classes));
  s.resize(static_cast<size_t>(classes));
  // softmax(v / T) of a row, as probabilities and their logs
  auto soften = [&](const float* v, std::vector<double>& p) {
    double m = -INFINITY;
    for (int64_t c = 0; c < classes; ++c) m = std::max(m, static_cast<double>(v[c]) / t);
    double e = 0.0;
    for (int64_t c = 0; c < classes; ++c) e += std::exp(static_cast<double>(v[c]) / t - m);
    const double lse = m + std::log(e);
    for (int64_t c = 0; c < classes; ++c) p[static_cast<size_t>(c)] = static_cast<double>(v[c]) / t - lse;
  };
  double sum = 0.0;
  for (int64_t r = 0; r < batch; ++r) {
    soften(teacher_log_probs.data() + r * classes, q);
    soften(student_logits.data() + r * classes, s);
    double kl = 0.0;
    for (size_t c = 0; c < q.size(); ++c) {
      const double pq = std::exp(q[c]);
      if (pq > 0) kl += pq * (q[c] - s[c]);
    }
    sum += kl;
    if (!grad) continue;
    float* g = grad->data() + r * classes;
    for (size_t c = 0; c < q.size(); ++c) g[c] += static_cast<float>(g_weight * (std::exp(s[c]) - std::exp(q[c])));
  }
  return t * t * sum * scale;
}

double Distiller::combine(const Tensor& x, const Tensor& student_logits, double hard_loss, Tensor& grad) {
  const Tensor& u = teacher_log_probs(x);
  const double w = options_.student_loss_weight;
  for (int64_t i = 0; i < grad.size(); ++i) grad[i] = static_cast<float>(w * grad[i]);
  return w * hard_loss + (1.0 - w) * soft_loss(u, student_logits, &grad);
}

}  // namespace nnlab
