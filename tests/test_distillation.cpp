// Knowledge distillation ([distill], training/distillation.hpp): the soft loss and its gradient, the
// teachers' combined predictions, a student that learns from a teacher alone, and the experiment
// table's checks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "nnlab/experiment.hpp"
#include "nnlab/io/files.hpp"
#include "nnlab/layers/dense.hpp"
#include "nnlab/losses/loss.hpp"
#include "nnlab/optimizers/optimizer.hpp"
#include "nnlab/training/distillation.hpp"
#include "nnlab/training/trainer.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace nnlab;
using nnlab::testing::contains;
using nnlab::testing::error_of;

namespace {

Tensor random_rows(int64_t rows, int64_t cols, uint32_t seed, float scale = 2.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> n(0.0f, scale);
  Tensor t({rows, cols});
  for (float& v : t.span()) v = n(rng);
  return t;
}

// log-softmax of each row
Tensor log_softmax(const Tensor& z) {
  Tensor out(z.shape());
  for (int64_t r = 0; r < z.rows(); ++r) {
    double m = -INFINITY, e = 0;
    for (int64_t c = 0; c < z.cols(); ++c) m = std::max(m, double(z.at(r, c)));
    for (int64_t c = 0; c < z.cols(); ++c) e += std::exp(z.at(r, c) - m);
    for (int64_t c = 0; c < z.cols(); ++c) out.at(r, c) = float(z.at(r, c) - m - std::log(e));
  }
  return out;
}

std::shared_ptr<Model> small_classifier(int64_t inputs, int64_t classes, uint64_t seed) {
  auto m = std::make_shared<Model>();
  m->rng() = Rng(seed);
  m->add<Dense>(16, "relu");
  m->add<Dense>(classes, "softmax");
  m->build({inputs});
  return m;
}

// Points in [-3, 3)^2 and the class of the largest of (x0, x1, -x0 - x1): three wedges.
InMemoryDataset wedges(int64_t n, uint32_t seed, bool labels_all_zero = false) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-3, 3);
  Tensor x({n, 2}), y({n, 1});
  for (int64_t i = 0; i < n; ++i) {
    const float a = u(rng), b = u(rng), s[3] = {a, b, -a - b};
    x.at(i, 0) = a;
    x.at(i, 1) = b;
    y[i] = labels_all_zero ? 0.0f : float(std::max_element(s, s + 3) - s);
  }
  return InMemoryDataset(std::move(x), std::move(y), 3);
}

double accuracy(Model& m, const InMemoryDataset& d) {
  Trainer t(m, make_loss("categorical_crossentropy"), make_optimizer("adam", {}));
  return t.evaluate(d).at("accuracy");
}

}  // namespace

TEST(Distillation, SoftLossGradientMatchesCentralDifferences) {
  const DistillOptions o{2.5, 0.3};
  Distiller d({small_classifier(2, 5, 1)}, o);
  const Tensor u = log_softmax(random_rows(4, 5, 11)), z = random_rows(4, 5, 12);
  Tensor g({4, 5});
  d.soft_loss(u, z, &g);  // adds (1 - w) d(soft)/dz
  const double h = 1e-2;
  for (int64_t i = 0; i < z.size(); ++i) {
    Tensor zp = z, zm = z;
    zp[i] += float(h);
    zm[i] -= float(h);
    const double numeric = (1 - o.student_loss_weight) * (d.soft_loss(u, zp, nullptr) - d.soft_loss(u, zm, nullptr)) / (2 * h);
    EXPECT_NEAR(g[i], numeric, 2e-4) << i;
  }
}

TEST(Distillation, SoftLossIsZeroOnlyWhereTheStudentAgreesWithTheTeacher) {
  Distiller d({small_classifier(2, 4, 1)}, DistillOptions{4.0, 0.5});
  const Tensor teacher_logits = random_rows(3, 4, 21);
  const Tensor u = log_softmax(teacher_logits);
  // The student's logits are the teacher's plus a constant per row: the same softened distribution,
  // so no loss and no gradient.
  Tensor z = teacher_logits;
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t c = 0; c < 4; ++c) z.at(r, c) += 1.5f * float(r);
  Tensor g({3, 4});
  EXPECT_NEAR(d.soft_loss(u, z, &g), 0.0, 1e-6);
  for (int64_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], 0.0f, 1e-6f);
  // Any other student pays.
  EXPECT_GT(d.soft_loss(u, random_rows(3, 4, 22), nullptr), 0.01);
}

TEST(Distillation, SeveralTeachersGiveTheLogOfTheirMeanProbability) {
  auto a = small_classifier(3, 4, 1), b = small_classifier(3, 4, 2);
  const Tensor x = random_rows(5, 3, 31);
  const Tensor pa = a->forward(x, Mode::Infer), pb = b->forward(x, Mode::Infer);
  Distiller d({a, b}, DistillOptions{});
  const Tensor& u = d.teacher_log_probs(x);
  ASSERT_EQ(u.shape(), (Shape{5, 4}));
  for (int64_t i = 0; i < u.size(); ++i) EXPECT_NEAR(u[i], std::log(0.5 * (pa[i] + pb[i])), 1e-5) << i;
  Distiller one({a}, DistillOptions{});
  const Tensor& ua = one.teacher_log_probs(x);
  for (int64_t i = 0; i < ua.size(); ++i) EXPECT_NEAR(ua[i], std::log(pa[i]), 1e-5) << i;
}

TEST(Distillation, WeightOneLeavesTheLabelsLossAsItIs) {
  Distiller d({small_classifier(2, 3, 1)}, DistillOptions{3.0, 1.0});
  const Tensor x = random_rows(4, 2, 41), z = random_rows(4, 3, 42);
  Tensor g = random_rows(4, 3, 43);
  const Tensor before = g;
  EXPECT_DOUBLE_EQ(d.combine(x, z, 0.75, g), 0.75);
  for (int64_t i = 0; i < g.size(); ++i) EXPECT_FLOAT_EQ(g[i], before[i]);
}

// A student shown only wrong labels (every one class 0) but taught with weight 0 on them learns the
// teacher's three wedges; the same student without the teacher learns "always class 0".
TEST(Distillation, AStudentLearnsFromItsTeacherAlone) {
  const InMemoryDataset truth = wedges(600, 1), test = wedges(300, 2), zeros = wedges(600, 1, true);
  FitOptions fit;
  fit.epochs = 40;
  fit.batch_size = 32;
  fit.verbose = 0;
  auto teacher = small_classifier(2, 3, 3);
  Trainer tt(*teacher, make_loss("categorical_crossentropy"), make_optimizer("adam", {{"learning_rate", 0.01}}));
  tt.fit(truth, fit);
  const double teacher_acc = accuracy(*teacher, test);
  ASSERT_GT(teacher_acc, 0.93);

  auto taught = small_classifier(2, 3, 4);
  Trainer ts(*taught, make_loss("categorical_crossentropy"), make_optimizer("adam", {{"learning_rate", 0.01}}));
  ts.set_distiller(std::make_unique<Distiller>(std::vector<std::shared_ptr<Model>>{teacher}, DistillOptions{2.0, 0.0}));
  ts.fit(zeros, fit);
  EXPECT_GT(accuracy(*taught, test), teacher_acc - 0.05);

  auto alone = small_classifier(2, 3, 4);
  Trainer ta(*alone, make_loss("categorical_crossentropy"), make_optimizer("adam", {{"learning_rate", 0.01}}));
  ta.fit(zeros, fit);
  EXPECT_LT(accuracy(*alone, test), 0.5);
}

TEST(Distillation, TheStudentMustEndInSoftmaxWithCrossEntropy) {
  auto teacher = small_classifier(2, 3, 1);
  Model m;
  m.add<Dense>(3, "linear");
  m.build({2});
  Trainer t(m, make_loss("mse"), make_optimizer("adam", {}));
  const std::string e = error_of([&] {
    t.set_distiller(std::make_unique<Distiller>(std::vector<std::shared_ptr<Model>>{teacher}, DistillOptions{}));
  });
  EXPECT_TRUE(contains(e, "softmax")) << e;
  EXPECT_TRUE(contains(e, "mse")) << e;
}

TEST(Distillation, BadTablesAreRefusedNamingTheKey) {
  auto experiment = [](nlohmann::json distill) {
    return nlohmann::json{{"data", {{"dataset", "xor"}}},
                          {"model", {{"layers", {{{"type", "dense"}, {"units", 2}, {"activation", "softmax"}}}}}},
                          {"distill", distill}};
  };
  const std::vector<std::pair<nlohmann::json, std::string>> cases{
      {nlohmann::json::object(), "'teacher' is required"},
      {{{"teacher", nlohmann::json::array()}}, "empty list"},
      {{{"teacher", 3}}, "'teacher' must be a run folder"},
      {{{"teacher", "runs/t"}, {"temperature", 0}}, "temperature must be positive, got 0"},
      {{{"teacher", "runs/t"}, {"student_loss_weight", 1.5}}, "student_loss_weight must be in [0, 1], got 1.5"},
      {{{"teacher", "runs/t"}, {"alpha", 0.1}}, "unknown key 'alpha'"},
  };
  for (const auto& c : cases) {
    const nlohmann::json& table = c.first;  // named, not a structured binding: the lambda captures it
    const std::string& message = c.second;
    const std::string e = error_of([&] { Experiment::from_json(experiment(table), "x.toml"); });
    EXPECT_TRUE(contains(e, "x.toml [distill]")) << e;
    EXPECT_TRUE(contains(e, message)) << table.dump() << ": " << e;
  }
}

// Through run_experiment on real Fashion-MNIST images: a student taught by a trained run, and the
// refusals that need the teacher's files.
class DistillRun : public nnlab::testing::TempDirTest {
 protected:
  static nlohmann::json experiment(int hidden, int epochs) {
    return {{"name", "tiny"},
            {"seed", 3},
            {"data", {{"dataset", "fashion-mnist"}, {"limit", 2000}, {"test_limit", 500}}},
            {"model",
             {{"layers",
               {{{"type", "dense"}, {"units", hidden}, {"activation", "relu"}},
                {{"type", "dense"}, {"units", 10}, {"activation", "softmax"}}}}}},
            {"train", {{"epochs", epochs}, {"batch_size", 64}}}};
  }
  RunResult run(const nlohmann::json& config, const std::string& out) {
    RunOptions o;
    o.out_dir = path(out);
    o.verbose = 0;
    return run_experiment(Experiment::from_json(config, "student.json"), o);
  }
};

TEST_F(DistillRun, AStudentTrainsFromATeachersRunFolder) {
  const RunResult teacher = run(experiment(64, 3), "teacher");
  ASSERT_GT(teacher.test_accuracy, 0.6);
  nlohmann::json student = experiment(32, 3);
  student["distill"] = {{"teacher", path("teacher")}, {"temperature", 2.0}};
  const RunResult r = run(student, "student");
  EXPECT_GT(r.test_accuracy, 0.6);
  const auto info = nlohmann::json::parse(read_file(path("student/run.json")));
  EXPECT_TRUE(contains(info["settings"].dump(), "distillation")) << info["settings"].dump();
}

TEST_F(DistillRun, MissingOrUnfitTeachersAreRefusedBeforeTheRunFolderIsMade) {
  nlohmann::json student = experiment(32, 1);
  student["distill"] = {{"teacher", path("nowhere")}};
  std::string e = error_of([&] { run(student, "s1"); });
  EXPECT_TRUE(contains(e, "student.json [distill]: teacher '" + path("nowhere") + "'")) << e;
  EXPECT_TRUE(contains(e, "train the teacher first")) << e;
  EXPECT_FALSE(fs::exists(path("s1")));

  nlohmann::json standardized = experiment(16, 1);
  standardized["data"]["standardize"] = true;
  run(standardized, "standardized");
  student["distill"] = {{"teacher", path("standardized")}};
  e = error_of([&] { run(student, "s2"); });
  EXPECT_TRUE(contains(e, "standardize true vs false")) << e;
  EXPECT_FALSE(fs::exists(path("s2")));
}
