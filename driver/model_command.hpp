#pragma once
// `aigcbench model`: the distributed model beyond this machine. From a decoder decode row's
// measured single-rank step time and a network's alpha and beta (given, or the ping-pong fit
// of a collectives run), the predicted strong scaling of a tensor-parallel decode step over P
// ranks (shared/design/timing-models.md section 5): tokens/s, speedup and efficiency against
// P, and the crossover P where communication outgrows the compute share.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace aigc {

struct ModelOptions {
  std::string results;  // a results CSV with the decoder decode row
  std::string shape;    // the row's shape (decode: gen=N); empty: the only decode shape in it
  std::string backend = "openmp";
  std::optional<int> threads;  // empty: the row with the most threads
  std::vector<int> ranks{1, 2, 4, 8, 16, 32, 64};
  std::optional<double> alpha_s, beta_s_per_byte;  // the network, or:
  std::string network;  // a results CSV with collectives rows (the ping-pong fit)
  std::string out;      // optional: the curve as CSV (for scripts/plot.py --scaling)
};

int model_command(const ModelOptions& o, std::ostream& out);

}  // namespace aigc
