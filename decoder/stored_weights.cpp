#include "decoder/stored_weights.hpp"

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

// [in, out] -> [out, in].
std::vector<float> transpose(const std::vector<float>& w, std::int64_t in, std::int64_t out) {
  std::vector<float> t(w.size());
  for (std::int64_t i = 0; i < in; ++i) {
    for (std::int64_t o = 0; o < out; ++o) t[o * in + i] = w[i * out + o];
  }
  return t;
}

// The weights a projection keeps in the format, in its own layout.
std::vector<float> round_trip(const std::vector<float>& w, std::int64_t in, std::int64_t out,
                              bool transposed, WeightFormat f) {
  if (w.empty()) return w;
  const std::vector<float> kept =
      dequantize_rows(f, store_projection(w, in, out, transposed, f), out, in);
  return transposed ? kept : transpose(kept, out, in);
}

}  // namespace

std::vector<std::uint8_t> store_projection(const std::vector<float>& w, std::int64_t in,
                                           std::int64_t out, bool transposed, WeightFormat f) {
  if (transposed) return quantize_rows(f, w, out, in);
  return quantize_rows(f, transpose(w, in, out), out, in);
}

void require_format_fits(const DecoderConfig& c, WeightFormat f) {
  for (const auto& [width, what] : {std::pair{c.n_embd, "width n_embd"}, {c.ff(), "MLP width"}}) {
    if (!row_fits(f, width)) {
      throw InvalidArgument(
          "dtype", fmt::format("{} weights come in blocks of {} along a row, and {}'s {} {} is "
                               "not a multiple of it (valid here: f32, f16, bf16)",
                               weight_format_name(f), block_elements(f), c.name, what, width));
    }
  }
}

DecoderWeights weights_as_stored(const DecoderWeights& w, WeightFormat f) {
  if (f == WeightFormat::f32) return w;
  require_format_fits(w.config, f);
  const DecoderConfig& c = w.config;
  const std::int64_t C = c.n_embd, F = c.ff(), Q = c.qkv_width();
  const bool t = w.transposed;
  DecoderWeights s = w;
  for (LayerWeights& l : s.layers) {
    l.qkv = round_trip(l.qkv, C, Q, t, f);
    l.attn_out = round_trip(l.attn_out, C, C, t, f);
    l.up = round_trip(l.up, C, F, t, f);
    l.gate = round_trip(l.gate, C, F, t, f);
    l.down = round_trip(l.down, F, C, t, f);
  }
  // The output matrix is [vocab, C] in every layout.
  s.output = round_trip(w.output_matrix(), C, c.vocab, true, f);
  s.config.tied_output = false;
  return s;
}

}  // namespace aigc
