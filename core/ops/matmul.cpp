#include "core/ops/matmul.hpp"

#include <stdexcept>

#include <fmt/format.h>

namespace aigc {

void require_buffers(const MatmulShape& s, const Buffer& a, const Buffer& b, const Buffer* bias,
                     const Buffer& c) {
  require_floats(a, s.M * s.K, "matmul A");
  if (s.b_format == WeightFormat::f32) {
    require_floats(b, s.K * s.N, "matmul B");
  } else if (static_cast<std::size_t>(s.b_bytes()) > b.bytes()) {
    throw std::length_error(
        fmt::format("matmul B: {} bytes of {} weights do not fit a buffer of "
                    "{} bytes",
                    s.b_bytes(), weight_format_name(s.b_format), b.bytes()));
  }
  require_floats(c, s.M * s.N, "matmul C");
  if (s.bias) {
    if (bias == nullptr) throw std::invalid_argument("matmul: the shape has a bias; none given");
    require_floats(*bias, s.N, "matmul bias");
  }
}

void require_valid_shape(const MatmulShape& s) {
  if (s.b_format == WeightFormat::f32) return;
  if (!s.transpose_b) {
    throw std::invalid_argument(fmt::format(
        "matmul: {} weights are stored [N, K] (transpose_b); [K, N] is not a layout of the format",
        weight_format_name(s.b_format)));
  }
  if (!row_fits(s.b_format, s.K)) {
    throw std::invalid_argument(
        fmt::format("matmul: K = {} is not a whole number of {}-weight "
                    "blocks of {}",
                    s.K, block_elements(s.b_format), weight_format_name(s.b_format)));
  }
}

OpWork work_of(const MatmulShape& s) {
  const double m = double(s.M), n = double(s.N), k = double(s.K);
  return {.flops = 2.0 * m * n * k + (s.bias ? m * n : 0.0),
          .bytes = 4.0 * (m * k + m * n + (s.bias ? n : 0.0)) + double(s.b_bytes())};
}

}  // namespace aigc
