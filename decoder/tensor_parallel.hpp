#pragma once
// Megatron-style tensor parallelism of the decoder (Shoeybi et al., 2019): P ranks each hold a
// share of every layer and compute on it, joined by two collectives.
//   attention  QKV column-parallel (each rank its H/P query heads and Hkv/P KV heads, so each
//              attends with its own heads against its own share of the KV cache), the output
//              projection row-parallel (its input columns of those heads): a partial sum per
//              rank, one allreduce;
//   MLP        fc (gpt2) or gate and up (llama) column-parallel (F/P of the inner width each),
//              down row-parallel: one allreduce;
//   embedding  split by vocabulary: each rank looks up the ids of its share (zeros for the
//              others'), one allreduce; the position table and the row-parallel biases are
//              added by rank 0 alone, so the sum holds them once;
//   logits     split by vocabulary (the output matrix's rows): each rank its share of the
//              logits, one allgather, then every rank picks the same argmax.
// Norms, residuals and the activations between the collectives are replicated on every rank.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/buffer.hpp"
#include "decoder/weights.hpp"

namespace aigc {

// The ranks a tensor-parallel model is split over and the collectives its forward needs, on the
// backend's buffers (host memory: the MPI group takes CPU backends).
class TensorGroup {
 public:
  virtual ~TensorGroup() = default;
  virtual int rank() const = 0;
  virtual int ranks() const = 0;
  // x[0 .. count) summed over the ranks, in place, on every rank.
  virtual void allreduce_sum(Buffer& x, std::size_t count) = 0;
  // full [rows, sum of widths] on every rank, from each rank r's part [rows, widths[r]]: rank
  // r's columns follow those of the ranks before it.
  virtual void allgather_columns(const Buffer& part, std::int64_t rows,
                                 std::span<const std::int64_t> widths, Buffer& full) = 0;
  // Seconds spent in the collectives above since the group was made, waiting for the slowest
  // rank included: the communication a timed run reports beside its wall time. Only where
  // times_communication(): a GPU group's collectives run on the stream among the kernels, and
  // the host cannot time them apart.
  virtual double communication_s() const = 0;
  virtual bool times_communication() const { return true; }
  // Whether its collectives take device buffers (a GPU backend's) rather than host memory.
  virtual bool on_device() const { return false; }
};

// The checks every group's collectives make of their arguments (throwing std::length_error or
// std::invalid_argument on a caller's bug): an allreduce's buffer holds `count` floats; an
// allgather's part and whole hold rows x this rank's width and rows x the sum of the widths,
// one width per rank. The latter returns that sum.
void check_allreduce_buffer(const Buffer& x, std::size_t count);
std::int64_t check_allgather_buffers(const Buffer& part, std::int64_t rows,
                                     std::span<const std::int64_t> widths, int rank, int ranks,
                                     const Buffer& full);

// One rank's share of a model of `config` split over `ranks`.
struct TensorShare {
  int rank = 0, ranks = 1;
  std::int64_t heads = 0, kv_heads = 0, ff = 0;  // query heads, KV heads, MLP inner width
  std::int64_t head_dim = 0;
  // Widths of this rank's fused QKV row (its query, key and value heads) and of its attention
  // output (its query heads: the row-parallel output projection's input).
  std::int64_t qkv_width() const { return (heads + 2 * kv_heads) * head_dim; }
  std::int64_t attention_width() const { return heads * head_dim; }
  std::int64_t head_begin = 0, kv_head_begin = 0, ff_begin = 0;
  std::int64_t vocab_begin = 0, vocab_rows = 0;
  std::vector<std::int64_t> vocab_widths;  // every rank's vocab_rows, in rank order
};

// Throws InvalidArgument naming `tp` when `ranks` does not divide the query heads, the KV heads
// or the MLP's inner width (the vocabulary need not divide: the first V mod P ranks take one
// row more), or when rank is not in 0 .. ranks - 1.
TensorShare tensor_share(const DecoderConfig& config, int rank, int ranks);

// The weights of one rank's share, fp32, every projection as [out, in] rows (transposed = true):
// QKV's and fc/gate/up's output rows of the share (the fused QKV keeps its Q, K, V order), the
// output and down projections' input columns; their biases (row-parallel: rank 0 only); the
// token embedding's and the output matrix's rows of the vocabulary share; the position table on
// rank 0 only; norms whole. The config stays the whole model's: the sizes are the share's, so
// check_sizes() does not hold for it.
DecoderWeights share_weights(const DecoderWeights& w, const TensorShare& share);

}  // namespace aigc
