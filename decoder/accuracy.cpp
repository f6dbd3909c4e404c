#include "decoder/accuracy.hpp"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {

double perplexity(DecoderModel& model, std::span<const std::int32_t> ids) {
  if (ids.size() < 2 || std::int64_t(ids.size()) > model.max_tokens()) {
    throw InvalidArgument("text", fmt::format("{} tokens (valid: 2..{}, the model's cache)",
                                              ids.size(), model.max_tokens()));
  }
  model.rewind(0);
  double nll = 0;  // in float64: 500 terms of a few units each
  for (std::size_t i = 0; i + 1 < ids.size(); ++i) {
    const std::span<const float> logits = model.forward(ids.subspan(i, 1));
    // log softmax at the next token, shifted by the maximum for range.
    double max = -INFINITY;
    for (const float l : logits) {
      if (!std::isfinite(l))
        throw std::runtime_error(fmt::format("non-finite logit at position {}", i));
      max = std::max(max, double(l));
    }
    double sum = 0;
    for (const float l : logits) sum += std::exp(double(l) - max);
    nll -= double(logits[std::size_t(ids[i + 1])]) - max - std::log(sum);
  }
  return std::exp(nll / double(ids.size() - 1));
}

std::vector<std::int32_t> greedy_tokens(DecoderModel& model, std::span<const std::int32_t> prompt,
                                        std::int64_t count) {
  model.rewind(0);
  std::vector<std::int32_t> out;
  std::span<const float> logits = model.forward(prompt);
  for (std::int64_t g = 0; g < count; ++g) {
    out.push_back(argmax(logits, g));
    if (g + 1 < count) logits = model.forward(std::span(&out.back(), 1));
  }
  return out;
}

double agreement(std::span<const std::int32_t> a, std::span<const std::int32_t> b) {
  if (a.size() != b.size() || a.empty())
    throw std::invalid_argument("agreement: two generations of the same non-zero length");
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.size(); ++i) same += a[i] == b[i] ? 1 : 0;
  return double(same) / double(a.size());
}

std::string evaluation_text() {
  const char* env = std::getenv("AIGCBENCH_DATA_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : AIGC_DATA_DIR;
  const std::string path = dir + "/text/declaration-of-independence.txt";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw InvalidArgument("model", fmt::format("the evaluation text '{}' is missing (set "
                                               "AIGCBENCH_DATA_DIR to the checkout's data/)",
                                               path));
  }
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace aigc
