// Training outcomes that could fail: the course's XOR practical and its logistic-unit contrast.
#include <gtest/gtest.h>

#include "nnlab/nnlab.hpp"

using namespace nnlab;

TEST(Xor, LogisticUnitSolvesAndAndOrButNotXor) {
  for (const char* t : {"and", "or"}) {
    auto r = train_truth_table(t, "logistic", 1, 1000);
    EXPECT_TRUE(r.all_correct) << t;
  }
  auto x = train_truth_table("xor", "logistic", 1, 1000);
  EXPECT_FALSE(x.all_correct);
  for (float o : x.outputs) EXPECT_NEAR(o, 0.5f, 0.15f);  // stuck near 0.5
  EXPECT_EQ(x.params, 3);
}

TEST(Xor, CourseMlpSolvesXorForAtLeastNineOfTenSeeds) {
  int solved = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    auto r = train_truth_table("xor", "mlp", seed, 1000);
    EXPECT_EQ(r.params, 33);
    solved += r.all_correct;
  }
  EXPECT_GE(solved, 9);
}

TEST(Training, SameSeedSameResult) {
  auto a = train_truth_table("xor", "mlp", 3, 200), b = train_truth_table("xor", "mlp", 3, 200);
  EXPECT_EQ(a.outputs, b.outputs);
}

TEST(Training, HistoryHoldsEveryEpochAndValidation) {
  InMemoryDataset d = truth_table("xor");
  Model m = truth_table_model("mlp", 1);
  Trainer t(m, make_loss("binary_crossentropy"), make_optimizer("sgd", {{"learning_rate", 0.1}}));
  FitOptions fit;
  fit.epochs = 7;
  fit.batch_size = 2;
  fit.verbose = 0;
  History h = t.fit(d, fit, &d);
  ASSERT_EQ(h.logs.size(), 7u);
  EXPECT_EQ(h.epochs.back(), 6);
  for (const char* k : {"loss", "accuracy", "val_loss", "val_accuracy", "lr"}) EXPECT_TRUE(h.logs[0].count(k)) << k;
  EXPECT_EQ(m.layer(0).type(), "dense");
  EXPECT_EQ(t.optimizer().iterations, 14);  // 4 samples / batch 2 = 2 iterations x 7 epochs
  const std::string csv = h.to_csv();
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "epoch,loss,accuracy,val_loss,val_accuracy,lr");
  History back = History::from_csv(csv, "h.csv");
  EXPECT_EQ(back.logs.size(), 7u);
  EXPECT_NEAR(back.logs[3]["loss"], h.logs[3]["loss"], 1e-6);
}

TEST(Training, IterationArithmeticIsStated) {
  EXPECT_EQ(iteration_arithmetic(60000, 128, 20),
            "60000 samples / batch 128 = 469 iterations per epoch; 20 epochs = 9380 iterations");
  EXPECT_EQ(iteration_arithmetic(10000000, 1000, 100),
            "10000000 samples / batch 1000 = 10000 iterations per epoch; 100 epochs = 1000000 iterations");
}

TEST(Training, DivergingLossStopsWithAClearError) {
  Tensor x({4, 1}, std::vector<float>{1, 2, 3, 4});
  Tensor y({4, 1}, std::vector<float>{1e30f, -1e30f, 1e30f, -1e30f});
  InMemoryDataset d(x, y);
  Model m;
  m.add<Dense>(1);
  m.build({1});
  Trainer t(m, make_loss("mse"), make_optimizer("sgd", {{"learning_rate", 10.0}}));
  FitOptions fit;
  fit.epochs = 50;
  fit.verbose = 0;
  try {
    t.fit(d, fit);
    FAIL() << "expected divergence";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
  }
}

TEST(Training, MismatchedDataIsRefused) {
  InMemoryDataset d = truth_table("xor");
  Model m;
  m.add<Dense>(3, "softmax");
  m.build({5});
  Trainer t(m, make_loss("categorical_crossentropy"), make_optimizer("adam", {}));
  FitOptions fit;
  fit.verbose = 0;
  EXPECT_THROW(t.fit(d, fit), Error);
  fit.batch_size = 0;
  EXPECT_THROW(t.fit(d, fit), Error);
}
