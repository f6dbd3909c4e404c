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

// The weights a matrix keeps in the dtype, in its own layout.
std::vector<float> round_trip(const DecoderWeights& w, const std::string& name,
                              const std::vector<float>& values, std::int64_t in, std::int64_t out,
                              bool transposed, ModelDtype dtype) {
  if (values.empty()) return values;
  std::vector<float> kept;
  for (const StoredPart& p : matrix_parts(w, name, values, in, out, transposed, dtype)) {
    const std::vector<float> rows = dequantize_rows(p.format, p.bytes, p.rows, in);
    kept.insert(kept.end(), rows.begin(), rows.end());
  }
  return transposed ? kept : transpose(kept, out, in);
}

// The file's parts of a stored matrix, checked against the [out, in] shape the model reads.
const std::vector<StoredPart>& checked_parts(const StoredMatrix& m, const std::string& name,
                                             std::int64_t in, std::int64_t out) {
  std::int64_t rows = 0;
  for (const StoredPart& p : m.parts) {
    if (static_cast<std::int64_t>(p.bytes.size()) != p.rows * row_bytes(p.format, in)) {
      throw std::invalid_argument(fmt::format(
          "weights: a part of stored matrix '{}' has {} bytes, not {} rows of {} {} weights", name,
          p.bytes.size(), p.rows, in, weight_format_name(p.format)));
    }
    rows += p.rows;
  }
  if (rows != out) {
    throw std::invalid_argument(
        fmt::format("weights: stored matrix '{}' has {} rows, not {}", name, rows, out));
  }
  return m.parts;
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
  if (const auto it = w.stored.find(name);
      it != w.stored.end() && it->second.single_format() == f) {
    return checked_parts(it->second, name, in, out).front().bytes;
  }
  return store_projection(values, in, out, transposed, f);
}

ModelDtype parse_model_dtype(const std::string& text, const std::string& argument) {
  if (text == "file") return ModelDtype::file();
  try {
    return parse_weight_format(text, argument);
  } catch (const InvalidArgument&) {
    throw InvalidArgument(
        argument, fmt::format("unknown dtype '{}' (valid: file, {})", text, weight_format_names()));
  }
}

std::vector<StoredPart> matrix_parts(const DecoderWeights& w, const std::string& name,
                                     const std::vector<float>& values, std::int64_t in,
                                     std::int64_t out, bool transposed, ModelDtype dtype) {
  if (!dtype.from_file) {
    const WeightFormat f = name == "output" ? output_format(dtype.format, in) : dtype.format;
    return {{f, out, stored_matrix(w, name, values, in, out, transposed, f)}};
  }
  if (const auto it = w.stored.find(name); it != w.stored.end())
    return checked_parts(it->second, name, in, out);
  return {
      {WeightFormat::f32, out, store_projection(values, in, out, transposed, WeightFormat::f32)}};
}

std::set<WeightFormat> formats_of(const DecoderWeights& w, ModelDtype dtype) {
  if (!dtype.from_file) return {dtype.format, output_format(dtype.format, w.config.n_embd)};
  std::set<WeightFormat> formats{WeightFormat::f32};
  for (const auto& [name, m] : w.stored) {
    for (const StoredPart& p : m.parts) formats.insert(p.format);
  }
  return formats;
}

std::optional<MatrixRoundings> activation_roundings(const BackendDescriptor& backend,
                                                    const DecoderWeights& w, ModelDtype dtype) {
  const std::int64_t C = w.config.n_embd;
  MatrixRoundings out;
  // The formats of a matrix's parts as matrix_parts() stores them, without storing them.
  auto formats = [&](const std::string& name) -> std::vector<WeightFormat> {
    if (!dtype.from_file) return {name == "output" ? output_format(dtype.format, C) : dtype.format};
    const auto it = w.stored.find(name);
    if (it == w.stored.end()) return {WeightFormat::f32};
    std::vector<WeightFormat> f;
    for (const StoredPart& p : it->second.parts) f.push_back(p.format);
    return f;
  };
  auto add = [&](const std::string& name, const std::vector<float>& values) {
    if (values.empty()) return true;
    std::optional<ActivationRounding> r;
    for (const WeightFormat f : formats(name)) {
      const ActivationRounding a = backend.operand_rounding_for(f).activations;
      if (r && *r != a) return false;
      r = a;
    }
    out[name] = *r;
    return true;
  };
  bool one_way = add("output", w.output_matrix());
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    one_way = one_way && add(stored_name(i, "qkv"), l.qkv) &&
              add(stored_name(i, "attn_out"), l.attn_out) && add(stored_name(i, "up"), l.up) &&
              add(stored_name(i, "gate"), l.gate) && add(stored_name(i, "down"), l.down);
  }
  if (!one_way) return std::nullopt;
  return out;
}

ActivationRounding coarsest(const MatrixRoundings& roundings) {
  ActivationRounding worst = ActivationRounding::none;
  for (const auto& [name, r] : roundings) {
    if (r == ActivationRounding::int8_blocks) return r;
    if (r == ActivationRounding::bf16) worst = r;
  }
  return worst;
}

void require_format_fits(const DecoderConfig& c, ModelDtype dtype) {
  if (dtype.from_file) return;
  const WeightFormat f = dtype.format;
  for (const auto& [width, what] : {std::pair{c.n_embd, "width n_embd"}, {c.ff(), "MLP width"}}) {
    if (!row_fits(f, width)) {
      throw InvalidArgument(
          "dtype", fmt::format("{} weights come in blocks of {} along a row, and {}'s {} {} is "
                               "not a multiple of it (valid here: f32, f16, bf16)",
                               weight_format_name(f), block_elements(f), c.name, what, width));
    }
  }
}

DecoderWeights weights_as_stored(const DecoderWeights& w, ModelDtype f) {
  if (f.is_f32()) return w;
  require_format_fits(w.config, f);
  const DecoderConfig& c = w.config;
  const std::int64_t C = c.n_embd, F = c.ff(), Q = c.qkv_width();
  const bool t = w.transposed;
  DecoderWeights s = w;
  for (std::size_t i = 0; i < s.layers.size(); ++i) {
    LayerWeights& l = s.layers[i];
    auto name = [i](const char* matrix) { return stored_name(i, matrix); };
    l.qkv = round_trip(w, name("qkv"), l.qkv, C, Q, t, f);
    l.attn_out = round_trip(w, name("attn_out"), l.attn_out, c.attention_width(), C, t, f);
    l.up = round_trip(w, name("up"), l.up, C, F, t, f);
    l.gate = round_trip(w, name("gate"), l.gate, C, F, t, f);
    l.down = round_trip(w, name("down"), l.down, F, C, t, f);
  }
  // The output matrix is [vocab, C] in every layout.
  s.output = round_trip(w, "output", w.output_matrix(), C, c.vocab, true, f);
  s.config.tied_output = false;
  return s;
}

}  // namespace aigc
