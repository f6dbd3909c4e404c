#pragma once
// The decoder workload: a named model (GPT-2 sizes with seeded random weights; SmolLM2-135M,
// Qwen2.5-Coder-0.5B and Gemma 3 270M from their GGUF files: decoder/known_models) on one
// backend, greedy sampling.
// Shapes: "cfg=gpt2-124m,prompt=256" (or model=...) is the prefill phase, timed as the time to
// first token (the prompt's forward, its last logits, the argmax);
// "cfg=gpt2-124m,prompt=128,gen=64" is the decode phase, timed over 64 single-token steps against
// the KV cache the prompt filled (filled once, untimed). Optional keys: dtype=file|<format> (how
// the weights are stored: each matrix as the model's file stores it, the default for a model with a
// file, whose shape text always names its dtype; or one format, f32 by default for random weights),
// layers=N (the first N blocks) and logits=0 (stop after the last block, feeding fixed tokens):
// together they make the serial model's unit, one layer for one token step; batch=B (decode rows)
// runs B sequences, each with its own prompt and KV cache, every step of all B together (one [B, C]
// GEMM per projection); tp=P splits the model over the P ranks of an mpirun (Megatron-style tensor
// parallelism: decoder/tensor_parallel.hpp), each rank on the run's backend with its own threads.
#include <optional>

#include "decoder/config.hpp"
#include "decoder/stored_weights.hpp"
#include "workloads/workload.hpp"

namespace aigc {

struct DecoderShape {
  DecoderConfig config;  // n_layer already cut to `layers`
  std::int64_t prompt = 1, gen = 0;
  // depth=: tokens already in each sequence's cache before the prompt (llama-bench's -d),
  // filled untimed; the prompt's prefill, or the decode steps after it, are what is timed.
  std::int64_t depth = 0;
  std::int64_t batch = 1;  // sequences decoded together
  bool logits = true;
  // dtype=: how the projections and the output matrix are stored (decoder/stored_weights):
  // a format, or `file` (the default for a model read from a file, refused for random weights).
  ModelDtype dtype = WeightFormat::f32;
  // kv=: how the KV caches store keys and values (core/kv_format.hpp: f32, f16, q8_0;
  // llama-bench's -ctk/-ctv, both at once).
  WeightFormat kv_format = WeightFormat::f32;
  int tp = 1;  // tensor-parallel ranks
};

// The ops a model of this architecture runs.
std::vector<Op> decoder_ops(const DecoderConfig& config);

// What the shape's weight format costs a real model (one whose file has a tokenizer:
// smollm2-135m; none for random weights, whose perplexity means nothing): perplexity on the
// evaluation text (decoder/accuracy: the Declaration of Independence, every token), the f32
// model's, and the fraction of 64 greedy tokens after the text's first 32 that equal the f32
// model's. Measured on `backend` once per (model, format, backend) in a process.
struct DecoderAccuracy {
  double perplexity = 0, perplexity_f32 = 0, greedy_agreement = 0;
  std::int64_t text_tokens = 0;
};
std::optional<DecoderAccuracy> decoder_accuracy(const DecoderShape& shape, Backend& backend);

// Throws InvalidArgument naming `shapes` (or `config` for an unknown model name).
DecoderShape parse_decoder_shape(const std::string& text);
std::string format_decoder_shape(const DecoderShape& s);

class DecoderWorkload final : public Workload {
 public:
  std::string name() const override { return "decoder"; }
  std::vector<std::string> preset_shapes(Preset preset) const override;
  Shape parse(const std::string& text) const override;
  std::string phase(const Shape& shape) const override;
  WorkCounts counts(const Shape& shape) const override;
  std::vector<Op> ops(const Shape& shape) const override;
  std::vector<WeightFormat> weight_formats(const Shape& shape) const override;
  std::string stored_dtype(const Shape& shape) const override;
  Shape with_f32_weights(const Shape& shape) const override;
  std::int64_t batch(const Shape& shape) const override;
  Shape with_batch(const Shape& shape, std::int64_t batch) const override;
  int ranks(const Shape& shape) const override;
  Shape with_ranks(const Shape& shape, int ranks) const override;
  Shape unit_shape(const Shape& shape) const override;
  std::unique_ptr<WorkloadCase> make_case(Backend& backend, const Shape& shape) const override;
  // A DecoderShape as a Shape (its canonical text beside it).
  static Shape shape_of(const DecoderShape& s);
};

}  // namespace aigc
