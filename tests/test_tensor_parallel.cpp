// The tensor-parallel decoder's pieces that need no ranks: how a model splits (and which splits
// are refused), each rank's share of the weights against the whole model's, the embedding of
// a vocabulary share, the tp= shape key, and the distributed model on a tensor-parallel row.
// The split model's logits against the model in one process run under mpirun
// (tests/mpi_tensor_parallel.sh).
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <cmath>

#include "core/errors.hpp"
#include "decoder/tensor_parallel.hpp"
#include "driver/collectives_rows.hpp"
#include "kernels/registry.hpp"
#include "timing/models.hpp"
#include "workloads/decoder.hpp"

using namespace aigc;

namespace {

// Element (o, i) of a projection of `in` inputs held as `transposed` says.
float at(const std::vector<float>& w, std::int64_t in, std::int64_t out, bool transposed,
         std::int64_t o, std::int64_t i) {
  return transposed ? w[o * in + i] : w[i * out + o];
}

}  // namespace

TEST_CASE("a model splits its heads, KV heads and MLP evenly, and its vocabulary as it can") {
  const DecoderConfig llama = decoder_config("tiny-llama");  // 4 heads on 2 KV heads, F 96
  const TensorShare s = tensor_share(llama, 1, 2);
  CHECK(s.heads == 2);
  CHECK(s.kv_heads == 1);
  CHECK(s.ff == 48);
  CHECK(s.head_begin == 2);
  CHECK(s.kv_head_begin == 1);
  CHECK(s.ff_begin == 48);
  CHECK(s.qkv_width() == (2 + 2 * 1) * 16);  // head size 64 / 4
  CHECK(s.attention_width() == 2 * 16);
  // 97 ids: the first rank takes the odd one.
  CHECK(s.vocab_widths == std::vector<std::int64_t>{49, 48});
  CHECK(s.vocab_begin == 49);
  CHECK(s.vocab_rows == 48);
  CHECK(tensor_share(llama, 0, 1).vocab_rows == 97);

  auto refused = [](const DecoderConfig& c, int ranks, const std::string& words) {
    try {
      tensor_share(c, 0, ranks);
      FAIL("tp=" << ranks << " was taken");
    } catch (const InvalidArgument& e) {
      CHECK(e.argument() == "tp");
      CHECK_THAT(e.what(), Catch::Contains(words));
    }
  };
  refused(llama, 4, "tp=4 does not divide tiny-llama's 2 KV heads");
  refused(decoder_config("tiny"), 3, "tp=3 does not divide tiny's 4 KV heads");
  refused(decoder_config("smollm2-135m"), 2, "3 KV heads");
  CHECK_THROWS_AS(tensor_share(llama, 2, 2), InvalidArgument);  // no rank 2 of 2
}

TEST_CASE("each rank's share of the weights holds its heads, MLP columns and vocabulary rows") {
  for (const char* name : {"tiny", "tiny-llama"}) {  // [in, out] and [out, in] weights
    INFO(name);
    const DecoderConfig c = decoder_config(name);
    const DecoderWeights w = random_weights(c, 3);
    const std::int64_t C = c.n_embd, D = c.head_dim(), H = c.n_head, Hkv = c.kv_heads(),
                       F = c.ff(), Q = c.qkv_width();
    for (int rank = 0; rank < 2; ++rank) {
      const TensorShare s = tensor_share(c, rank, 2);
      const DecoderWeights p = share_weights(w, s);
      CHECK(p.transposed);
      const LayerWeights &l = w.layers[1], &m = p.layers[1];
      const std::int64_t Qs = s.qkv_width(), A = s.attention_width();
      REQUIRE(m.qkv.size() == std::size_t(Qs * C));
      REQUIRE(m.attn_out.size() == std::size_t(C * A));
      REQUIRE(m.up.size() == std::size_t(s.ff * C));
      REQUIRE(m.down.size() == std::size_t(C * s.ff));
      // Row j of the share's QKV is the whole model's row of the same query, key or value
      // head element.
      for (std::int64_t j = 0; j < Qs; ++j) {
        const std::int64_t o = j < A ? s.head_begin * D + j
                               : j < A + s.kv_heads * D
                                   ? H * D + s.kv_head_begin * D + (j - A)
                                   : (H + Hkv) * D + s.kv_head_begin * D + (j - A - s.kv_heads * D);
        for (std::int64_t i = 0; i < C; i += 7)
          REQUIRE(m.qkv[j * C + i] == at(l.qkv, C, Q, w.transposed, o, i));
        if (!l.qkv_bias.empty()) REQUIRE(m.qkv_bias[j] == l.qkv_bias[o]);
      }
      // The output projection's and down's input columns of this rank's heads and MLP share.
      for (std::int64_t o = 0; o < C; o += 5) {
        for (std::int64_t i = 0; i < A; ++i)
          REQUIRE(m.attn_out[o * A + i] == at(l.attn_out, C, C, w.transposed, o, s.head_begin * D + i));
        for (std::int64_t i = 0; i < s.ff; ++i)
          REQUIRE(m.down[o * s.ff + i] == at(l.down, F, C, w.transposed, o, s.ff_begin + i));
      }
      for (std::int64_t j = 0; j < s.ff; ++j) {
        REQUIRE(m.up[j * C + 3] == at(l.up, C, F, w.transposed, s.ff_begin + j, 3));
        if (!l.gate.empty()) REQUIRE(m.gate[j * C + 5] == at(l.gate, C, F, w.transposed, s.ff_begin + j, 5));
      }
      // Row-parallel biases and the position table on rank 0 only (the sum holds them once).
      CHECK(m.attn_out_bias.empty() == (rank != 0 || l.attn_out_bias.empty()));
      CHECK(m.down_bias.empty() == (rank != 0 || l.down_bias.empty()));
      CHECK(p.position_embedding.empty() == (rank != 0 || w.position_embedding.empty()));
      // Vocabulary rows of the embedding (and of an untied output matrix).
      REQUIRE(p.token_embedding.size() == std::size_t(s.vocab_rows * C));
      CHECK(p.token_embedding[C + 2] == w.token_embedding[(s.vocab_begin + 1) * C + 2]);
      if (!c.tied_output) {
        REQUIRE(p.output.size() == std::size_t(s.vocab_rows * C));
        CHECK(p.output.back() == w.output[(s.vocab_begin + s.vocab_rows) * C - 1]);
      }
      CHECK(m.attn_norm == l.attn_norm);
      CHECK(p.final_norm == w.final_norm);
    }
  }
}

TEST_CASE("an embedding of a vocabulary share gives zeros for the other ranks' ids") {
  for (const BackendDescriptor* d : backend_descriptors()) {
    if (d->compute_class == ComputeClass::gpu || !d->availability().available) continue;
    INFO(d->name);
    auto backend = d->make();
    constexpr std::int64_t C = 3;
    // Rows for ids 4..5 of a vocabulary of 8; positions 0..3.
    const std::vector<float> table{1, 2, 3, 4, 5, 6};
    const std::vector<float> positions{10, 20, 30, 11, 21, 31, 12, 22, 32, 13, 23, 33};
    Buffer wte = backend->upload_new(table), wpe = backend->upload_new(positions);
    Buffer ids = backend->allocate(4 * sizeof(std::int32_t));
    backend->moves().upload_ids(ids, 0, std::vector<std::int32_t>{5, 0, 4, 8});
    Buffer x = backend->allocate(4 * C * sizeof(float));
    backend->moves().embed(ids, 0, 4, 0, C, wte, &wpe, x, {.begin = 4, .vocab = 8});
    std::vector<float> out(4 * C);
    backend->download(x, out);
    CHECK(out[0] == 14);  // id 5: its row (4, 5, 6) plus position 0's
    CHECK(out[2] == 36);
    CHECK(out[3] == 11);  // id 0: another rank's, zeros plus position 1's
    CHECK(out[6] == 13);  // id 4: (1, 2, 3) plus position 2's
    CHECK(std::isnan(out[9]));  // 8 is no id of the vocabulary
    backend->moves().embed(ids, 1, 1, 0, C, wte, nullptr, x, {.begin = 4, .vocab = 8});
    backend->download(x, out);
    CHECK(out[0] == 0);
    CHECK_THROWS_AS(backend->moves().embed(ids, 0, 1, 0, C, wte, nullptr, x, {.begin = 7, .vocab = 8}),
                    std::invalid_argument);  // two rows from id 7 overrun the vocabulary
  }
}

TEST_CASE("tp= splits a decoder shape over ranks and is refused where it cannot") {
  const DecoderWorkload w;
  const Shape shape = w.parse("cfg=tiny-llama,tp=2,prompt=16,gen=4");
  CHECK(shape.text() == "cfg=tiny-llama,prompt=16,gen=4,tp=2");
  CHECK(w.ranks(shape) == 2);
  CHECK(w.with_ranks(shape, 1).text() == "cfg=tiny-llama,prompt=16,gen=4");
  CHECK(w.ranks(w.unit_shape(shape)) == 1);
  CHECK(w.ranks(w.parse("cfg=tiny,prompt=16")) == 1);
  auto refused = [&](const std::string& text, const std::string& words) {
    try {
      w.parse(text);
      FAIL(text << " was taken");
    } catch (const InvalidArgument& e) {
      CHECK(e.argument() == "shapes");
      CHECK_THAT(e.what(), Catch::Contains(words));
    }
  };
  refused("cfg=tiny-llama,prompt=16,tp=4", "tp=4 does not divide tiny-llama's 2 KV heads");
  refused("cfg=tiny,prompt=16,tp=2,dtype=q8_0", "tp=2 takes f32 weights only");
  refused("cfg=tiny,prompt=16,tp=0", "tp");
}

TEST_CASE("a tensor-parallel row gets its collectives' cost and the distributed model") {
  // Ping-pong exactly 1 us + n / 5 GB/s; allreduce and allgather measured at twice and once
  // their ring costs.
  const timing::Hockney p2p{1e-6, 1.0 / 5e9};
  std::vector<ResultRow> rows;
  for (std::int64_t n = 64; n <= (1 << 20); n *= 4) {
    for (const char* op : {"pingpong", "allreduce", "allgather"}) {
      ResultRow r;
      r.workload = "collectives";
      r.shape = fmt::format("op={},bytes={}", op, n);
      r.ranks = 2;
      r.bytes = static_cast<double>(n);
      const std::string o = op;
      r.time_median_s =
          o == "pingpong"    ? p2p.time_s(double(n))
          : o == "allreduce" ? 2 * timing::collective_time(timing::Collective::allreduce, p2p, n, 2)
                             : timing::collective_time(timing::Collective::allgather, p2p, n, 2);
      rows.push_back(r);
    }
  }
  ResultRow tp;
  tp.workload = "decoder";
  tp.shape = "cfg=tiny,prompt=16,gen=8,tp=2";
  tp.ranks = 2;
  tp.time_median_s = 1e-3;
  tp.t_one_rank_s = 1.5e-3;
  rows.push_back(tp);
  apply_collective_models(rows);
  const ResultRow& r = rows.back();
  const TensorParallelSteps t = tensor_parallel_steps(tp.shape);
  CHECK(t.steps == 8);
  CHECK(t.step.n_layer == 2);
  CHECK(t.step.activation_bytes == 4.0 * 64);  // one row of C = 64 a step
  CHECK(t.step.logits_bytes == 4.0 * 97);
  const timing::Hockney one = timing::Hockney{1e-6, 1.0 / 5e9};
  const double ring = 8 * timing::tensor_parallel_comm_time(t.step, timing::single_regime(one), 2);
  REQUIRE(r.t_comm_model_s);
  CHECK(*r.t_comm_model_s == Approx(ring).epsilon(1e-6));
  REQUIRE(r.t_wall_model_s);
  CHECK(*r.t_wall_model_s == Approx(1.5e-3 / 2 + ring).epsilon(1e-9));
  // The run's own fits: 5 allreduces at twice the ring cost, one allgather at the ring cost.
  REQUIRE(r.t_comm_fit_s);
  const double fit =
      8 * (5 * 2 * timing::collective_time(timing::Collective::allreduce, one, 256, 2) +
           timing::collective_time(timing::Collective::allgather, one, 388, 2));
  CHECK(*r.t_comm_fit_s == Approx(fit).epsilon(1e-3));
  // Without logits a step makes no allgather: its collectives are the allreduces alone.
  const TensorParallelSteps bare = tensor_parallel_steps("cfg=tiny,prompt=16,gen=8,logits=0,tp=2");
  CHECK(bare.step.logits_bytes == 0);
  CHECK(timing::tensor_parallel_comm_time(bare.step, timing::single_regime(one), 2) ==
        Approx(5 * timing::collective_time(timing::Collective::allreduce, one, 256, 2)));
  // A prefill: one step of the prompt's rows, the last position's logits.
  const TensorParallelSteps prefill = tensor_parallel_steps("cfg=tiny,prompt=16,tp=2");
  CHECK(prefill.steps == 1);
  CHECK(prefill.step.activation_bytes == 4.0 * 16 * 64);
  CHECK(prefill.step.logits_bytes == 4.0 * 97);
}
