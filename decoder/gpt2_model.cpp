#include "decoder/gpt2_model.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/verify.hpp"

namespace aigc {

struct Gpt2Model::LayerBuffers {
  Buffer ln_1_weight, ln_1_bias, c_attn_weight, c_attn_bias, c_proj_weight, c_proj_bias;
  Buffer ln_2_weight, ln_2_bias, fc_weight, fc_bias, fc_proj_weight, fc_proj_bias;
  Buffer k_cache, v_cache;  // [H, max_tokens, D]
};

// Everything a step of T tokens runs, except attention (which also depends on the position).
struct Gpt2Model::StepKernels {
  std::unique_ptr<LayernormKernel> layernorm;
  std::unique_ptr<MatmulKernel> qkv, attn_proj, fc, fc_proj;
  std::unique_ptr<ElementwiseKernel> residual, gelu;
};

Gpt2Model::Gpt2Model(Backend& backend, const Gpt2Weights& w, std::int64_t max_tokens)
    : backend_(backend), config_(w.config), max_tokens_(max_tokens) {
  if (max_tokens < 1 || max_tokens > config_.n_ctx) {
    throw InvalidArgument("max-tokens", fmt::format("{} is out of range for {} (valid: 1..{})",
                                                    max_tokens, config_.name, config_.n_ctx));
  }
  const std::int64_t C = config_.n_embd, T = max_tokens;
  wte_ = backend.upload_new(w.wte);
  wpe_ = backend.upload_new(w.wpe);
  ln_f_weight_ = backend.upload_new(w.ln_f_weight);
  ln_f_bias_ = backend.upload_new(w.ln_f_bias);
  for (const Gpt2LayerWeights& l : w.layers) {
    LayerBuffers b;
    b.ln_1_weight = backend.upload_new(l.ln_1_weight);
    b.ln_1_bias = backend.upload_new(l.ln_1_bias);
    b.c_attn_weight = backend.upload_new(l.attn_c_attn_weight);
    b.c_attn_bias = backend.upload_new(l.attn_c_attn_bias);
    b.c_proj_weight = backend.upload_new(l.attn_c_proj_weight);
    b.c_proj_bias = backend.upload_new(l.attn_c_proj_bias);
    b.ln_2_weight = backend.upload_new(l.ln_2_weight);
    b.ln_2_bias = backend.upload_new(l.ln_2_bias);
    b.fc_weight = backend.upload_new(l.mlp_c_fc_weight);
    b.fc_bias = backend.upload_new(l.mlp_c_fc_bias);
    b.fc_proj_weight = backend.upload_new(l.mlp_c_proj_weight);
    b.fc_proj_bias = backend.upload_new(l.mlp_c_proj_bias);
    b.k_cache = backend.allocate(sizeof(float) * T * C);
    b.v_cache = backend.allocate(sizeof(float) * T * C);
    layers_.push_back(std::move(b));
  }
  auto floats = [&](std::int64_t n) { return backend.allocate(sizeof(float) * n); };
  x_ = floats(T * C);
  h_ = floats(T * C);
  qkv_ = floats(T * 3 * C);
  q_ = floats(T * C);
  att_ = floats(T * C);
  y_ = floats(T * C);
  fc_ = floats(T * 4 * C);
  x_last_ = floats(C);
  h_last_ = floats(C);
  logits_ = floats(config_.vocab);
  tokens_ = backend.allocate(sizeof(std::int32_t) * (T + 1));
  host_logits_.resize(config_.vocab);
  ln_f_ = backend.make_layernorm({1, C});
  logits_matmul_ = backend.make_matmul({1, config_.vocab, C, false, /*transpose_b=*/true});
}

Gpt2Model::~Gpt2Model() = default;

Gpt2Model::StepKernels& Gpt2Model::kernels_for(std::int64_t T) {
  auto& slot = step_kernels_[T];
  if (!slot) {
    const std::int64_t C = config_.n_embd;
    slot = std::make_unique<StepKernels>();
    slot->layernorm = backend_.make_layernorm({T, C});
    slot->qkv = backend_.make_matmul({T, 3 * C, C, true});
    slot->attn_proj = backend_.make_matmul({T, C, C, true});
    slot->fc = backend_.make_matmul({T, 4 * C, C, true});
    slot->fc_proj = backend_.make_matmul({T, C, 4 * C, true});
    slot->residual = backend_.make_elementwise({ElementwiseOp::add, T * C});
    slot->gelu = backend_.make_elementwise({ElementwiseOp::gelu_tanh, T * 4 * C});
  }
  return *slot;
}

AttentionKernel& Gpt2Model::attention_for(std::int64_t T, std::int64_t L) {
  auto& slot = attention_[{T, L}];
  if (!slot) {
    slot = backend_.make_attention(
        {1, config_.n_head, T, L, config_.head_dim(), /*kv_capacity=*/max_tokens_});
  }
  return *slot;
}

void Gpt2Model::prepare(std::int64_t prompt, std::int64_t steps) {
  if (prompt > 0) {
    kernels_for(prompt);
    attention_for(prompt, prompt);
  }
  if (steps > 0) kernels_for(1);
  for (std::int64_t s = 0; s < steps && prompt + s < max_tokens_; ++s) {
    attention_for(1, prompt + s + 1);
  }
}

void Gpt2Model::check_ids(std::span<const std::int32_t> ids, std::int64_t position) const {
  if (ids.empty()) throw InvalidArgument("prompt-ids", "no tokens (give at least one id)");
  const auto T = static_cast<std::int64_t>(ids.size());
  if (position + T > max_tokens_) {
    throw InvalidArgument(
        "prompt-ids",
        fmt::format("{} tokens after {} in the cache exceed its {} positions ({} has a context "
                    "of {}; prompt plus generated tokens must fit)",
                    T, position, max_tokens_, config_.name, config_.n_ctx));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= config_.vocab) {
      throw InvalidArgument("prompt-ids", fmt::format("id {} at index {} is out of range (valid: "
                                                      "0..{} for {})",
                                                      ids[i], i, config_.vocab - 1, config_.name));
    }
  }
}

void Gpt2Model::step(std::int64_t T, bool logits) {
  const std::int64_t pos0 = position_;
  const std::int64_t C = config_.n_embd, H = config_.n_head, D = config_.head_dim();
  StepKernels& k = kernels_for(T);
  AttentionKernel& attention = attention_for(T, pos0 + T);
  const HeadsShape heads{T, H, D, max_tokens_};

  // Everything from the embedding of the tokens at pos0.. to, when asked, the last position's
  // logits and their argmax as the token at pos0 + T.
  auto whole_step = [&] {
    backend_.embed(tokens_, static_cast<std::size_t>(pos0), T, pos0, C, wte_, &wpe_, x_);
    for (LayerBuffers& l : layers_) {
      // x += proj(attention(ln_1(x)))
      k.layernorm->run(x_, l.ln_1_weight, l.ln_1_bias, h_);
      k.qkv->run(h_, l.c_attn_weight, &l.c_attn_bias, qkv_);
      backend_.split_heads(heads, pos0, qkv_, q_, l.k_cache, l.v_cache);
      attention.run(q_, l.k_cache, l.v_cache, att_);
      backend_.merge_heads(heads, att_, h_);
      k.attn_proj->run(h_, l.c_proj_weight, &l.c_proj_bias, y_);
      k.residual->run(x_, &y_, x_);
      // x += fc_proj(gelu(fc(ln_2(x))))
      k.layernorm->run(x_, l.ln_2_weight, l.ln_2_bias, h_);
      k.fc->run(h_, l.fc_weight, &l.fc_bias, fc_);
      k.gelu->run(fc_, nullptr, fc_);
      k.fc_proj->run(fc_, l.fc_proj_weight, &l.fc_proj_bias, y_);
      k.residual->run(x_, &y_, x_);
    }
    if (!logits) return;
    // Only the last position's logits are needed to pick the next token.
    backend_.copy(x_, static_cast<std::size_t>((T - 1) * C), x_last_, 0,
                  static_cast<std::size_t>(C));
    ln_f_->run(x_last_, ln_f_weight_, ln_f_bias_, h_last_);
    logits_matmul_->run(h_last_, wte_, nullptr, logits_);
    backend_.argmax(logits_, config_.vocab, tokens_, static_cast<std::size_t>(pos0 + T));
  };
  // A decode step is ~150 small kernels: recorded per position (a CUDA graph on a GPU), so
  // each later step at that position is one launch. Its token comes from the token sequence
  // on the backend (written by the previous step's argmax, or uploaded), so the recording
  // holds the whole step, embedding to argmax. The first step at a position runs directly, so
  // every kernel has run (and been loaded) before it is recorded.
  const auto key = std::make_pair(pos0, logits);
  const auto recorded = decode_steps_.find(key);
  if (T == 1 && recorded != decode_steps_.end()) {
    if (!recorded->second) recorded->second = backend_.record(whole_step);
    if (recorded->second) {
      recorded->second->replay();
    } else {
      record_decode_steps_ = false;  // the backend records nothing (a CPU backend)
      decode_steps_.clear();
      whole_step();
    }
  } else {
    whole_step();
    if (T == 1 && record_decode_steps_) decode_steps_[key] = nullptr;  // seen: record next time
  }
  position_ += T;
}

std::span<const float> Gpt2Model::forward(std::span<const std::int32_t> ids, bool logits) {
  check_ids(ids, position_);
  backend_.upload_ids(tokens_, static_cast<std::size_t>(position_), ids);
  step(static_cast<std::int64_t>(ids.size()), logits);
  backend_.synchronize();
  if (!logits) return {};
  return last_logits();
}

void Gpt2Model::decode(std::int64_t steps, bool greedy) {
  if (steps < 0 || position_ + steps > max_tokens_) {
    throw InvalidArgument("gen",
                          fmt::format("{} steps after {} tokens exceed the cache's {} "
                                      "positions (valid: 0..{})",
                                      steps, position_, max_tokens_, max_tokens_ - position_));
  }
  if (steps > 0 && position_ == 0) {
    throw InvalidArgument("gen", "decode steps need a prompt first (the cache is empty)");
  }
  for (std::int64_t g = 0; g < steps; ++g) step(1, greedy);
}

void Gpt2Model::set_tokens(std::int64_t position, std::span<const std::int32_t> ids) {
  if (position < 0 || position > max_tokens_) {
    throw InvalidArgument("position",
                          fmt::format("{} is out of range (valid: 0..{})", position, max_tokens_));
  }
  check_ids(ids, position);
  backend_.upload_ids(tokens_, static_cast<std::size_t>(position), ids);
  backend_.synchronize();
}

std::vector<std::int32_t> Gpt2Model::tokens(std::int64_t from, std::int64_t count) {
  if (from < 0 || count < 0 || from + count > max_tokens_ + 1) {
    throw InvalidArgument("position", fmt::format("tokens {}..{} are out of range (valid: 0..{})",
                                                  from, from + count - 1, max_tokens_));
  }
  backend_.synchronize();
  std::vector<std::int32_t> out(static_cast<std::size_t>(count));
  backend_.download_ids(tokens_, static_cast<std::size_t>(from), out);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] < 0 || out[i] >= config_.vocab) {
      throw std::runtime_error(fmt::format(
          "the token at position {} is {}: the argmax before it saw a non-finite logit (the "
          "model computed garbage; check the weights)",
          from + std::int64_t(i), out[i]));
    }
  }
  return out;
}

std::span<const float> Gpt2Model::last_logits() {
  backend_.synchronize();
  backend_.download(logits_, host_logits_);
  return host_logits_;
}

void Gpt2Model::poison() {
  for (Buffer* b : {&x_, &h_, &qkv_, &q_, &att_, &y_, &fc_, &x_last_, &h_last_, &logits_}) {
    backend_.upload(*b, nan_filled(b->bytes() / sizeof(float)));
  }
  const std::vector<std::int32_t> unset(static_cast<std::size_t>(max_tokens_ - position_), -1);
  backend_.upload_ids(tokens_, static_cast<std::size_t>(position_ + 1), unset);
  backend_.synchronize();
  std::fill(host_logits_.begin(), host_logits_.end(), std::nanf(""));
}

void Gpt2Model::rewind(std::int64_t position) {
  if (position < 0 || position > position_) {
    throw InvalidArgument("position",
                          fmt::format("{} is out of range (valid: 0..{})", position, position_));
  }
  position_ = position;
}

std::int32_t argmax(std::span<const float> logits, std::int64_t step) {
  // One pass that finds the maximum and checks every value (a NaN compares false and would
  // otherwise lose to everything, picking token 0 for ever).
  std::size_t best = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    if (!std::isfinite(logits[i])) {
      throw std::runtime_error(fmt::format(
          "non-finite logit {} at index {} in {}: the model computed garbage (check the weights)",
          logits[i], i,
          step == 0 ? std::string("the prompt's step") : fmt::format("decode step {}", step)));
    }
    if (logits[i] > logits[best]) best = i;
  }
  return static_cast<std::int32_t>(best);
}

// Each op's float32 reduction of n terms has a relative error within gamma_n of the scale it
// sums (Higham, ch. 3); along the longest dependency path through a layer the lengths are:
// layernorm 2C + 8 (mean, variance, rstd, affine), QKV projection C + 1, attention
// D + 2(L + 1) + 16 (scores, softmax sum, weighted V, exp), output projection C + 1, layernorm
// 2C + 8, MLP up C + 1, GELU 16, MLP down 4C + 1; then the final layernorm 2C + 8 and the
// logits C + 1. Errors relative to each op's scale compose additively to first order; the
// layernorms keep activations at unit scale, so no op amplifies an incoming relative error
// by much, and rounding errors that grow like sqrt(n) u in practice leave the linear-in-n
// bound a wide margin for what amplification there is.
double gpt2_logits_tolerance(const Gpt2Config& c, std::int64_t length) {
  const double C = double(c.n_embd), D = double(c.head_dim()), L = double(length);
  const double per_layer = (2 * C + 8) + (C + 1) + (D + 2 * (L + 1) + 16) + (C + 1) + (2 * C + 8) +
                           (C + 1) + 16 + (4 * C + 1);
  const double n = double(c.n_layer) * per_layer + (2 * C + 8) + (C + 1);
  return fp32_gamma(n);
}

}  // namespace aigc
