#include "decoder/tensor_parallel.hpp"

#include <numeric>
#include <stdexcept>

#include <fmt/format.h>

#include "core/errors.hpp"

namespace aigc {
namespace {

struct Range {
  std::int64_t begin = 0, count = 0;
};

// Output rows `ranges` of a projection of `in` inputs and `out` outputs, as [rows, in].
std::vector<float> output_rows(const std::vector<float>& w, std::int64_t in, std::int64_t out,
                               bool transposed, std::span<const Range> ranges) {
  std::vector<float> rows;
  for (const Range& r : ranges) {
    for (std::int64_t o = r.begin; o < r.begin + r.count; ++o) {
      for (std::int64_t i = 0; i < in; ++i)
        rows.push_back(transposed ? w[o * in + i] : w[i * out + o]);
    }
  }
  return rows;
}

// Input columns `cols` of the same, as [out, cols.count].
std::vector<float> input_columns(const std::vector<float>& w, std::int64_t in, std::int64_t out,
                                 bool transposed, Range cols) {
  std::vector<float> rows;
  rows.reserve(static_cast<std::size_t>(out * cols.count));
  for (std::int64_t o = 0; o < out; ++o) {
    for (std::int64_t i = cols.begin; i < cols.begin + cols.count; ++i)
      rows.push_back(transposed ? w[o * in + i] : w[i * out + o]);
  }
  return rows;
}

// Elements `ranges` of a vector (a bias, or a [rows, width] table's rows with width > 1).
std::vector<float> pick(const std::vector<float>& v, std::span<const Range> ranges,
                        std::int64_t width = 1) {
  std::vector<float> out;
  if (v.empty()) return out;
  for (const Range& r : ranges)
    out.insert(out.end(), v.begin() + r.begin * width, v.begin() + (r.begin + r.count) * width);
  return out;
}

}  // namespace

void check_allreduce_buffer(const Buffer& x, std::size_t count) {
  if (count * sizeof(float) > x.bytes()) {
    throw std::length_error(
        fmt::format("allreduce of {} floats in a buffer of {} bytes", count, x.bytes()));
  }
}

std::int64_t check_allgather_buffers(const Buffer& part, std::int64_t rows,
                                     std::span<const std::int64_t> widths, int rank, int ranks,
                                     const Buffer& full) {
  if (static_cast<int>(widths.size()) != ranks || rank < 0 || rank >= ranks || rows < 0) {
    throw std::invalid_argument(fmt::format("allgather: {} widths for {} ranks (rank {}), {} rows",
                                            widths.size(), ranks, rank, rows));
  }
  std::int64_t total = 0;
  for (const std::int64_t w : widths) total += w;
  const std::int64_t mine = widths[static_cast<std::size_t>(rank)];
  if (std::size_t(rows * mine) * sizeof(float) > part.bytes() ||
      std::size_t(rows * total) * sizeof(float) > full.bytes()) {
    throw std::length_error("allgather: buffers smaller than the rows and widths given");
  }
  return total;
}

TensorShare tensor_share(const DecoderConfig& c, int rank, int ranks) {
  const std::int64_t H = c.n_head, Hkv = c.kv_heads(), F = c.ff();
  auto refuse = [&](const std::string& what) {
    throw InvalidArgument("tp", fmt::format("tp={} does not divide {}'s {} (valid: a divisor of "
                                            "{})",
                                            ranks, c.name, what, std::gcd(Hkv, F)));
  };
  if (ranks < 1) throw InvalidArgument("tp", fmt::format("{} ranks (at least 1)", ranks));
  if (Hkv % ranks != 0) refuse(fmt::format("{} KV heads", Hkv));
  if (H % ranks != 0) refuse(fmt::format("{} query heads", H));
  if (F % ranks != 0) refuse(fmt::format("MLP width {}", F));
  if (rank < 0 || rank >= ranks) {
    throw InvalidArgument("rank",
                          fmt::format("{} is out of range (valid: 0..{})", rank, ranks - 1));
  }
  TensorShare s;
  s.rank = rank;
  s.ranks = ranks;
  s.heads = H / ranks;
  s.kv_heads = Hkv / ranks;
  s.ff = F / ranks;
  s.head_dim = c.head_dim();
  s.head_begin = rank * s.heads;
  s.kv_head_begin = rank * s.kv_heads;
  s.ff_begin = rank * s.ff;
  const std::int64_t V = c.vocab;
  for (int r = 0; r < ranks; ++r) {
    const std::int64_t width = V / ranks + (r < V % ranks ? 1 : 0);
    if (r < rank) s.vocab_begin += width;
    s.vocab_widths.push_back(width);
  }
  s.vocab_rows = s.vocab_widths[static_cast<std::size_t>(rank)];
  return s;
}

DecoderWeights share_weights(const DecoderWeights& w, const TensorShare& s) {
  const DecoderConfig& c = w.config;
  const std::int64_t C = c.n_embd, D = c.head_dim(), H = c.n_head, Hkv = c.kv_heads(), F = c.ff(),
                     Q = c.qkv_width();
  const bool t = w.transposed, first = s.rank == 0;
  // The share's rows of the fused QKV output: its query heads, then its K heads, its V heads.
  const Range qkv[] = {{s.head_begin * D, s.heads * D},
                       {(H + s.kv_head_begin) * D, s.kv_heads * D},
                       {(H + Hkv + s.kv_head_begin) * D, s.kv_heads * D}};
  const Range heads{s.head_begin * D, s.heads * D};
  const Range ff[] = {{s.ff_begin, s.ff}};
  const Range vocab[] = {{s.vocab_begin, s.vocab_rows}};

  DecoderWeights out;
  out.config = c;
  out.transposed = true;
  out.token_embedding = pick(w.token_embedding, vocab, C);
  if (first) out.position_embedding = w.position_embedding;
  out.final_norm = w.final_norm;
  out.final_norm_bias = w.final_norm_bias;
  out.output = pick(w.output, vocab, C);
  for (const LayerWeights& l : w.layers) {
    LayerWeights p;
    p.attn_norm = l.attn_norm;
    p.attn_norm_bias = l.attn_norm_bias;
    p.qkv = output_rows(l.qkv, C, Q, t, qkv);
    p.qkv_bias = pick(l.qkv_bias, qkv);
    p.attn_out = input_columns(l.attn_out, c.attention_width(), C, t, heads);
    p.q_norm = l.q_norm;  // per element of a head: every rank's heads share them
    p.k_norm = l.k_norm;
    p.post_attn_norm = l.post_attn_norm;  // after the ranks' sum
    p.post_mlp_norm = l.post_mlp_norm;
    if (first) p.attn_out_bias = l.attn_out_bias;
    p.mlp_norm = l.mlp_norm;
    p.mlp_norm_bias = l.mlp_norm_bias;
    p.up = output_rows(l.up, C, F, t, ff);
    p.up_bias = pick(l.up_bias, ff);
    if (!l.gate.empty()) p.gate = output_rows(l.gate, C, F, t, ff);
    p.down = input_columns(l.down, F, C, t, ff[0]);
    if (first) p.down_bias = l.down_bias;
    out.layers.push_back(std::move(p));
  }
  return out;
}

}  // namespace aigc
