#include "decoder/gpt2_reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace aigc {
namespace {

using Matrix = std::vector<double>;  // row-major

// out[T, N] = in[T, K] . W[K, N] + bias, in blocks of rows and columns so that W streams
// from memory once per row block, not once per row; columns are shared among threads.
Matrix linear(const Matrix& in, std::int64_t T, std::int64_t K, const std::vector<float>& w,
              const std::vector<float>& bias, std::int64_t N) {
  constexpr std::int64_t kRows = 16, kCols = 64;
  Matrix out(T * N);
  const std::int64_t col_blocks = (N + kCols - 1) / kCols;
#pragma omp parallel for schedule(dynamic)
  for (std::int64_t cb = 0; cb < col_blocks; ++cb) {
    const std::int64_t j0 = cb * kCols, nc = std::min(kCols, N - j0);
    double acc[kRows][kCols];
    for (std::int64_t t0 = 0; t0 < T; t0 += kRows) {
      const std::int64_t nt = std::min(kRows, T - t0);
      for (std::int64_t t = 0; t < nt; ++t) {
        for (std::int64_t j = 0; j < nc; ++j) acc[t][j] = bias[j0 + j];
      }
      for (std::int64_t k = 0; k < K; ++k) {
        const float* wk = w.data() + k * N + j0;
        for (std::int64_t t = 0; t < nt; ++t) {
          const double a = in[(t0 + t) * K + k];
          for (std::int64_t j = 0; j < nc; ++j) acc[t][j] += a * wk[j];
        }
      }
      for (std::int64_t t = 0; t < nt; ++t) {
        for (std::int64_t j = 0; j < nc; ++j) out[(t0 + t) * N + j0 + j] = acc[t][j];
      }
    }
  }
  return out;
}

Matrix layernorm(const Matrix& x, std::int64_t T, std::int64_t C, const std::vector<float>& g,
                 const std::vector<float>& b) {
  Matrix y(T * C);
  for (std::int64_t t = 0; t < T; ++t) {
    const double* xr = x.data() + t * C;
    double mean = 0, var = 0;
    for (std::int64_t c = 0; c < C; ++c) mean += xr[c];
    mean /= double(C);
    for (std::int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    const double rstd = 1 / std::sqrt(var / double(C) + 1e-5);
    for (std::int64_t c = 0; c < C; ++c) y[t * C + c] = (xr[c] - mean) * rstd * g[c] + b[c];
  }
  return y;
}

// Causal attention over qkv [T, 3C] (Q, K, V each [T, H, D]) into y [T, C].
Matrix attention(const Matrix& qkv, std::int64_t T, std::int64_t H, std::int64_t D) {
  const std::int64_t C = H * D;
  Matrix y(T * C);
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t i = 0; i < T; ++i) {
      std::vector<double> p(i + 1);
      const double* q = qkv.data() + i * 3 * C + h * D;
      double m = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = 0; j <= i; ++j) {
        const double* k = qkv.data() + j * 3 * C + C + h * D;
        double s = 0;
        for (std::int64_t d = 0; d < D; ++d) s += q[d] * k[d];
        p[j] = s / std::sqrt(double(D));
        m = std::max(m, p[j]);
      }
      double sum = 0;
      for (double& pj : p) sum += (pj = std::exp(pj - m));
      for (std::int64_t d = 0; d < D; ++d) {
        double o = 0;
        for (std::int64_t j = 0; j <= i; ++j) o += p[j] * qkv[j * 3 * C + 2 * C + h * D + d];
        y[i * C + h * D + d] = o / sum;
      }
    }
  }
  return y;
}

}  // namespace

std::vector<double> gpt2_reference_logits(const Gpt2Weights& w, std::span<const std::int32_t> ids) {
  const Gpt2Config& cfg = w.config;
  const std::int64_t T = static_cast<std::int64_t>(ids.size()), C = cfg.n_embd;
  Matrix x(T * C);
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t c = 0; c < C; ++c) {
      x[t * C + c] = double(w.wte[ids[t] * C + c]) + w.wpe[t * C + c];
    }
  }
  for (const Gpt2LayerWeights& l : w.layers) {
    const Matrix qkv = linear(layernorm(x, T, C, l.ln_1_weight, l.ln_1_bias), T, C,
                              l.attn_c_attn_weight, l.attn_c_attn_bias, 3 * C);
    const Matrix proj = linear(attention(qkv, T, cfg.n_head, cfg.head_dim()), T, C,
                               l.attn_c_proj_weight, l.attn_c_proj_bias, C);
    for (std::int64_t i = 0; i < T * C; ++i) x[i] += proj[i];
    Matrix fc = linear(layernorm(x, T, C, l.ln_2_weight, l.ln_2_bias), T, C, l.mlp_c_fc_weight,
                       l.mlp_c_fc_bias, 4 * C);
    for (double& a : fc) {
      a = 0.5 * a * (1 + std::tanh(std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a)));
    }
    const Matrix down = linear(fc, T, 4 * C, l.mlp_c_proj_weight, l.mlp_c_proj_bias, C);
    for (std::int64_t i = 0; i < T * C; ++i) x[i] += down[i];
  }
  const Matrix last(x.end() - C, x.end());
  const Matrix h = layernorm(last, 1, C, w.ln_f_weight, w.ln_f_bias);
  std::vector<double> logits(cfg.vocab);
#pragma omp parallel for
  for (std::int64_t v = 0; v < cfg.vocab; ++v) {
    double s = 0;
    for (std::int64_t c = 0; c < C; ++c) s += h[c] * w.wte[v * C + c];
    logits[v] = s;
  }
  return logits;
}

double logits_relative_error(std::span<const float> got, std::span<const double> ref) {
  double scale = 0, err = 0;
  for (const double r : ref) scale = std::max(scale, std::abs(r));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    if (!std::isfinite(got[i])) return std::numeric_limits<double>::infinity();
    err = std::max(err, std::abs(got[i] - ref[i]));
  }
  return err / std::max(scale, std::numeric_limits<double>::min());
}

}  // namespace aigc
