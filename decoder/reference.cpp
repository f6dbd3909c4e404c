#include "decoder/reference.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "core/float16.hpp"
#include "core/kv_format.hpp"

namespace aigc {
namespace {

using Matrix = std::vector<double>;  // row-major

// Rows of K values rounded per block of 32 to d p, d = amax / 127, p = round(x / d).
Matrix rounded_to_int8_blocks(const Matrix& in) {
  Matrix out(in.size());
  for (std::size_t b = 0; b < in.size(); b += 32) {
    double amax = 0;
    for (std::size_t k = b; k < b + 32; ++k) amax = std::max(amax, std::abs(in[k]));
    const double d = amax / 127;
    for (std::size_t k = b; k < b + 32; ++k) out[k] = d == 0 ? 0.0 : d * std::nearbyint(in[k] / d);
  }
  return out;
}

// The activations as the backend rounds them before a product (reference.hpp).
Matrix rounded(const Matrix& in, ActivationRounding activations) {
  switch (activations) {
    case ActivationRounding::none:
      return in;
    case ActivationRounding::bf16: {
      Matrix out(in.size());
      for (std::size_t i = 0; i < in.size(); ++i)
        out[i] = bf16_to_float(float_to_bf16(static_cast<float>(in[i])));
      return out;
    }
    case ActivationRounding::int8_blocks:
      return rounded_to_int8_blocks(in);
  }
  return in;
}

// out[T, N] = in[T, K] . W + bias, W stored [K, N] or, transposed, [N, K]; bias may be empty.
// In blocks of rows and columns so that W streams from memory once per row block, not once per
// row; columns are shared among threads.
Matrix linear_exact(const Matrix& in, std::int64_t T, std::int64_t K, const std::vector<float>& w,
                    const std::vector<float>& bias, std::int64_t N, bool transposed) {
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
        for (std::int64_t j = 0; j < nc; ++j) acc[t][j] = bias.empty() ? 0.0 : bias[j0 + j];
      }
      if (transposed) {
        for (std::int64_t j = 0; j < nc; ++j) {
          const float* wj = w.data() + (j0 + j) * K;
          for (std::int64_t t = 0; t < nt; ++t) {
            const double* a = in.data() + (t0 + t) * K;
            double s = 0;
            for (std::int64_t k = 0; k < K; ++k) s += a[k] * wj[k];
            acc[t][j] += s;
          }
        }
      } else {
        for (std::int64_t k = 0; k < K; ++k) {
          const float* wk = w.data() + k * N + j0;
          for (std::int64_t t = 0; t < nt; ++t) {
            const double a = in[(t0 + t) * K + k];
            for (std::int64_t j = 0; j < nc; ++j) acc[t][j] += a * wk[j];
          }
        }
      }
      for (std::int64_t t = 0; t < nt; ++t) {
        for (std::int64_t j = 0; j < nc; ++j) out[(t0 + t) * N + j0 + j] = acc[t][j];
      }
    }
  }
  return out;
}

// Layernorm (a bias given) or RMSNorm (none) of each row.
Matrix normalize(const Matrix& x, std::int64_t T, std::int64_t C, const std::vector<float>& g,
                 const std::vector<float>& b, double eps) {
  Matrix y(T * C);
  for (std::int64_t t = 0; t < T; ++t) {
    const double* xr = x.data() + t * C;
    double mean = 0, var = 0;
    if (!b.empty()) {
      for (std::int64_t c = 0; c < C; ++c) mean += xr[c];
      mean /= double(C);
    }
    for (std::int64_t c = 0; c < C; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    const double rstd = 1 / std::sqrt(var / double(C) + eps);
    for (std::int64_t c = 0; c < C; ++c)
      y[t * C + c] = (xr[c] - mean) * rstd * g[c] + (b.empty() ? 0.0 : b[c]);
  }
  return y;
}

// Turns the pairs (2i, 2i + 1) of the first `heads` heads of each row of x [T, row] (row t at
// position P + t) by (P + t) base^(-2i / D), in double.
void rotate(Matrix& x, std::int64_t P, std::int64_t T, std::int64_t row, std::int64_t heads,
            std::int64_t D, double base) {
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t h = 0; h < heads; ++h) {
      double* v = x.data() + t * row + h * D;
      for (std::int64_t i = 0; i < D / 2; ++i) {
        const double angle = double(P + t) * std::pow(base, -2.0 * double(i) / double(D));
        const double c = std::cos(angle), s = std::sin(angle), a = v[2 * i], b = v[2 * i + 1];
        v[2 * i] = a * c - b * s;
        v[2 * i + 1] = a * s + b * c;
      }
    }
  }
}

// RMSNorm of each of the first `heads` heads (D wide) of each row of x [T, row], gain g [D].
void normalize_heads(Matrix& x, std::int64_t T, std::int64_t row, std::int64_t first,
                     std::int64_t heads, std::int64_t D, const std::vector<float>& g, double eps) {
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t h = first; h < first + heads; ++h) {
      double* v = x.data() + t * row + h * D;
      double ss = 0;
      for (std::int64_t d = 0; d < D; ++d) ss += v[d] * v[d];
      const double rstd = 1 / std::sqrt(ss / double(D) + eps);
      for (std::int64_t d = 0; d < D; ++d) v[d] *= rstd * g[d];
    }
  }
}

// The keys and values attention reads, [P + T, Hkv D] each: a prefix's of layer `layer`, then
// the K and V parts of qkv [T, (H + 2 Hkv) D].
struct KeysValues {
  Matrix keys, values;
};
KeysValues keys_values(const Matrix& qkv, std::int64_t T, std::int64_t H, std::int64_t Hkv,
                       std::int64_t D, const ReferencePrefix& prefix, std::size_t layer) {
  const std::int64_t P = prefix.length, KV = Hkv * D, R = (H + 2 * Hkv) * D;
  KeysValues kv{Matrix((P + T) * KV), Matrix((P + T) * KV)};
  if (P > 0) {
    std::copy(prefix.keys[layer].begin(), prefix.keys[layer].end(), kv.keys.begin());
    std::copy(prefix.values[layer].begin(), prefix.values[layer].end(), kv.values.begin());
  }
  for (std::int64_t t = 0; t < T; ++t) {
    const double* row = qkv.data() + t * R + H * D;
    std::copy(row, row + KV, kv.keys.begin() + (P + t) * KV);
    std::copy(row + KV, row + 2 * KV, kv.values.begin() + (P + t) * KV);
  }
  if (prefix.kv_format == WeightFormat::f32) return kv;
  // Each new head row as the cache stores it.
  std::vector<float> x(static_cast<std::size_t>(D));
  std::vector<std::uint8_t> stored(static_cast<std::size_t>(kv_row_bytes(prefix.kv_format, D)));
  for (Matrix* m : {&kv.keys, &kv.values}) {
    for (std::int64_t r = P * Hkv; r < (P + T) * Hkv; ++r) {
      double* head = m->data() + r * D;
      std::transform(head, head + D, x.begin(), [](double v) { return static_cast<float>(v); });
      store_kv_row(prefix.kv_format, x.data(), D, stored.data());
      load_kv_row(prefix.kv_format, stored.data(), D, x.data());
      std::copy(x.begin(), x.end(), head);
    }
  }
  return kv;
}

// Causal attention of the queries of qkv [T, (H + 2 Hkv) D] (Q [T, H, D] first; query i at
// position P + i) over kv's P + T keys and values into y [T, H D]; query head h reads KV head
// h / (H / Hkv); with a window W > 0, the query at position p sees the keys p - W + 1 .. p.
Matrix attention(const Matrix& qkv, const KeysValues& kv, std::int64_t P, std::int64_t T,
                 std::int64_t H, std::int64_t Hkv, std::int64_t D, std::int64_t window) {
  const std::int64_t R = (H + 2 * Hkv) * D, C = H * D, KV = Hkv * D;
  Matrix y(T * C);
#pragma omp parallel for collapse(2) schedule(dynamic)
  for (std::int64_t h = 0; h < H; ++h) {
    for (std::int64_t i = 0; i < T; ++i) {
      const std::int64_t kh = h / (H / Hkv), last = P + i;
      const std::int64_t first = window > 0 ? std::max<std::int64_t>(0, last - window + 1) : 0;
      std::vector<double> p(static_cast<std::size_t>(last + 1), 0.0);
      const double* q = qkv.data() + i * R + h * D;
      double m = -std::numeric_limits<double>::infinity();
      for (std::int64_t j = first; j <= last; ++j) {
        const double* k = kv.keys.data() + j * KV + kh * D;
        double s = 0;
        for (std::int64_t d = 0; d < D; ++d) s += q[d] * k[d];
        p[j] = s / std::sqrt(double(D));
        m = std::max(m, p[j]);
      }
      double sum = 0;
      for (std::int64_t j = first; j <= last; ++j) sum += (p[j] = std::exp(p[j] - m));
      for (std::int64_t d = 0; d < D; ++d) {
        double o = 0;
        for (std::int64_t j = first; j <= last; ++j) o += p[j] * kv.values[j * KV + kh * D + d];
        y[i * C + h * D + d] = o / sum;
      }
    }
  }
  return y;
}

// The reference, each product's activations rounded as rounding_of(its matrix's name) says.
template <typename RoundingOf>
std::vector<double> logits_with(const DecoderWeights& w, std::span<const std::int32_t> ids,
                                const RoundingOf& rounding_of, const ReferencePrefix& prefix) {
  const DecoderConfig& cfg = w.config;
  const std::int64_t T = static_cast<std::int64_t>(ids.size()), C = cfg.n_embd, F = cfg.ff();
  const std::int64_t H = cfg.n_head, Hkv = cfg.kv_heads(), D = cfg.head_dim();
  const std::int64_t A = cfg.attention_width(), Q = cfg.qkv_width();
  const std::int64_t P = prefix.length;
  const bool tr = w.transposed;
  const double eps = cfg.norm_eps;
  std::size_t layer = 0;
  auto linear = [&](const char* matrix, const Matrix& in, std::int64_t rows, std::int64_t K,
                    const std::vector<float>& weights, const std::vector<float>& bias,
                    std::int64_t N, bool transposed) {
    const ActivationRounding r = rounding_of(stored_name(layer, matrix));
    return linear_exact(rounded(in, r), rows, K, weights, bias, N, transposed);
  };
  auto gelu = [](double a) {
    return 0.5 * a * (1 + std::tanh(std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a)));
  };
  Matrix x(T * C);
  const double scale = cfg.embedding_scale();
  for (std::int64_t t = 0; t < T; ++t) {
    for (std::int64_t c = 0; c < C; ++c) {
      x[t * C + c] = scale * double(w.token_embedding[ids[t] * C + c]) +
                     (cfg.rope() ? 0.0 : double(w.position_embedding[(P + t) * C + c]));
    }
  }
  for (const LayerWeights& l : w.layers) {
    const auto i_layer = std::int64_t(layer);
    Matrix qkv = linear("qkv", normalize(x, T, C, l.attn_norm, l.attn_norm_bias, eps), T, C, l.qkv,
                        l.qkv_bias, Q, tr);
    if (cfg.qk_norm) {
      normalize_heads(qkv, T, Q, 0, H, D, l.q_norm, eps);
      normalize_heads(qkv, T, Q, H, Hkv, D, l.k_norm, eps);
    }
    if (cfg.rope()) rotate(qkv, P, T, Q, H + Hkv, D, cfg.rope_base_of(i_layer));
    const KeysValues kv = keys_values(qkv, T, H, Hkv, D, prefix, layer);
    Matrix proj = linear("attn_out", attention(qkv, kv, P, T, H, Hkv, D, cfg.window_of(i_layer)), T,
                         A, l.attn_out, l.attn_out_bias, C, tr);
    if (cfg.post_norms) proj = normalize(proj, T, C, l.post_attn_norm, {}, eps);
    for (std::int64_t i = 0; i < T * C; ++i) x[i] += proj[i];
    const Matrix h = normalize(x, T, C, l.mlp_norm, l.mlp_norm_bias, eps);
    Matrix fc = linear("up", h, T, C, l.up, l.up_bias, F, tr);
    if (cfg.gated_mlp()) {
      const Matrix gate = linear("gate", h, T, C, l.gate, {}, F, tr);
      for (std::size_t i = 0; i < fc.size(); ++i) {
        fc[i] *= cfg.mlp == Mlp::geglu ? gelu(gate[i]) : gate[i] / (1 + std::exp(-gate[i]));
      }
    } else {
      for (double& a : fc) a = gelu(a);
    }
    Matrix down = linear("down", fc, T, F, l.down, l.down_bias, C, tr);
    if (cfg.post_norms) down = normalize(down, T, C, l.post_mlp_norm, {}, eps);
    for (std::int64_t i = 0; i < T * C; ++i) x[i] += down[i];
    ++layer;
  }
  const Matrix last(x.end() - C, x.end());
  const Matrix normalized = normalize(last, 1, C, w.final_norm, w.final_norm_bias, eps);
  const Matrix h = rounded(normalized, rounding_of("output"));
  const std::vector<float>& out = w.output_matrix();
  std::vector<double> logits(cfg.vocab);
#pragma omp parallel for
  for (std::int64_t v = 0; v < cfg.vocab; ++v) {
    double s = 0;
    for (std::int64_t c = 0; c < C; ++c) s += h[c] * out[v * C + c];
    logits[v] = s;
  }
  return logits;
}

}  // namespace

std::vector<double> reference_logits(const DecoderWeights& w, std::span<const std::int32_t> ids,
                                     ActivationRounding activations) {
  return logits_with(w, ids, [&](const std::string&) { return activations; }, {});
}

std::vector<double> reference_logits(const DecoderWeights& w, std::span<const std::int32_t> ids,
                                     const MatrixRoundings& roundings) {
  return reference_logits(w, ids, roundings, {});
}

std::vector<double> reference_logits(const DecoderWeights& w, std::span<const std::int32_t> ids,
                                     const MatrixRoundings& roundings,
                                     const ReferencePrefix& prefix) {
  const auto layers = w.layers.size(),
             rows = std::size_t(prefix.length * w.config.kv_heads() * w.config.head_dim());
  if (prefix.length < 0 ||
      (prefix.length > 0 && (prefix.keys.size() != layers || prefix.values.size() != layers))) {
    throw std::invalid_argument("reference_logits: a prefix needs every layer's keys and values");
  }
  for (std::size_t i = 0; i < (prefix.length > 0 ? layers : 0); ++i) {
    if (prefix.keys[i].size() != rows || prefix.values[i].size() != rows)
      throw std::invalid_argument("reference_logits: a prefix layer is not [length, Hkv D]");
  }
  return logits_with(
      w, ids,
      [&](const std::string& matrix) {
        const auto it = roundings.find(matrix);
        return it == roundings.end() ? ActivationRounding::none : it->second;
      },
      prefix);
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
