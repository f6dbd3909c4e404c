#pragma once
// A decoder's forward pass (GPT-2 or the Llama family, as its DecoderConfig says), written once
// on the Backend interface from the backend's own ops: weights, activations and the KV cache
// live in the backend's buffers (device memory on a GPU); token ids go in and the last
// position's logits come out. Prefill is a forward of the whole prompt; each decode step a
// forward of one token against the cache.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <utility>
#include <vector>

#include "core/backend.hpp"
#include "decoder/weights.hpp"

namespace aigc {

class DecoderModel {
 public:
  // max_tokens: the KV cache's capacity (prompt plus generated tokens), 1 .. n_ctx;
  // throws InvalidArgument naming `max-tokens` otherwise. `format`: how the projections and
  // the output matrix are stored on the backend (decoder/stored_weights; the matmuls compute on
  // them as stored); throws InvalidArgument naming `dtype` for a format the model's widths do
  // not fit, UnsupportedOp for one the backend's matmul does not take.
  DecoderModel(Backend& backend, const DecoderWeights& weights, std::int64_t max_tokens,
               WeightFormat format = WeightFormat::f32);
  ~DecoderModel();
  DecoderModel(const DecoderModel&) = delete;
  DecoderModel& operator=(const DecoderModel&) = delete;

  const DecoderConfig& config() const { return config_; }
  WeightFormat weight_format() const { return format_; }
  std::int64_t max_tokens() const { return max_tokens_; }
  // Tokens in the cache: the position the next token will take.
  std::int64_t position() const { return position_; }

  // Builds the kernels for a prefill of `prompt` tokens followed by `steps` single-token
  // steps, so that timing them measures no set-up. Shapes not prepared are built on first use.
  void prepare(std::int64_t prompt, std::int64_t steps);

  // Runs `ids` at positions position() .. position() + ids.size() - 1, appending their keys
  // and values to the cache; returns the logits of the last one [vocab]. Throws
  // InvalidArgument naming `prompt-ids` for an empty list, an id outside 0 .. vocab - 1, or
  // more tokens than the cache has room for. With logits = false it stops after the last
  // layer (no final norm, logits or download) and returns an empty span. With logits,
  // the greedy next token is also written on the backend as the token at the new position().
  std::span<const float> forward(std::span<const std::int32_t> ids, bool logits = true);

  // Runs `steps` single-token steps from position(), each feeding the token the sequence holds
  // at its position. With greedy, each step's argmax (computed on the backend) becomes the
  // next position's token; without, the steps stop after the last layer and feed the tokens
  // set_tokens() wrote. Nothing waits for the backend or touches the host between steps: on a
  // GPU every step is one graph replay, so a timed decode measures the device alone. Read
  // the result with tokens() and last_logits(). Throws InvalidArgument naming `gen` when the
  // steps do not fit the cache.
  void decode(std::int64_t steps, bool greedy);
  // Writes the token sequence at positions position .. position + ids.size() - 1, checked as
  // forward() checks its ids, without running anything.
  void set_tokens(std::int64_t position, std::span<const std::int32_t> ids);
  // The token sequence at positions from .. from + count - 1 (the last may be position(), the
  // next token to feed). A -1 there (an argmax that saw NaN or infinity) throws
  // std::runtime_error naming the position: garbage in the model is an error, never a token.
  std::vector<std::int32_t> tokens(std::int64_t from, std::int64_t count);
  // The logits of the last step that computed them, downloaded from the backend.
  std::span<const float> last_logits();

  // Fills every activation buffer and the logits with NaN, and the token sequence after
  // position() with -1, so that a verification run cannot pass on values a previous run left
  // behind.
  void poison();

  // Forgets the cache from `position` on (0: a new sequence). Entries before it are kept,
  // so a benchmark can repeat the same decode steps after one prefill.
  void rewind(std::int64_t position);

 private:
  struct LayerBuffers;
  struct StepKernels;
  struct PositionKernels;
  StepKernels& kernels_for(std::int64_t tokens);
  // Attention (and rope) of `tokens` queries ending at position length - 1.
  PositionKernels& position_kernels_for(std::int64_t tokens, std::int64_t length);
  void check_ids(std::span<const std::int32_t> ids, std::int64_t position) const;
  // One step of T tokens at position(), its ids already in tokens_; recorded and replayed
  // when T = 1 and the backend records.
  void step(std::int64_t T, bool logits);

  // norm(x) -> y with the architecture's norm (bias: layernorm's shift, null for rmsnorm).
  void norm(std::unique_ptr<LayernormKernel>& layernorm, std::unique_ptr<RmsnormKernel>& rmsnorm,
            const Buffer& x, const Buffer& gain, const Buffer* bias, Buffer& y);

  Backend& backend_;
  DecoderConfig config_;
  WeightFormat format_;
  std::int64_t max_tokens_;
  std::int64_t position_ = 0;

  Buffer token_embedding_, position_embedding_, final_norm_, final_norm_bias_, output_;
  std::vector<LayerBuffers> layers_;
  // Activations for up to max_tokens rows (up_: the SwiGLU up projection, llama only).
  Buffer x_, h_, qkv_, q_, att_, y_, fc_, up_, x_last_, h_last_, logits_;
  // The token sequence on the backend, int32: position p's token at p, max_tokens + 1 slots
  // (the last step's argmax has no position of its own).
  Buffer tokens_;
  std::vector<float> host_logits_;

  std::map<std::int64_t, std::unique_ptr<StepKernels>> step_kernels_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::unique_ptr<PositionKernels>> positioned_;
  std::unique_ptr<LayernormKernel> final_layernorm_;
  std::unique_ptr<RmsnormKernel> final_rmsnorm_;
  std::unique_ptr<MatmulKernel> logits_matmul_;
  // Decode steps recorded for replay, by (position, logits), where the backend can record;
  // a null entry is a step run once directly and to be recorded on its next run.
  bool record_decode_steps_ = true;
  std::map<std::pair<std::int64_t, bool>, std::unique_ptr<RecordedOps>> decode_steps_;
};

// The index of the largest logit (the first, on a tie): greedy sampling. A NaN or infinite
// logit throws std::runtime_error naming `step` (0: after the prompt, g: the g-th decode step)
// and the index: garbage in the model is an error, never a token.
std::int32_t argmax(std::span<const float> logits, std::int64_t step);

// Worst-case relative error of the logits (max |l - l_exact| / max |l_exact|) of a float32
// forward at sequence length `length`: the sum over the ops on the longest dependency path of
// the lengths of their float32 reductions, times u (Higham's gamma_n); see model.cpp.
// With weights stored in a block format, each matmul may scale a block's sum once more (one more
// term in each of its reductions).
// With rounded activations (OperandRounding::activations: bf16 or int8 blocks) the reference
// rounds the activations as the kernels do, but the two sides' activations differ by the fp32
// error, so an element near a rounding boundary can round to a neighbouring step on one side
// (int8: one step, amax / 127 of its block; bf16: one bf16 ulp of the element). Such flips are
// rare and independent from product to product; the bound adds each product's rounding bound
// r, relative to its scale at most 4 r (int8: r amax / rms with activations after a norm, 32 to
// a block; bf16: r |x| <= r amax), in root-sum-square over the products on the path:
// 4 r sqrt(4 layers + 1), r = int8_activation_rounding() or bf16's 2^-8.
double logits_tolerance(const DecoderConfig& config, std::int64_t length,
                        WeightFormat format = WeightFormat::f32,
                        ActivationRounding activations = ActivationRounding::none);

}  // namespace aigc
