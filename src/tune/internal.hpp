// Shared by the tuner's files (src/tune/): the text of a trial's values and the outputs of a search.
#pragma once
#include <string>
#include <vector>

#include "nnlab/tune.hpp"

namespace nnlab::detail {

// A value as the table shows it: numbers to 4 digits, strings bare.
std::string value_text(const nlohmann::json& v);
// "optimizer.learning_rate=0.00123, train.batch_size=64": a trial's values, numbers to 4 digits.
std::string values_text(const nlohmann::json& values);
// A score as the tables print it ("91.25%", "0.3412"); "failed" for NaN.
std::string metric_text(const std::string& metric, double score);
// The trials, best first: the furthest rung with a score, then the score there, then the trial.
std::vector<size_t> tune_ranking(const TuneSpec& spec, const TuneResult& result);
// Picks the winner, writes table.md, table.csv, scores.svg, best.json, best.toml and report.html.
// Throws when no trial has a score (all failed).
void finish_tune(const TuneSpec& spec, TuneResult& result);

}  // namespace nnlab::detail
