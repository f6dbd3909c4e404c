#pragma once
// The decoder (every family) in float64 on the host, without a KV cache: every call recomputes
// the whole sequence. The reference the decoder's backends are verified against; independent of
// the Backend code (its own loops), so a shared mistake cannot hide.
#include <cstdint>
#include <span>
#include <vector>

#include "decoder/weights.hpp"

namespace aigc {

// Logits [vocab] of the last position of `ids` (positions 0 .. ids.size() - 1). Every
// product's input is first rounded as `activations` says the backend rounds it: bf16, each
// element to the nearest bfloat16; int8_blocks, per block of 32 as the block formats' int8
// arithmetic rounds it (core/weight_format's round_to_int8_blocks), here in float64:
// d = amax / 127, x' = d round(x / d).
std::vector<double> reference_logits(const DecoderWeights& weights,
                                     std::span<const std::int32_t> ids,
                                     ActivationRounding activations = ActivationRounding::none);

// The activations' rounding of each product by its matrix's name (MatrixRoundings, weights.hpp),
// for a model whose matrices are stored in formats a backend computes on differently.
std::vector<double> reference_logits(const DecoderWeights& weights,
                                     std::span<const std::int32_t> ids,
                                     const MatrixRoundings& roundings);

// The KV cache the reference attends through: the keys and values of `length` positions already
// in it, per layer [length, Hkv D] (after rope and any norm, as the cache stores them), and the
// format it stores each new row in (core/kv_format.hpp: f16 and q8_0 round each head's row of
// the new tokens' keys and values, cast to float, exactly as a backend's cache does). The ids
// then run at positions length .. length + ids.size() - 1. A benchmark at depth starts its
// verification from the backend's own cache: the timed tokens are checked in float64 without
// recomputing the thousands before them (those are the same forward, checked at depth 0).
struct ReferencePrefix {
  std::int64_t length = 0;
  std::vector<std::vector<float>> keys, values;  // per layer
  WeightFormat kv_format = WeightFormat::f32;
};
std::vector<double> reference_logits(const DecoderWeights& weights,
                                     std::span<const std::int32_t> ids,
                                     const MatrixRoundings& roundings,
                                     const ReferencePrefix& prefix);

// max_v |got_v - ref_v| / max_v |ref_v|: the logits' error relative to their magnitude,
// infinite when any logit is NaN or infinite.
double logits_relative_error(std::span<const float> got, std::span<const double> ref);

}  // namespace aigc
