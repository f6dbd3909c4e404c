#pragma once
// What a weight format costs in accuracy, measured on a real model: perplexity on a fixed text
// (teacher-forced: each token's probability given the text before it) and greedy agreement
// with the fp32 model (the generated tokens that are the same).
#include <cstdint>
#include <span>
#include <vector>

#include "decoder/model.hpp"

namespace aigc {

// exp(mean over positions 1..n-1 of -log p(ids[i] | ids[0..i-1])): the model's perplexity on
// `ids` (at least 2 tokens, no more than the model's cache), one decode step per token from a
// rewound cache. A non-finite logit throws std::runtime_error.
double perplexity(DecoderModel& model, std::span<const std::int32_t> ids);

// `count` greedy tokens after `prompt`, from a rewound cache.
std::vector<std::int32_t> greedy_tokens(DecoderModel& model, std::span<const std::int32_t> prompt,
                                        std::int64_t count);

// The fraction of positions where two generations agree (equal lengths).
double agreement(std::span<const std::int32_t> a, std::span<const std::int32_t> b);

// The evaluation text the accuracy figures are measured on: the Declaration of Independence
// (public domain), data/text/declaration-of-independence.txt (AIGCBENCH_DATA_DIR overrides the
// directory). Throws InvalidArgument naming `model` when it is missing.
std::string evaluation_text();

}  // namespace aigc
