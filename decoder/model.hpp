#pragma once
// A decoder's forward pass (GPT-2 or the Llama family, as its DecoderConfig says), written once
// on the Backend interface from the backend's own ops: weights, activations and the KV cache
// live in the backend's buffers (device memory on a GPU); token ids go in and the last
// position's logits come out. Prefill is a forward of the whole prompt; each decode step a
// forward of one token against the cache.
//
// A model holds `batch` sequences, each with its own KV cache, token sequence and position;
// the single-sequence calls take sequence 0 unless told otherwise. decode_batch() runs one
// decode step of several sequences together: every projection multiplies a [B, C] activation
// (the GEMM path, one pass over the weights for all B), and each sequence attends to its own
// cache at its own position.
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "core/backend.hpp"
#include "decoder/stored_weights.hpp"
#include "decoder/tensor_parallel.hpp"
#include "decoder/weights.hpp"

namespace aigc {

class DecoderModel {
 public:
  // max_tokens: the KV cache's capacity (prompt plus generated tokens), 1 .. n_ctx;
  // throws InvalidArgument naming `max-tokens` otherwise. `dtype`: how the projections and
  // the output matrix are stored on the backend (decoder/stored_weights: one format, or each
  // as the file stores it; the matmuls compute on them as stored); throws InvalidArgument
  // naming `dtype` for a format the model's widths do not fit, UnsupportedOp for one the
  // backend's matmul does not take.
  // batch: the number of sequences, 1 .. kMaxBatch; throws InvalidArgument naming `batch`
  // outside that range, or when the sequences' KV caches (batch x layers x 2 x max_tokens x
  // KV width floats) do not fit the memory a host backend has available, naming the bytes,
  // before anything is allocated.
  // group: the ranks of a tensor-parallel model (decoder/tensor_parallel.hpp), each holding
  // its share of the weights and of the KV cache, with the same logits and tokens on every
  // rank; null for a model in one process. Throws InvalidArgument naming `tp` for a split the
  // model's heads or MLP do not take, `dtype` for a format other than f32 (a share of stored
  // blocks is not built); std::invalid_argument for a group whose buffers are not the
  // backend's kind (host memory against a GPU's).
  // kv_format: how the KV caches store keys and values (core/kv_format.hpp: f32, f16, q8_0);
  // throws InvalidArgument naming `kv` for another format or a head size its blocks do not
  // fit, UnsupportedOp for one the backend's attention does not read.
  DecoderModel(Backend& backend, const DecoderWeights& weights, std::int64_t max_tokens,
               ModelDtype dtype = WeightFormat::f32, std::int64_t batch = 1,
               TensorGroup* group = nullptr, WeightFormat kv_format = WeightFormat::f32);
  static constexpr std::int64_t kMaxBatch = 4096;
  ~DecoderModel();
  DecoderModel(const DecoderModel&) = delete;
  DecoderModel& operator=(const DecoderModel&) = delete;

  const DecoderConfig& config() const { return config_; }
  ModelDtype dtype() const { return dtype_; }
  WeightFormat kv_format() const { return kv_format_; }
  std::int64_t max_tokens() const { return max_tokens_; }
  std::int64_t batch() const { return static_cast<std::int64_t>(sequences_.size()); }
  // Tokens in a sequence's cache: the position its next token will take.
  std::int64_t position(std::int64_t sequence = 0) const;

  // Builds the kernels for a prefill of `prompt` tokens after `depth` already in the cache,
  // followed by `steps` decode steps of `rows` sequences together (1: single-sequence steps),
  // so that timing them measures no set-up. Shapes not prepared are built on first use.
  void prepare(std::int64_t prompt, std::int64_t steps, std::int64_t rows = 1,
               std::int64_t depth = 0);

  // The keys and values a sequence's cache holds for one layer at positions 0 .. count - 1
  // (count <= position()), downloaded as [count, Hkv D] rows each, the layout the float64
  // reference builds (decoder/reference.hpp's ReferencePrefix): what a verification at depth
  // starts from. Throws InvalidArgument naming `position` out of range, UnsupportedOp for a
  // tensor-parallel model.
  struct CachedRows {
    std::vector<float> keys, values;
  };
  CachedRows cached_rows(std::int64_t layer, std::int64_t count, std::int64_t sequence = 0);

  // Runs `ids` at positions position() .. position() + ids.size() - 1, appending their keys
  // and values to the cache; returns the logits of the last one [vocab]. Throws
  // InvalidArgument naming `prompt-ids` for an empty list, an id outside 0 .. vocab - 1, or
  // more tokens than the cache has room for. With logits = false it stops after the last
  // layer (no final norm, logits or download) and returns an empty span. With logits,
  // the greedy next token is also written on the backend as the token at the new position().
  std::span<const float> forward(std::span<const std::int32_t> ids, bool logits = true,
                                 std::int64_t sequence = 0);

  // One decode step of each of `sequences` (distinct indices, each with a prompt in its cache
  // and room for one more token), batched: each feeds the token its sequence holds at its
  // position, and with greedy writes its argmax as the token at the next one. Nothing is
  // downloaded; read each sequence's logits with batch_logits(i) (i: the index in
  // `sequences`) and its tokens with tokens(). Throws InvalidArgument naming `sequences` for
  // an empty, repeated, out-of-range or full sequence.
  void decode_batch(std::span<const std::int64_t> sequences, bool greedy);
  // Row i of the last decode_batch()'s logits, downloaded.
  std::span<const float> batch_logits(std::int64_t i);

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
  void set_tokens(std::int64_t position, std::span<const std::int32_t> ids,
                  std::int64_t sequence = 0);
  // The token sequence at positions from .. from + count - 1 (the last may be position(), the
  // next token to feed). A -1 there (an argmax that saw NaN or infinity) throws
  // std::runtime_error naming the position: garbage in the model is an error, never a token.
  std::vector<std::int32_t> tokens(std::int64_t from, std::int64_t count,
                                   std::int64_t sequence = 0);
  // The logits of the last step that computed them, downloaded from the backend.
  std::span<const float> last_logits();

  // Fills every activation buffer and the logits with NaN, and each token sequence after its
  // position with -1, so that a verification run cannot pass on values a previous run left
  // behind.
  void poison();

  // Forgets a sequence's cache from `position` on (0: a new sequence). Entries before it are
  // kept, so a benchmark can repeat the same decode steps after one prefill.
  void rewind(std::int64_t position, std::int64_t sequence = 0);

 private:
  // The constructor's steps: its arguments refused by name before anything is allocated; the
  // weights uploaded as the matmuls read them; each sequence's KV caches and token ids; the
  // activation buffers of the longest step.
  void check_arguments(const DecoderWeights& whole, std::int64_t batch) const;
  void upload_weights(const DecoderWeights& w);
  void allocate_sequences(std::int64_t batch, std::int64_t cache_bytes);
  void allocate_activations(std::int64_t batch);

  // A projection as the backend holds it: runs of its [out, in] rows, each in one format with
  // its share of the bias (one run but where a file stores a fused matrix's tensors in
  // different formats). No parts where the architecture has none (gpt2's gate).
  struct Projection {
    struct Part {
      Buffer weight, bias;  // bias: empty when none
      std::int64_t rows = 0;
      WeightFormat format = WeightFormat::f32;
    };
    std::vector<Part> parts;
    std::int64_t in = 0, out = 0;
  };
  struct LayerBuffers;
  struct StepKernels;
  struct PositionKernels;
  struct LogitsKernels;
  // One sequence's state: its KV cache per layer ([Hkv, max_tokens] rows of D in the KV
  // format each), its token
  // sequence on the backend (int32, max_tokens + 1 slots: position p's token at p, the last
  // step's argmax after them) and its position.
  struct Sequence {
    std::vector<Buffer> k_cache, v_cache;
    Buffer tokens;
    std::int64_t position = 0;
  };
  // Sequence `index`; throws InvalidArgument naming `argument` when there is none.
  const Sequence& sequence(std::int64_t index, const char* argument = "sequence") const;
  Sequence& sequence(std::int64_t index, const char* argument = "sequence") {
    return const_cast<Sequence&>(std::as_const(*this).sequence(index, argument));
  }
  LogitsKernels& logits_kernels_for(std::int64_t rows);
  StepKernels& kernels_for(std::int64_t tokens);
  // Attention (and rope) of `tokens` queries ending at position length - 1.
  PositionKernels& position_kernels_for(std::int64_t tokens, std::int64_t length);
  void check_ids(std::span<const std::int32_t> ids, std::int64_t position) const;
  // One step of T tokens of sequence s at its position, its ids already in its tokens;
  // recorded and replayed when T = 1 and the backend records.
  void step(std::int64_t T, bool logits, std::int64_t s);
  // The product of `rows` rows by a projection, part by part (upload_weights), and the kernel
  // of one part at `rows` rows, built on first use (shared by the layers whose part has its
  // shape and format).
  void project(const Projection& p, const Buffer& in, Buffer& out, std::int64_t rows);
  MatmulKernel& matmul_for(std::int64_t rows, const Projection& p, const Projection::Part& part);
  // RMSNorm of each Q and K head of qkv's rows (qk_norm), in place.
  void normalize_heads(StepKernels& k, LayerBuffers& l, Buffer& qkv, std::int64_t rows);
  // The layer after its attention, for `rows` rows: output projection, residual, MLP, residual.
  void layer_tail(StepKernels& k, LayerBuffers& l, std::int64_t rows);
  // Sums the ranks' partial rows of x (a row-parallel product's output, the embedding) in
  // place; nothing in one process.
  void sum_over_ranks(Buffer& x, std::int64_t rows);
  // The logits of the `rows` rows of x (last positions), into logits_ [rows, vocab] on every
  // rank (each rank's share gathered).
  void compute_logits(const Buffer& x, std::int64_t rows);
  // One decode step of the sequences `active`, batched (decode_batch, its checks done).
  void step_batch(std::span<const std::int64_t> active, bool logits);
  // The [vocab, C] matrix the logits multiply: the token embedding when tied and fp32.
  const Buffer& output_matrix() const;

  // norm(x) -> y with the architecture's norm (bias: layernorm's shift, null for rmsnorm).
  void norm(std::unique_ptr<LayernormKernel>& layernorm, std::unique_ptr<RmsnormKernel>& rmsnorm,
            const Buffer& x, const Buffer& gain, const Buffer* bias, Buffer& y);

  Backend& backend_;
  DecoderConfig config_;
  TensorGroup* group_;
  TensorShare share_;  // this rank's share; the whole model in one process
  ModelDtype dtype_;
  WeightFormat kv_format_;
  WeightFormat output_format_ = WeightFormat::f32;  // the logits' matrix, as uploaded
  // The widest part of a projection stored in several parts (0: none), for part_.
  std::int64_t split_width_ = 0;
  std::int64_t max_tokens_;
  std::vector<Sequence> sequences_;

  Buffer token_embedding_, position_embedding_, final_norm_, final_norm_bias_, output_;
  std::vector<LayerBuffers> layers_;
  // Activations for up to max(max_tokens, batch) rows (up_: the SwiGLU up projection, llama
  // only); the last positions' rows and logits for up to batch rows; one row of a batched
  // step's attention (qkv_row_ .. att_row_) and logits (logits_row_).
  // part_: one part's product of a projection stored in parts, before it joins the rest.
  // heads_, heads_out_: one kind of head (Q or K) gathered for its RMSNorm, and normalized.
  Buffer x_, h_, qkv_, q_, att_, y_, fc_, up_, part_, heads_, heads_out_, x_last_, h_last_, logits_;
  Buffer x_row_, qkv_row_, q_row_, att_row_, y_row_, logits_row_;
  Buffer logits_share_;  // this rank's columns of the logits (tensor-parallel only)
  std::vector<float> host_logits_;
  std::int64_t batch_rows_ = 0;  // rows of logits the last batched step computed

  std::map<std::int64_t, std::unique_ptr<StepKernels>> step_kernels_;
  // The products, by (rows, N, K, bias, format).
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t, bool, WeightFormat>,
           std::unique_ptr<MatmulKernel>>
      matmuls_;
  std::map<std::pair<std::int64_t, std::int64_t>, std::unique_ptr<PositionKernels>> positioned_;
  // The final norm and the logits of `rows` last positions (1: a single sequence's step).
  std::map<std::int64_t, std::unique_ptr<LogitsKernels>> logits_kernels_;
  // Decode steps recorded for replay, by (sequence, position, logits), where the backend can
  // record; a null entry is a step run once directly and to be recorded on its next run.
  bool record_decode_steps_ = true;
  std::map<std::tuple<std::int64_t, std::int64_t, bool>, std::unique_ptr<RecordedOps>>
      decode_steps_;
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
// A KV cache in f16 or q8_0 rounds each new key and value row; the reference rounds it too, and
// a flip to a neighbouring step adds 4 r sqrt(2 layers) the same way (r = kv_rounding(format),
// core/kv_format.hpp; two rounded operands, K and V, per layer).
double logits_tolerance(const DecoderConfig& config, std::int64_t length,
                        ModelDtype dtype = WeightFormat::f32,
                        ActivationRounding activations = ActivationRounding::none,
                        WeightFormat kv_format = WeightFormat::f32);

}  // namespace aigc
