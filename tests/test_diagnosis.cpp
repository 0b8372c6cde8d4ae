#include <gtest/gtest.h>

#include "nnlab/report/diagnosis.hpp"

using namespace nnlab;

static History make(const std::vector<double>& loss, const std::vector<double>& val_loss,
                    const std::vector<double>& acc = {}, const std::vector<double>& val_acc = {}) {
  History h;
  for (size_t i = 0; i < loss.size(); ++i) {
    Logs l{{"loss", loss[i]}};
    if (i < val_loss.size()) l["val_loss"] = val_loss[i];
    if (i < acc.size()) l["accuracy"] = acc[i];
    if (i < val_acc.size()) l["val_accuracy"] = val_acc[i];
    h.epochs.push_back(static_cast<int>(i));
    h.logs.push_back(l);
  }
  return h;
}

TEST(Diagnosis, OverfittingBeginsAfterTheBestValidationEpoch) {
  // Validation loss bottoms at epoch 4 (1-based), then rises 30% while training loss keeps falling.
  auto d = diagnose(make({1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05}, {1.0, 0.7, 0.55, 0.5, 0.55, 0.6, 0.65}));
  EXPECT_EQ(d.verdict, Fit::Overfitting);
  EXPECT_EQ(d.best_epoch, 4);
  EXPECT_EQ(d.overfitting_from, 5);
  EXPECT_NEAR(d.rise, 0.3, 1e-9);
  EXPECT_NE(d.text().find("from epoch 5"), std::string::npos) << d.text();
  EXPECT_NE(d.text().find("dropout"), std::string::npos);
}

TEST(Diagnosis, TheCourseSignLanguageRunIsOverfittingByItsAccuracyGap) {
  auto d = diagnose(make({0.5, 0.1, 0.01}, {0.9, 0.8, 0.79}, {0.9, 0.99, 1.0}, {0.80, 0.84, 0.835}));
  EXPECT_EQ(d.verdict, Fit::Overfitting);
  EXPECT_EQ(d.overfitting_from, 0);  // by the gap, not by a rise
}

TEST(Diagnosis, UnderfittingWhenItBarelyLearns) {
  auto d = diagnose(make({0.70, 0.695, 0.693}, {0.70, 0.696, 0.694}, {0.5, 0.5, 0.75}, {0.5, 0.5, 0.75}));
  EXPECT_EQ(d.verdict, Fit::Underfitting);
  EXPECT_NE(d.text().find("bigger model"), std::string::npos);
}

TEST(Diagnosis, GoodFitStillImproving) {
  auto d = diagnose(make({1.0, 0.5, 0.3}, {1.0, 0.55, 0.35}, {0.6, 0.9, 0.95}, {0.6, 0.89, 0.94}));
  EXPECT_EQ(d.verdict, Fit::GoodFit);
  EXPECT_TRUE(d.still_improving);
  EXPECT_EQ(d.best_epoch, 3);
}

TEST(Diagnosis, NoValidationDataIsUndetermined) {
  EXPECT_EQ(diagnose(make({1.0, 0.5}, {})).verdict, Fit::Undetermined);
}
