#include "decoder/model.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "core/machine.hpp"
#include "core/verify.hpp"
#include "decoder/stored_weights.hpp"

namespace aigc {

struct DecoderModel::LayerBuffers {
  Buffer attn_norm, attn_norm_bias, mlp_norm, mlp_norm_bias;  // biases empty where absent
  Buffer q_norm, k_norm, post_attn_norm, post_mlp_norm;       // empty where absent
  Projection qkv, attn_out, up, gate, down;
};

// Everything a step of T tokens runs but attention and rope (which depend on the position) and
// the products (matmul_for: their formats may differ from layer to layer).
struct DecoderModel::StepKernels {
  std::unique_ptr<LayernormKernel> layernorm;               // layernorm
  std::unique_ptr<RmsnormKernel> rmsnorm;                   // rmsnorm
  std::unique_ptr<ElementwiseKernel> residual, activation;  // GELU, or a gated MLP's product
  std::unique_ptr<RmsnormKernel> q_norm, k_norm;            // each Q and K head (qk_norm)
  std::unique_ptr<RmsnormKernel> post_norm;                 // post_norms: [T, C]
};

// By the layer's kind: [0] global, [1] local (a sliding window and its rope base; built only
// for a model with local layers).
struct DecoderModel::PositionKernels {
  std::unique_ptr<AttentionKernel> attention[2];
  std::unique_ptr<RopeKernel> rope[2];  // rope only
  AttentionKernel& attention_of(const DecoderConfig& c, std::size_t layer) {
    return *attention[c.is_local(std::int64_t(layer)) ? 1 : 0];
  }
  RopeKernel* rope_of(const DecoderConfig& c, std::size_t layer) {
    return rope[c.is_local(std::int64_t(layer)) ? 1 : 0].get();
  }
};

struct DecoderModel::LogitsKernels {
  std::unique_ptr<LayernormKernel> layernorm;  // layernorm
  std::unique_ptr<RmsnormKernel> rmsnorm;      // rmsnorm
  std::unique_ptr<MatmulKernel> logits;
};

namespace {

// A buffer the architecture has, or null for an empty one (a bias or table it lacks).
Buffer* optional_buffer(Buffer& b) { return b.bytes() > 0 ? &b : nullptr; }
const Buffer* optional_buffer(const Buffer& b) { return b.bytes() > 0 ? &b : nullptr; }

// A weight uploaded, or an empty buffer for one the architecture lacks.
Buffer upload_or_empty(Backend& backend, const std::vector<float>& host) {
  return host.empty() ? Buffer() : backend.upload_new(host);
}

}  // namespace

DecoderModel::DecoderModel(Backend& backend, const DecoderWeights& whole, std::int64_t max_tokens,
                           ModelDtype dtype, std::int64_t batch, TensorGroup* group,
                           WeightFormat kv_format)
    : backend_(backend),
      config_(whole.config),
      group_(group != nullptr && group->ranks() > 1 ? group : nullptr),
      dtype_(dtype),
      kv_format_(kv_format),
      max_tokens_(max_tokens) {
  check_arguments(whole, batch);
  share_ =
      group_ ? tensor_share(config_, group_->rank(), group_->ranks()) : tensor_share(config_, 0, 1);
  // A tensor-parallel step is not recorded (a CUDA graph with NCCL's collectives inside is
  // not built): each step runs its kernels and collectives directly.
  if (group_) record_decode_steps_ = false;
  // One cache of one layer: this rank's KV heads, max_tokens rows each, in the KV format.
  const std::int64_t cache =
      kv_cache_bytes(kv_format_, share_.kv_heads * max_tokens, config_.head_dim());
  // The KV caches grow with the batch: refused here, before anything is allocated, when they
  // cannot fit (a GPU backend's allocation refuses them by itself, naming the bytes).
  const double cache_bytes = double(batch) * double(config_.n_layer) * 2.0 * double(cache);
  if (backend.compute_class() != ComputeClass::gpu) {
    require_memory(cache_bytes, fmt::format("the KV caches of batch={} ({} layers x 2 x {} "
                                            "positions of {} KV heads in {})",
                                            batch, config_.n_layer, max_tokens, share_.kv_heads,
                                            weight_format_name(kv_format_)));
  }
  // This rank's share of the weights (the whole model in one process).
  if (group_) {
    upload_weights(share_weights(whole, share_));
  } else {
    upload_weights(whole);
  }
  allocate_sequences(batch, cache);
  allocate_activations(batch);
  host_logits_.resize(config_.vocab);
  logits_kernels_for(1);
}

void DecoderModel::check_arguments(const DecoderWeights& whole, std::int64_t batch) const {
  if (max_tokens_ < 1 || max_tokens_ > config_.n_ctx) {
    throw InvalidArgument("max-tokens", fmt::format("{} is out of range for {} (valid: 1..{})",
                                                    max_tokens_, config_.name, config_.n_ctx));
  }
  if (batch < 1 || batch > kMaxBatch) {
    throw InvalidArgument("batch",
                          fmt::format("{} is out of range (valid: 1..{})", batch, kMaxBatch));
  }
  config_.validate(config_.name);
  whole.check_sizes();
  require_format_fits(config_, dtype_);
  const BackendDescriptor& d = backend_.descriptor();
  for (const WeightFormat f : formats_of(whole, dtype_)) {
    if (!d.takes(f)) throw UnsupportedOp(d.lacks(f));
  }
  if (group_ && !dtype_.is_f32()) {
    throw InvalidArgument("dtype", fmt::format("{} with tp={}: a tensor-parallel model takes f32 "
                                               "weights (a share of stored blocks is not built)",
                                               dtype_.name(), group_->ranks()));
  }
  if (group_ && group_->on_device() != (backend_.compute_class() == ComputeClass::gpu)) {
    throw std::invalid_argument(fmt::format("a tensor-parallel group on {} memory for backend {}",
                                            group_->on_device() ? "device" : "host", d.name));
  }
  // A KV format the head size fits, and one the backend's attention reads (UnsupportedOp).
  kv_row_bytes(kv_format_, config_.head_dim(), "kv");
  if (kv_format_ != WeightFormat::f32) {
    backend_.make_kernel(AttentionShape{.H = config_.n_head,
                                        .D = config_.head_dim(),
                                        .kv_heads = config_.kv_heads(),
                                        .kv_format = kv_format_});
  }
}

void DecoderModel::upload_weights(const DecoderWeights& w) {
  Backend& backend = backend_;
  const std::int64_t C = config_.n_embd, F = share_.ff;
  // A projection of `in` inputs and `out` outputs as the matmuls read it: [out, in] rows in the
  // dtype (the file's own bytes where it stores them so), fp32 ones included: a decode step's
  // matrix-vector product then streams each row of weights in order, one contiguous pass per
  // thread (an [in, out] matrix is read in strided column chunks, which these VMs' prefetchers
  // follow poorly: GPT-2's fp32 decode at 2 threads reached 56% of the bandwidth roofline).
  auto projection = [&](const std::string& name, const std::vector<float>& host,
                        const std::vector<float>& bias, std::int64_t in, std::int64_t out) {
    Projection p{{}, in, out};
    if (host.empty()) return p;
    if (dtype_.is_f32() && w.transposed) {
      p.parts.push_back({backend.upload_new(host), upload_or_empty(backend, bias), out});
      return p;
    }
    std::int64_t row = 0;
    for (StoredPart& part : matrix_parts(w, name, host, in, out, w.transposed, dtype_)) {
      const std::vector<float> part_bias =
          bias.empty() ? bias
                       : std::vector<float>(bias.begin() + row, bias.begin() + row + part.rows);
      p.parts.push_back({backend.upload_weights(part.bytes), upload_or_empty(backend, part_bias),
                         part.rows, part.format});
      row += part.rows;
    }
    if (p.parts.size() > 1) {
      for (const Projection::Part& part : p.parts) split_width_ = std::max(split_width_, part.rows);
    }
    return p;
  };
  token_embedding_ = backend.upload_new(w.token_embedding);
  position_embedding_ = upload_or_empty(backend, w.position_embedding);
  final_norm_ = backend.upload_new(w.final_norm);
  final_norm_bias_ = upload_or_empty(backend, w.final_norm_bias);
  // Stored, the output matrix is its own copy even when tied: the embedding lookup gathers
  // fp32 rows, the logits stream the stored ones. It is [vocab, C] in every layout: its rows
  // are already [out, in].
  const std::vector<StoredPart> output =
      dtype_.is_f32() ? std::vector<StoredPart>{}
                      : matrix_parts(w, "output", w.output_matrix(), C, share_.vocab_rows,
                                     /*transposed=*/true, dtype_);
  output_format_ = output.empty() ? WeightFormat::f32 : output.front().format;
  if (output_format_ == WeightFormat::f32) {
    output_ = upload_or_empty(backend, w.output);
  } else {
    output_ = backend.upload_weights(output.front().bytes);
  }
  const std::int64_t Q = share_.qkv_width(), A = share_.attention_width();
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    auto name = [i](const char* matrix) { return stored_name(i, matrix); };
    LayerBuffers b;
    b.attn_norm = backend.upload_new(l.attn_norm);
    b.attn_norm_bias = upload_or_empty(backend, l.attn_norm_bias);
    b.qkv = projection(name("qkv"), l.qkv, l.qkv_bias, C, Q);
    b.attn_out = projection(name("attn_out"), l.attn_out, l.attn_out_bias, A, C);
    b.mlp_norm = backend.upload_new(l.mlp_norm);
    b.q_norm = upload_or_empty(backend, l.q_norm);
    b.k_norm = upload_or_empty(backend, l.k_norm);
    b.post_attn_norm = upload_or_empty(backend, l.post_attn_norm);
    b.post_mlp_norm = upload_or_empty(backend, l.post_mlp_norm);
    b.mlp_norm_bias = upload_or_empty(backend, l.mlp_norm_bias);
    b.up = projection(name("up"), l.up, l.up_bias, C, F);
    b.gate = projection(name("gate"), l.gate, {}, C, F);
    b.down = projection(name("down"), l.down, l.down_bias, F, C);
    layers_.push_back(std::move(b));
  }
}

void DecoderModel::allocate_sequences(std::int64_t batch, std::int64_t cache_bytes) {
  sequences_.resize(static_cast<std::size_t>(batch));
  for (Sequence& s : sequences_) {
    for (std::int64_t i = 0; i < config_.n_layer; ++i) {
      s.k_cache.push_back(backend_.allocate(static_cast<std::size_t>(cache_bytes)));
      s.v_cache.push_back(backend_.allocate(static_cast<std::size_t>(cache_bytes)));
    }
    s.tokens = backend_.allocate(sizeof(std::int32_t) * (max_tokens_ + 1));
  }
}

// Activation rows: a prompt's tokens, or one token of each sequence of a batched step.
void DecoderModel::allocate_activations(std::int64_t batch) {
  const std::int64_t T = std::max(max_tokens_, batch), C = config_.n_embd, F = share_.ff;
  const std::int64_t Q = share_.qkv_width(), A = share_.attention_width();
  auto floats = [&](std::int64_t n) { return backend_.allocate(sizeof(float) * n); };
  x_ = floats(T * C);
  h_ = floats(T * std::max(C, A));  // a norm's output, or the heads merged
  qkv_ = floats(T * Q);
  q_ = floats(T * A);
  att_ = floats(T * A);
  if (config_.qk_norm) {
    heads_ = floats(T * A);  // the query heads (the most of either kind)
    heads_out_ = floats(T * A);
  }
  y_ = floats(T * C);
  fc_ = floats(T * F);
  if (config_.gated_mlp()) up_ = floats(T * F);
  if (split_width_ > 0) part_ = floats(T * split_width_);
  x_last_ = floats(batch * C);
  h_last_ = floats(batch * C);
  logits_ = floats(batch * config_.vocab);
  if (group_) logits_share_ = floats(batch * share_.vocab_rows);
  x_row_ = floats(C);
  qkv_row_ = floats(Q);
  q_row_ = floats(A);
  att_row_ = floats(A);
  y_row_ = floats(A);
  logits_row_ = floats(config_.vocab);
}

DecoderModel::~DecoderModel() = default;

DecoderModel::StepKernels& DecoderModel::kernels_for(std::int64_t T) {
  auto& slot = step_kernels_[T];
  if (!slot) {
    const std::int64_t C = config_.n_embd, F = share_.ff;
    slot = std::make_unique<StepKernels>();
    if (config_.rmsnorm()) {
      slot->rmsnorm = backend_.make_kernel(RmsnormShape{T, C, config_.norm_eps});
    } else {
      slot->layernorm = backend_.make_kernel(LayernormShape{T, C, config_.norm_eps});
    }
    slot->residual = backend_.make_kernel(ElementwiseShape{ElementwiseOp::add, T * C});
    const ElementwiseOp activation = config_.mlp == Mlp::swiglu  ? ElementwiseOp::silu_mul
                                     : config_.mlp == Mlp::geglu ? ElementwiseOp::gelu_tanh_mul
                                                                 : ElementwiseOp::gelu_tanh;
    slot->activation = backend_.make_kernel(ElementwiseShape{activation, T * F});
    if (config_.post_norms)
      slot->post_norm = backend_.make_kernel(RmsnormShape{T, C, config_.norm_eps});
    if (config_.qk_norm) {
      const std::int64_t D = config_.head_dim();
      slot->q_norm = backend_.make_kernel(RmsnormShape{T * share_.heads, D, config_.norm_eps});
      slot->k_norm = backend_.make_kernel(RmsnormShape{T * share_.kv_heads, D, config_.norm_eps});
    }
    // The products of every layer at T rows (built here, so a timed step builds none).
    for (const LayerBuffers& l : layers_) {
      for (const Projection* p : {&l.qkv, &l.attn_out, &l.up, &l.gate, &l.down}) {
        for (const Projection::Part& part : p->parts) matmul_for(T, *p, part);
      }
    }
  }
  return *slot;
}

MatmulKernel& DecoderModel::matmul_for(std::int64_t rows, const Projection& p,
                                       const Projection::Part& part) {
  // Every projection is uploaded [out, in] (upload_weights): B transposed.
  const MatmulShape shape{rows, part.rows, p.in, part.bias.bytes() > 0, true, part.format};
  auto& slot = matmuls_[{shape.M, shape.N, shape.K, shape.bias, shape.b_format}];
  if (!slot) slot = backend_.make_kernel(shape);
  return *slot;
}

// out [rows, p.out] = in [rows, p.in] . p^T (+ bias): one product, or one per part, each into
// its columns of out.
void DecoderModel::project(const Projection& p, const Buffer& in, Buffer& out, std::int64_t rows) {
  if (p.parts.size() == 1) {
    const Projection::Part& part = p.parts.front();
    matmul_for(rows, p, part).run(in, part.weight, optional_buffer(part.bias), out);
    return;
  }
  std::int64_t column = 0;
  for (const Projection::Part& part : p.parts) {
    matmul_for(rows, p, part).run(in, part.weight, optional_buffer(part.bias), part_);
    backend_.moves().copy_rows(part_, out,
                               {.rows = std::size_t(rows),
                                .count = std::size_t(part.rows),
                                .src_stride = std::size_t(part.rows),
                                .dst_offset = std::size_t(column),
                                .dst_stride = std::size_t(p.out)});
    column += part.rows;
  }
}

DecoderModel::LogitsKernels& DecoderModel::logits_kernels_for(std::int64_t rows) {
  auto& slot = logits_kernels_[rows];
  if (!slot) {
    const std::int64_t C = config_.n_embd;
    slot = std::make_unique<LogitsKernels>();
    if (config_.rmsnorm()) {
      slot->rmsnorm = backend_.make_kernel(RmsnormShape{rows, C, config_.norm_eps});
    } else {
      slot->layernorm = backend_.make_kernel(LayernormShape{rows, C, config_.norm_eps});
    }
    // The output matrix is [vocab, C] in every layout (the token embedding, or GGUF's output).
    slot->logits = backend_.make_kernel(MatmulShape{rows, share_.vocab_rows, C, false,
                                                    /*transpose_b=*/true, output_format_});
  }
  return *slot;
}

DecoderModel::PositionKernels& DecoderModel::position_kernels_for(std::int64_t T, std::int64_t L) {
  auto& slot = positioned_[{T, L}];
  if (!slot) {
    slot = std::make_unique<PositionKernels>();
    for (const bool local : {false, true}) {
      if (local && config_.sliding_window == 0) break;
      slot->attention[local] =
          backend_.make_kernel(AttentionShape{.B = 1,
                                              .H = share_.heads,
                                              .S = T,
                                              .L = L,
                                              .D = config_.head_dim(),
                                              .kv_capacity = max_tokens_,
                                              .kv_heads = share_.kv_heads,
                                              .window = local ? config_.sliding_window : 0,
                                              .kv_format = kv_format_});
      if (!config_.rope()) continue;
      // Q's and K's heads of each token's fused QKV row turn; V's stay.
      slot->rope[local] = backend_.make_kernel(
          RopeShape{.tokens = T,
                    .heads = share_.heads + share_.kv_heads,
                    .head_dim = config_.head_dim(),
                    .row_heads = share_.heads + 2 * share_.kv_heads,
                    .pos0 = L - T,
                    .base = local ? config_.rope_base_local : config_.rope_base});
    }
  }
  return *slot;
}

void DecoderModel::prepare(std::int64_t prompt, std::int64_t steps, std::int64_t rows,
                           std::int64_t depth) {
  if (prompt > 0) {
    kernels_for(prompt);
    position_kernels_for(prompt, depth + prompt);
  }
  if (steps > 0) {
    kernels_for(rows);
    logits_kernels_for(rows);
  }
  for (std::int64_t s = 0; s < steps && depth + prompt + s < max_tokens_; ++s) {
    position_kernels_for(1, depth + prompt + s + 1);
  }
}

DecoderModel::CachedRows DecoderModel::cached_rows(std::int64_t layer, std::int64_t count,
                                                   std::int64_t s) {
  const Sequence& seq = sequence(s);
  if (group_ != nullptr) {
    throw UnsupportedOp(
        "the cached keys and values of a tensor-parallel model (each rank "
        "holds a share of the heads)");
  }
  if (layer < 0 || layer >= config_.n_layer || count < 0 || count > seq.position) {
    throw InvalidArgument("position",
                          fmt::format("layer {} positions 0..{} are out of range "
                                      "(valid: layers 0..{}, positions 0..{})",
                                      layer, count - 1, config_.n_layer - 1, seq.position - 1));
  }
  const std::int64_t heads = config_.kv_heads(), D = config_.head_dim();
  const std::int64_t row = kv_row_bytes(kv_format_, D);
  const auto cache_floats =
      static_cast<std::size_t>(kv_cache_bytes(kv_format_, heads * max_tokens_, D) / 4);
  std::vector<float> k(cache_floats), v(cache_floats);
  backend_.synchronize();
  backend_.download(seq.k_cache[static_cast<std::size_t>(layer)], k);
  backend_.download(seq.v_cache[static_cast<std::size_t>(layer)], v);
  // [Hkv, max_tokens] rows in the KV format -> [count, Hkv D] floats
  CachedRows rows{std::vector<float>(static_cast<std::size_t>(count * heads * D)),
                  std::vector<float>(static_cast<std::size_t>(count * heads * D))};
  const auto* kb = reinterpret_cast<const std::uint8_t*>(k.data());
  const auto* vb = reinterpret_cast<const std::uint8_t*>(v.data());
  for (std::int64_t t = 0; t < count; ++t) {
    for (std::int64_t h = 0; h < heads; ++h) {
      const auto from = (h * max_tokens_ + t) * row, to = (t * heads + h) * D;
      load_kv_row(kv_format_, kb + from, D, rows.keys.data() + to);
      load_kv_row(kv_format_, vb + from, D, rows.values.data() + to);
    }
  }
  return rows;
}

void DecoderModel::norm(std::unique_ptr<LayernormKernel>& layernorm,
                        std::unique_ptr<RmsnormKernel>& rmsnorm, const Buffer& x,
                        const Buffer& gain, const Buffer* bias, Buffer& y) {
  if (rmsnorm) {
    rmsnorm->run(x, gain, y);
  } else {
    layernorm->run(x, gain, *bias, y);
  }
}

void DecoderModel::check_ids(std::span<const std::int32_t> ids, std::int64_t position) const {
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

const DecoderModel::Sequence& DecoderModel::sequence(std::int64_t index,
                                                     const char* argument) const {
  if (index < 0 || index >= batch()) {
    throw InvalidArgument(
        argument, fmt::format("sequence {} is out of range (valid: 0..{})", index, batch() - 1));
  }
  return sequences_[static_cast<std::size_t>(index)];
}

std::int64_t DecoderModel::position(std::int64_t index) const { return sequence(index).position; }

// A layer after its attention (merged heads in h_), for every row of x_ the kernels take:
//   x += out(h);   x += down(gelu(up(norm(x))))   or, SwiGLU:   x += down(silu(gate(h)) * up(h))
// RMSNorm of each Q and K head of qkv's `rows` rows, where the family has it: each kind
// gathered into heads_ (rows of D), normalized into heads_out_, put back.
void DecoderModel::normalize_heads(StepKernels& k, LayerBuffers& l, Buffer& qkv,
                                   std::int64_t rows) {
  if (!k.q_norm) return;
  const std::int64_t D = config_.head_dim(), Q = share_.qkv_width();
  const auto R = std::size_t(rows);
  for (const bool keys : {false, true}) {
    const std::int64_t first = keys ? share_.heads * D : 0;
    const auto width = std::size_t((keys ? share_.kv_heads : share_.heads) * D);
    backend_.moves().copy_rows(qkv, heads_,
                               {.rows = R,
                                .count = width,
                                .src_offset = std::size_t(first),
                                .src_stride = std::size_t(Q),
                                .dst_stride = width});
    (keys ? k.k_norm : k.q_norm)->run(heads_, keys ? l.k_norm : l.q_norm, heads_out_);
    backend_.moves().copy_rows(heads_out_, qkv,
                               {.rows = R,
                                .count = width,
                                .src_stride = width,
                                .dst_offset = std::size_t(first),
                                .dst_stride = std::size_t(Q)});
  }
}

void DecoderModel::layer_tail(StepKernels& k, LayerBuffers& l, std::int64_t rows) {
  project(l.attn_out, h_, y_, rows);
  sum_over_ranks(y_, rows);
  if (k.post_norm) {  // norm(attention's output) before the residual add, into h_ (consumed)
    k.post_norm->run(y_, l.post_attn_norm, h_);
    k.residual->run(x_, &h_, x_);
  } else {
    k.residual->run(x_, &y_, x_);
  }
  norm(k.layernorm, k.rmsnorm, x_, l.mlp_norm, optional_buffer(l.mlp_norm_bias), h_);
  if (config_.gated_mlp()) {
    project(l.gate, h_, fc_, rows);
    project(l.up, h_, up_, rows);
    k.activation->run(fc_, &up_, fc_);
  } else {
    project(l.up, h_, fc_, rows);
    k.activation->run(fc_, nullptr, fc_);
  }
  project(l.down, fc_, y_, rows);
  sum_over_ranks(y_, rows);
  if (k.post_norm) {
    k.post_norm->run(y_, l.post_mlp_norm, h_);
    k.residual->run(x_, &h_, x_);
  } else {
    k.residual->run(x_, &y_, x_);
  }
}

void DecoderModel::sum_over_ranks(Buffer& x, std::int64_t rows) {
  if (group_) group_->allreduce_sum(x, static_cast<std::size_t>(rows * config_.n_embd));
}

void DecoderModel::compute_logits(const Buffer& x, std::int64_t rows) {
  LogitsKernels& out = logits_kernels_for(rows);
  norm(out.layernorm, out.rmsnorm, x, final_norm_, optional_buffer(final_norm_bias_), h_last_);
  if (!group_) {
    out.logits->run(h_last_, output_matrix(), nullptr, logits_);
    return;
  }
  out.logits->run(h_last_, output_matrix(), nullptr, logits_share_);
  group_->allgather_columns(logits_share_, rows, share_.vocab_widths, logits_);
}

void DecoderModel::step(std::int64_t T, bool logits, std::int64_t s) {
  Sequence& seq = sequences_[static_cast<std::size_t>(s)];
  const std::int64_t pos0 = seq.position;
  const std::int64_t C = config_.n_embd, D = config_.head_dim();
  StepKernels& k = kernels_for(T);
  PositionKernels& positioned = position_kernels_for(T, pos0 + T);
  const HeadsShape heads{.tokens = T,
                         .heads = share_.heads,
                         .head_dim = D,
                         .capacity = max_tokens_,
                         .kv_heads = share_.kv_heads,
                         .kv_format = kv_format_};
  const VocabRows vocab_rows{.begin = share_.vocab_begin, .vocab = config_.vocab};

  // Everything from the embedding of the tokens at pos0.. to, when asked, the last position's
  // logits and their argmax as the token at pos0 + T.
  auto whole_step = [&] {
    backend_.moves().embed(seq.tokens, static_cast<std::size_t>(pos0), T, pos0, C, token_embedding_,
                           optional_buffer(position_embedding_), x_, vocab_rows,
                           config_.embedding_scale());
    sum_over_ranks(x_, T);
    for (std::size_t i = 0; i < layers_.size(); ++i) {
      LayerBuffers& l = layers_[i];
      // x += out(attention(rope(qkv(norm(x)))))
      norm(k.layernorm, k.rmsnorm, x_, l.attn_norm, optional_buffer(l.attn_norm_bias), h_);
      project(l.qkv, h_, qkv_, T);
      normalize_heads(k, l, qkv_, T);
      if (RopeKernel* rope = positioned.rope_of(config_, i)) rope->run(qkv_);
      backend_.moves().split_heads(heads, pos0, qkv_, q_, seq.k_cache[i], seq.v_cache[i]);
      positioned.attention_of(config_, i).run(q_, seq.k_cache[i], seq.v_cache[i], att_);
      backend_.moves().merge_heads(heads, att_, h_);
      layer_tail(k, l, T);
    }
    if (!logits) return;
    // Only the last position's logits are needed to pick the next token.
    backend_.moves().copy(x_, static_cast<std::size_t>((T - 1) * C), x_last_, 0,
                          static_cast<std::size_t>(C));
    compute_logits(x_last_, 1);
    backend_.moves().argmax(logits_, 0, config_.vocab, seq.tokens,
                            static_cast<std::size_t>(pos0 + T));
  };
  // A decode step is ~150 small kernels: recorded per position (a CUDA graph on a GPU), so
  // each later step at that position is one launch. Its token comes from the token sequence
  // on the backend (written by the previous step's argmax, or uploaded), so the recording
  // holds the whole step, embedding to argmax. The first step at a position runs directly, so
  // every kernel has run (and been loaded) before it is recorded.
  const auto key = std::make_tuple(s, pos0, logits);
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
  seq.position += T;
}

const Buffer& DecoderModel::output_matrix() const {
  const bool tied = config_.tied_output && output_format_ == WeightFormat::f32;
  return tied ? token_embedding_ : output_;
}

void DecoderModel::step_batch(std::span<const std::int64_t> active, bool logits) {
  const std::int64_t B = static_cast<std::int64_t>(active.size());
  const std::int64_t C = config_.n_embd, V = config_.vocab, D = config_.head_dim();
  const std::int64_t Q = share_.qkv_width(), A = share_.attention_width();
  StepKernels& k = kernels_for(B);
  const HeadsShape one{.tokens = 1,
                       .heads = share_.heads,
                       .head_dim = D,
                       .capacity = max_tokens_,
                       .kv_heads = share_.kv_heads,
                       .kv_format = kv_format_};
  auto row = [](std::int64_t r, std::int64_t width) { return static_cast<std::size_t>(r * width); };
  const auto C_ = static_cast<std::size_t>(C);
  // Where the backend takes the whole batch's attention in one call (see Backend).
  const bool batched_attention = backend_.descriptor().decode_batch_attention;
  std::vector<std::int64_t> positions(static_cast<std::size_t>(B));
  std::vector<Buffer*> k_caches(static_cast<std::size_t>(B)), v_caches(static_cast<std::size_t>(B));
  for (std::int64_t r = 0; r < B; ++r) {
    positions[static_cast<std::size_t>(r)] =
        sequences_[static_cast<std::size_t>(active[r])].position;
  }

  // Row r of x_: sequence active[r]'s token at its position.
  for (std::int64_t r = 0; r < B; ++r) {
    Sequence& seq = sequences_[static_cast<std::size_t>(active[r])];
    backend_.moves().embed(seq.tokens, static_cast<std::size_t>(seq.position), 1, seq.position, C,
                           token_embedding_, optional_buffer(position_embedding_), x_row_,
                           {.begin = share_.vocab_begin, .vocab = V}, config_.embedding_scale());
    backend_.moves().copy(x_row_, 0, x_, row(r, C), C_);
  }
  sum_over_ranks(x_, B);
  for (std::size_t i = 0; i < layers_.size(); ++i) {
    LayerBuffers& l = layers_[i];
    norm(k.layernorm, k.rmsnorm, x_, l.attn_norm, optional_buffer(l.attn_norm_bias), h_);
    project(l.qkv, h_, qkv_, B);
    normalize_heads(k, l, qkv_, B);
    // Each sequence's query against its own cache, at its own position.
    if (batched_attention) {
      for (std::int64_t r = 0; r < B; ++r) {
        Sequence& seq = sequences_[static_cast<std::size_t>(active[r])];
        k_caches[static_cast<std::size_t>(r)] = &seq.k_cache[i];
        v_caches[static_cast<std::size_t>(r)] = &seq.v_cache[i];
        // Rope turns each row at its own position (a kernel per position, on a copy).
        RopeKernel* rope = position_kernels_for(1, seq.position + 1).rope_of(config_, i);
        if (rope == nullptr) continue;
        backend_.moves().copy(qkv_, row(r, Q), qkv_row_, 0, static_cast<std::size_t>(Q));
        rope->run(qkv_row_);
        backend_.moves().copy(qkv_row_, 0, qkv_, row(r, Q), static_cast<std::size_t>(Q));
      }
      HeadsShape windowed = one;
      windowed.window = config_.window_of(std::int64_t(i));
      backend_.attend_decode_batch(windowed, positions, qkv_, k_caches, v_caches, h_);
    } else {
      for (std::int64_t r = 0; r < B; ++r) {
        Sequence& seq = sequences_[static_cast<std::size_t>(active[r])];
        PositionKernels& positioned = position_kernels_for(1, seq.position + 1);
        backend_.moves().copy(qkv_, row(r, Q), qkv_row_, 0, static_cast<std::size_t>(Q));
        if (RopeKernel* rope = positioned.rope_of(config_, i)) rope->run(qkv_row_);
        backend_.moves().split_heads(one, seq.position, qkv_row_, q_row_, seq.k_cache[i],
                                     seq.v_cache[i]);
        positioned.attention_of(config_, i).run(q_row_, seq.k_cache[i], seq.v_cache[i], att_row_);
        backend_.moves().merge_heads(one, att_row_, y_row_);
        backend_.moves().copy(y_row_, 0, h_, row(r, A), static_cast<std::size_t>(A));
      }
    }
    layer_tail(k, l, B);
  }
  if (logits) {
    // x_'s B rows are the last positions: their logits in one [B, C] x [C, vocab] product.
    compute_logits(x_, B);
    for (std::int64_t r = 0; r < B; ++r) {
      Sequence& seq = sequences_[static_cast<std::size_t>(active[r])];
      backend_.moves().argmax(logits_, row(r, V), V, seq.tokens,
                              static_cast<std::size_t>(seq.position + 1));
    }
  }
  for (const std::int64_t s : active) ++sequences_[static_cast<std::size_t>(s)].position;
  batch_rows_ = logits ? B : 0;
}

std::span<const float> DecoderModel::forward(std::span<const std::int32_t> ids, bool logits,
                                             std::int64_t s) {
  Sequence& seq = sequence(s);
  check_ids(ids, seq.position);
  backend_.moves().upload_ids(seq.tokens, static_cast<std::size_t>(seq.position), ids);
  step(static_cast<std::int64_t>(ids.size()), logits, s);
  backend_.synchronize();
  if (!logits) return {};
  return last_logits();
}

void DecoderModel::decode(std::int64_t steps, bool greedy) {
  const std::int64_t position = sequences_[0].position;
  if (steps < 0 || position + steps > max_tokens_) {
    throw InvalidArgument("gen", fmt::format("{} steps after {} tokens exceed the cache's {} "
                                             "positions (valid: 0..{})",
                                             steps, position, max_tokens_, max_tokens_ - position));
  }
  if (steps > 0 && position == 0) {
    throw InvalidArgument("gen", "decode steps need a prompt first (the cache is empty)");
  }
  for (std::int64_t g = 0; g < steps; ++g) step(1, greedy, 0);
}

void DecoderModel::decode_batch(std::span<const std::int64_t> active, bool greedy) {
  if (active.empty()) throw InvalidArgument("sequences", "no sequences (give at least one)");
  std::vector<bool> seen(sequences_.size(), false);
  for (const std::int64_t s : active) {
    const Sequence& seq = sequence(s, "sequences");
    if (seen[static_cast<std::size_t>(s)]) {
      throw InvalidArgument("sequences", fmt::format("sequence {} is named twice", s));
    }
    seen[static_cast<std::size_t>(s)] = true;
    if (seq.position == 0) {
      throw InvalidArgument("sequences",
                            fmt::format("sequence {} has an empty cache (a decode step needs a "
                                        "prompt first)",
                                        s));
    }
    if (seq.position >= max_tokens_) {
      throw InvalidArgument(
          "sequences", fmt::format("sequence {} fills its cache's {} positions", s, max_tokens_));
    }
  }
  step_batch(active, greedy);
}

std::span<const float> DecoderModel::batch_logits(std::int64_t i) {
  if (i < 0 || i >= batch_rows_) {
    throw InvalidArgument("index", fmt::format("{} is out of range (valid: 0..{}; the last batched "
                                               "step computed {} rows of logits)",
                                               i, batch_rows_ - 1, batch_rows_));
  }
  backend_.moves().copy(logits_, static_cast<std::size_t>(i * config_.vocab), logits_row_, 0,
                        static_cast<std::size_t>(config_.vocab));
  backend_.download(logits_row_, host_logits_);
  return host_logits_;
}

void DecoderModel::set_tokens(std::int64_t position, std::span<const std::int32_t> ids,
                              std::int64_t s) {
  Sequence& seq = sequence(s);
  if (position < 0 || position > max_tokens_) {
    throw InvalidArgument("position",
                          fmt::format("{} is out of range (valid: 0..{})", position, max_tokens_));
  }
  check_ids(ids, position);
  backend_.moves().upload_ids(seq.tokens, static_cast<std::size_t>(position), ids);
  backend_.synchronize();
}

std::vector<std::int32_t> DecoderModel::tokens(std::int64_t from, std::int64_t count,
                                               std::int64_t s) {
  Sequence& seq = sequence(s);
  if (from < 0 || count < 0 || from + count > max_tokens_ + 1) {
    throw InvalidArgument("position", fmt::format("tokens {}..{} are out of range (valid: 0..{})",
                                                  from, from + count - 1, max_tokens_));
  }
  backend_.synchronize();
  std::vector<std::int32_t> out(static_cast<std::size_t>(count));
  backend_.moves().download_ids(seq.tokens, static_cast<std::size_t>(from), out);
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

std::span<const float> DecoderModel::last_logits() {
  backend_.synchronize();
  backend_.download(logits_, host_logits_);
  return host_logits_;
}

void DecoderModel::poison() {
  for (Buffer* b :
       {&x_,     &h_,       &qkv_,   &q_,         &att_,    &y_,          &fc_,
        &up_,    &part_,    &heads_, &heads_out_, &x_last_, &h_last_,     &logits_,
        &x_row_, &qkv_row_, &q_row_, &att_row_,   &y_row_,  &logits_row_, &logits_share_}) {
    if (b->bytes() == 0) continue;
    backend_.upload(*b, nan_filled(b->bytes() / sizeof(float)));
  }
  for (Sequence& seq : sequences_) {
    const std::vector<std::int32_t> unset(static_cast<std::size_t>(max_tokens_ - seq.position), -1);
    backend_.moves().upload_ids(seq.tokens, static_cast<std::size_t>(seq.position + 1), unset);
  }
  backend_.synchronize();
  std::fill(host_logits_.begin(), host_logits_.end(), std::nanf(""));
}

void DecoderModel::rewind(std::int64_t position, std::int64_t s) {
  Sequence& seq = sequence(s);
  if (position < 0 || position > seq.position) {
    throw InvalidArgument("position",
                          fmt::format("{} is out of range (valid: 0..{})", position, seq.position));
  }
  seq.position = position;
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
//   gpt2:  layernorm 2C + 8 (mean, variance, rstd, affine), QKV projection C + 1, attention
//          D + 2(L + 1) + 16 (scores, softmax sum, weighted V, exp), output projection C + 1,
//          layernorm 2C + 8, MLP up C + 1, GELU 16, MLP down F + 1;
//   llama: rmsnorm C + 8, QKV C + 1, rope 6L + 16 (its angle is computed in float: a few u of
//          an angle up to L radians, workloads/op_cases/rope.cpp), attention as above, output
//          C + 1, rmsnorm C + 8, gate or up C + 1, silu_mul 16, down F + 1;
//   gemma3: llama's, with each Q and K head's RMSNorm D + 8 before rope, an output projection
//          of A = H D inputs (A + 1), and RMSNorm C + 8 after attention and after the MLP;
// then the final norm and the logits C + 1. Errors relative to each op's scale compose
// additively to first order; the norms keep activations at unit scale, so no op amplifies an
// incoming relative error by much, and rounding errors that grow like sqrt(n) u in practice
// leave the linear-in-n bound a wide margin for what amplification there is.
double logits_tolerance(const DecoderConfig& c, std::int64_t length, ModelDtype dtype,
                        ActivationRounding activations, WeightFormat kv_format) {
  // A file's matrices may be in any format: counted as block formats (the larger bound).
  const double block_scaling = dtype.from_file || is_block_format(dtype.format) ? 1 : 0;
  const double C = double(c.n_embd), D = double(c.head_dim()), L = double(length),
               F = double(c.ff());
  const double attention = D + 2 * (L + 1) + 16;
  const double norm = c.rmsnorm() ? C + 8 : 2 * C + 8;
  const double rope = c.rope() ? 6 * L + 16 : 0;
  // gemma3: each Q and K head's RMSNorm (D + 8), RMSNorm after attention and after the MLP.
  const double head_norm = c.qk_norm ? D + 8 : 0, post_norms = c.post_norms ? 2 * (C + 8) : 0;
  const double A = double(c.attention_width());
  const double per_layer = norm + (C + 1) + head_norm + rope + attention + (A + 1) + norm +
                           (C + 1) + 16 + (F + 1) + post_norms + 4 * block_scaling;
  const double n = double(c.n_layer) * per_layer + norm + (C + 1) + block_scaling;
  // Projections that round their input: QKV, output, up (with gate), down; logits.
  const double rounded_products = 4 * double(c.n_layer) + 1;
  const double r = activations == ActivationRounding::int8_blocks ? int8_activation_rounding()
                   : activations == ActivationRounding::bf16      ? 0x1p-8
                                                                  : 0.0;
  const double kv = kv_rounding(kv_format), rounded_caches = 2 * double(c.n_layer);
  return fp32_gamma(n) + 4 * r * std::sqrt(rounded_products) + 4 * kv * std::sqrt(rounded_caches);
}

}  // namespace aigc
