#pragma once
// The decoder workload: GPT-2 on one backend, seeded random weights, greedy sampling.
// Shapes: "cfg=gpt2-124m,prompt=256" is the prefill phase, timed as the time to first token
// (the prompt's forward, its last logits, the argmax); "cfg=gpt2-124m,prompt=128,gen=64" is
// the decode phase, timed over 64 single-token steps against the KV cache the prompt filled
// (filled once, untimed). Optional keys: layers=N (the first N blocks) and logits=0 (stop
// after the last block, feeding fixed tokens): together they make the serial model's unit,
// one layer for one token step.
#include "decoder/gpt2_config.hpp"
#include "workloads/workload.hpp"

namespace aigc {

struct DecoderShape {
  Gpt2Config config;  // n_layer already cut to `layers`
  std::int64_t prompt = 1, gen = 0;
  bool logits = true;
};

// Throws InvalidArgument naming `shapes` (or `config` for an unknown model name).
DecoderShape parse_decoder_shape(const std::string& text);
std::string format_decoder_shape(const DecoderShape& s);

class DecoderWorkload final : public Workload {
 public:
  std::string name() const override { return "decoder"; }
  std::vector<std::string> preset_shapes(Preset preset) const override;
  std::string canonical_shape(const std::string& text) const override;
  std::string phase(const std::string& shape) const override;
  WorkCounts counts(const std::string& shape) const override;
  std::vector<Op> ops(const std::string&) const override {
    return {Op::matmul, Op::attention, Op::layernorm, Op::elementwise};
  }
  std::string unit_shape(const std::string& shape) const override;
  std::unique_ptr<WorkloadCase> make_case(Backend& backend,
                                          const std::string& shape) const override;
};

}  // namespace aigc
