#include <gtest/gtest.h>

#include "nnlab/report/diagnosis.hpp"
#include "test_util.hpp"

using namespace nnlab;

using nnlab::testing::crafted_history;

TEST(Diagnosis, OverfittingBeginsAfterTheBestValidationEpoch) {
  // Validation loss bottoms at epoch 4 (1-based), then rises 30% while training loss keeps falling.
  auto d = diagnose(crafted_history({1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05}, {1.0, 0.7, 0.55, 0.5, 0.55, 0.6, 0.65}));
  EXPECT_EQ(d.verdict, Fit::Overfitting);
  EXPECT_EQ(d.best_epoch, 4);
  EXPECT_EQ(d.overfitting_from, 5);
  EXPECT_NEAR(d.rise, 0.3, 1e-9);
  EXPECT_NE(d.text().find("from epoch 5"), std::string::npos) << d.text();
  EXPECT_NE(d.text().find("dropout"), std::string::npos);
}

TEST(Diagnosis, TheCourseSignLanguageRunIsOverfittingByItsAccuracyGap) {
  auto d = diagnose(crafted_history({0.5, 0.1, 0.01}, {0.9, 0.8, 0.79}, {0.9, 0.99, 1.0}, {0.80, 0.84, 0.835}));
  EXPECT_EQ(d.verdict, Fit::Overfitting);
  EXPECT_EQ(d.overfitting_from, 0);  // by the gap, not by a rise
}

TEST(Diagnosis, UnderfittingWhenItBarelyLearns) {
  auto d = diagnose(crafted_history({0.70, 0.695, 0.693}, {0.70, 0.696, 0.694}, {0.5, 0.5, 0.75}, {0.5, 0.5, 0.75}));
  EXPECT_EQ(d.verdict, Fit::Underfitting);
  EXPECT_NE(d.text().find("bigger model"), std::string::npos);
}

TEST(Diagnosis, GoodFitStillImproving) {
  auto d = diagnose(crafted_history({1.0, 0.5, 0.3}, {1.0, 0.55, 0.35}, {0.6, 0.9, 0.95}, {0.6, 0.89, 0.94}));
  EXPECT_EQ(d.verdict, Fit::GoodFit);
  EXPECT_TRUE(d.still_improving);
  EXPECT_EQ(d.best_epoch, 3);
}

TEST(Diagnosis, NoValidationDataIsUndetermined) {
  EXPECT_EQ(diagnose(crafted_history({1.0, 0.5}, {})).verdict, Fit::Undetermined);
}
