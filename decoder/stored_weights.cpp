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

// The weights a matrix keeps in the format, in its own layout.
std::vector<float> round_trip(const DecoderWeights& w, const std::string& name,
                              const std::vector<float>& values, std::int64_t in, std::int64_t out,
                              bool transposed, WeightFormat f) {
  if (values.empty()) return values;
  const std::vector<float> kept =
      dequantize_rows(f, stored_matrix(w, name, values, in, out, transposed, f), out, in);
  return transposed ? kept : transpose(kept, out, in);
}

}  // namespace

std::vector<std::uint8_t> store_projection(const std::vector<float>& w, std::int64_t in,
                                           std::int64_t out, bool transposed, WeightFormat f) {
  if (transposed) return quantize_rows(f, w, out, in);
  return quantize_rows(f, transpose(w, in, out), out, in);
}

WeightFormat output_format(WeightFormat f, std::int64_t C) {
  using F = WeightFormat;
  if (f == F::q4_0 || f == F::q4_1) return F::q8_0;
  if (f == F::q5_0 || f == F::q5_1 || f == F::q2_k || f == F::q3_k || f == F::q4_k || f == F::q5_k)
    return row_fits(F::q6_k, C) ? F::q6_k : F::q8_0;
  return f;
}

std::vector<std::uint8_t> stored_matrix(const DecoderWeights& w, const std::string& name,
                                        const std::vector<float>& values, std::int64_t in,
                                        std::int64_t out, bool transposed, WeightFormat f) {
  if (const auto it = w.stored.find(name); it != w.stored.end() && it->second.format == f) {
    if (static_cast<std::int64_t>(it->second.bytes.size()) != out * row_bytes(f, in)) {
      throw std::invalid_argument(
          fmt::format("weights: stored matrix '{}' has {} bytes, not {} "
                      "rows of {} {} weights",
                      name, it->second.bytes.size(), out, in, weight_format_name(f)));
    }
    return it->second.bytes;
  }
  return store_projection(values, in, out, transposed, f);
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
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    LayerWeights& l = s.layers[i];
    auto name = [i](const char* matrix) { return stored_name(i, matrix); };
    l.qkv = round_trip(w, name("qkv"), l.qkv, C, Q, t, f);
    l.attn_out = round_trip(w, name("attn_out"), l.attn_out, C, C, t, f);
    l.up = round_trip(w, name("up"), l.up, C, F, t, f);
    l.gate = round_trip(w, name("gate"), l.gate, C, F, t, f);
    l.down = round_trip(w, name("down"), l.down, F, C, t, f);
  }
  // The output matrix is [vocab, C] in every layout.
  s.output = round_trip(w, "output", w.output_matrix(), C, c.vocab, true, output_format(f, C));
  s.config.tied_output = false;
  return s;
}

}  // namespace aigc
