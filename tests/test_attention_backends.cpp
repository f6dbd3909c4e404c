// Every backend's attention against the float64 reference and the scalar backend.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include "core/errors.hpp"
#include "core/random.hpp"
#include "core/verify.hpp"
#include "kernels/registry.hpp"
#include "kernels/simd/gemm.hpp"
#include "tests/backend_sweep.hpp"
#include "workloads/attention.hpp"

using namespace aigc;

namespace {

struct Inputs {
  std::vector<float> q, k, v;
};

// Uniform in [-magnitude, magnitude]. K and V fill the whole cache capacity; rows past L
// are NaN, so a kernel that reads beyond the valid cache fails.
Inputs make_inputs(const AttentionShape& s, float magnitude = 1.0f) {
  Inputs in{random_uniform(s.B * s.H * s.S * s.D, 31, -magnitude, magnitude),
            random_uniform(s.B * s.H * s.capacity() * s.D, 32, -magnitude, magnitude),
            random_uniform(s.B * s.H * s.capacity() * s.D, 33)};
  for (std::int64_t bh = 0; bh < s.B * s.H; ++bh) {
    for (std::int64_t j = s.L; j < s.capacity(); ++j) {
      for (std::int64_t d = 0; d < s.D; ++d) {
        in.k[(bh * s.capacity() + j) * s.D + d] = std::numeric_limits<float>::quiet_NaN();
        in.v[(bh * s.capacity() + j) * s.D + d] = std::numeric_limits<float>::quiet_NaN();
      }
    }
  }
  return in;
}

std::vector<float> run_backend(Backend& backend, const AttentionShape& s, const Inputs& in) {
  Buffer q = backend.upload_new(in.q), k = backend.upload_new(in.k), v = backend.upload_new(in.v);
  Buffer o = backend.upload_new(nan_filled(in.q.size()));  // an unwritten element fails
  backend.make_kernel(s)->run(q, k, v, o);
  backend.synchronize();
  std::vector<float> out(in.q.size());
  backend.download(o, out);
  return out;
}

// S = 1; S not a multiple of the 64-query block or 64-key tile; odd D (decode too: keys in
// fours with a tail of lanes); D in {32, 64, 80, 128};
// B * H larger than the threads; decode against caches of 1 and 130 keys; a cache with
// spare capacity. Every full shape's first row is a row where the mask leaves one key.
// For the GPU's paths: decode forms whose cache is split across blocks (several queries, so
// the causal mask ends inside a split; 47 splits; a chunk at its 4096-key cap), and B * H = 132
// so the fused kernel's wide query tile fills an H100's grid at D = 64 and 128.
const std::vector<AttentionShape> kShapes = {
    {1, 1, 1, 1, 8},       {1, 2, 67, 67, 33},  {2, 3, 130, 130, 64},  {1, 2, 65, 65, 32},
    {1, 1, 100, 100, 80},  {1, 1, 64, 64, 128}, {1, 3, 5, 5, 1},       {1, 4, 1, 1, 64},
    {2, 2, 1, 130, 64},    {1, 3, 1, 77, 80},   {1, 2, 1, 50, 16, 96}, {1, 1, 20, 70, 24},
    {1, 2, 4, 300, 64},    {1, 1, 1, 3000, 64}, {2, 66, 2, 4100, 8},   {1, 132, 33, 33, 64},
    {1, 132, 17, 17, 128}, {1, 2, 1, 45, 33},
};

std::string label(const AttentionShape& s) {
  return format_attention_shape(s) + (s.S > 1 && s.S != s.L ? " (S<L)" : "") +
         (s.kv_capacity ? " cap=" + std::to_string(s.kv_capacity) : "");
}

}  // namespace

TEST_CASE("the scalar attention matches a float64 computation within the derived tolerance") {
  auto scalar = make_backend("scalar");
  for (const AttentionShape& s : kShapes) {
    INFO(label(s));
    const Inputs in = make_inputs(s);
    const AttentionError e = attention_error(s, in.q, in.k, in.v, run_backend(*scalar, s, in));
    CHECK(e.max_rel_error <= e.tolerance);
  }
}

TEST_CASE(
    "every backend's attention matches float64 and the scalar reference at every thread count") {
  auto scalar = make_backend("scalar");
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const AttentionShape& s : kShapes) {
      INFO(name << " threads=" << threads << " " << label(s));
      const Inputs in = make_inputs(s);
      const auto o = run_backend(backend, s, in);
      const AttentionError e = attention_error(s, in.q, in.k, in.v, o);
      CHECK(e.max_rel_error <= e.tolerance);
      // Against scalar: both are within the tolerance of the exact value.
      const auto ref = run_backend(*scalar, s, in);
      MaxRelativeError diff;
      for (std::size_t i = 0; i < o.size(); ++i)
        diff.add(o[i], ref[i], 1.0);  // |v| <= 1, so sum p|v| <= 1
      CHECK(diff.value() <= 2 * e.tolerance);
    }
  });
}

TEST_CASE("sliding-window attention matches float64 on every backend that keeps a window") {
  // Prefill past the window (tiles that start inside it, queries whose window starts
  // mid-tile, a window wider than a tile), several queries against a longer cache, and single
  // decode queries with the window inside the cache, at its edge, and wider than the cache.
  const std::vector<AttentionShape> shapes = {
      {.H = 2, .S = 100, .L = 100, .D = 32, .window = 17},
      {.H = 2, .S = 150, .L = 150, .D = 64, .kv_heads = 1, .window = 80},
      {.H = 2, .S = 5, .L = 40, .D = 16, .window = 8},
      {.H = 4, .S = 1, .L = 300, .D = 64, .kv_heads = 2, .window = 64},
      {.H = 1, .S = 1, .L = 64, .D = 24, .window = 64},
      {.H = 1, .S = 1, .L = 10, .D = 8, .window = 512},
  };
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const AttentionShape& s : shapes) {
      INFO(name << " threads=" << threads << " " << label(s));
      std::unique_ptr<AttentionKernel> kernel;
      try {
        kernel = backend.make_kernel(s);
      } catch (const UnsupportedOp& e) {
        // The GPU backends refuse a window by name (a backend without attention at all is the
        // sweep's to skip).
        if (std::string(e.what()).find("sliding-window") == std::string::npos) throw;
        WARN("skipping " << name << ": " << e.what());
        continue;
      }
      const Inputs in = make_inputs(s);
      const auto o = run_backend(backend, s, in);
      const AttentionError e = attention_error(s, in.q, in.k, in.v, o);
      CHECK(e.max_rel_error <= e.tolerance);
      // The window really applies: full causal attention is far from it.
      AttentionShape full = s;
      full.window = 0;
      if (s.L > s.window) CHECK(attention_error(full, in.q, in.k, in.v, o).max_rel_error > 1e-3);
    }
  });
}

TEST_CASE(
    "attention reads f16 and q8_0 caches as their stored values on every backend that claims "
    "them") {
  // Prefill and decode, tiles with a tail, a window, grouped heads, a long cache with spare
  // capacity (its rows past L are NaN, stored: a read past the cache fails).
  const std::vector<AttentionShape> shapes = {
      {.H = 2, .S = 65, .L = 65, .D = 32},
      {.B = 2, .H = 3, .S = 130, .L = 130, .D = 64},
      {.B = 2, .H = 2, .S = 1, .L = 130, .D = 64},
      {.H = 4, .S = 4, .L = 300, .D = 64, .kv_heads = 2},
      {.H = 1, .S = 1, .L = 3000, .D = 64, .kv_capacity = 3100},
      {.H = 2, .S = 150, .L = 150, .D = 64, .kv_heads = 1, .window = 80},
      {.H = 4, .S = 1, .L = 300, .D = 128, .kv_heads = 2, .window = 64},
  };
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const WeightFormat kv : {WeightFormat::f16, WeightFormat::q8_0}) {
      for (AttentionShape s : shapes) {
        s.kv_format = kv;
        INFO(name << " threads=" << threads << " " << label(s) << " kv=" << weight_format_name(kv));
        try {
          backend.make_kernel(s);
        } catch (const UnsupportedOp& e) {
          // onednn and the GPU backends read fp32 caches only, and say so (cuda-bf16 has no
          // attention at all).
          CHECK_THAT(e.what(),
                     Catch::Contains("KV cache in") || Catch::Contains("has no attention for"));
          WARN("skipping " << name << ": " << e.what());
          break;
        }
        Inputs in = make_inputs(s);
        const std::int64_t rows = s.B * s.H * s.capacity();
        // Rows past L stored as all-ones bytes: NaN in f16, a NaN scale in q8_0.
        auto stored = [&](std::vector<float>& x) {
          for (float& f : x) f = std::isnan(f) ? 0.0f : f;
          auto bytes = quantize_rows(kv, x, rows, s.D);
          const std::int64_t row = s.kv_row_bytes();
          for (std::int64_t r = 0; r < rows; ++r) {
            if (r % s.capacity() >= s.L)
              std::fill_n(bytes.begin() + r * row, row, std::uint8_t{0xff});
          }
          return bytes;
        };
        const auto k = stored(in.k), v = stored(in.v);
        Buffer q = backend.upload_new(in.q), kb = backend.upload_weights(k),
               vb = backend.upload_weights(v);
        Buffer o = backend.upload_new(nan_filled(in.q.size()));
        backend.make_kernel(s)->run(q, kb, vb, o);
        backend.synchronize();
        std::vector<float> out(in.q.size());
        backend.download(o, out);
        // Against float64 on exactly the values the cache holds: the fp32 tolerance.
        AttentionShape f32 = s;
        f32.kv_format = WeightFormat::f32;
        const auto kf = dequantize_rows(kv, k, rows, s.D), vf = dequantize_rows(kv, v, rows, s.D);
        const AttentionError e = attention_error(f32, in.q, kf, vf, out);
        CHECK(e.max_rel_error <= e.tolerance);
        // The kernel computed on the stored values: farther from the unrounded inputs' answer
        // (the format's rounding) than from theirs (fp32 arithmetic alone).
        CHECK(attention_error(f32, in.q, in.k, in.v, out).max_rel_error > 4 * e.max_rel_error);
      }
    }
  });
  // A head size the blocks do not fit is refused by name.
  auto simd = make_backend("simd");
  CHECK_THROWS_WITH(
      simd->make_kernel(AttentionShape{.H = 1, .D = 48, .kv_format = WeightFormat::q8_0}),
      Catch::Contains("48 is not a multiple of 32"));
}

TEST_CASE("large-magnitude scores do not overflow the softmax on any backend") {
  // Scores reach about 40 * 40 * 64 / 8 = 12800: exp overflows unless the maximum is subtracted.
  const AttentionShape s{1, 2, 70, 70, 64};
  const Inputs in = make_inputs(s, 40.0f);
  for_each_backend([&](Backend& backend, const std::string& name) {
    INFO(name);
    const auto o = run_backend(backend, s, in);
    const AttentionError e = attention_error(s, in.q, in.k, in.v, o);
    CHECK(std::isfinite(e.max_rel_error));
    CHECK(e.max_rel_error <= e.tolerance);
  });
}

TEST_CASE("the decode form equals the last row of full causal attention") {
  const std::int64_t L = 97, D = 64;
  const AttentionShape full{1, 3, L, L, D}, decode{1, 3, 1, L, D};
  const Inputs in = make_inputs(full);
  Inputs last{{}, in.k, in.v};
  for (std::int64_t bh = 0; bh < 3; ++bh) {
    last.q.insert(last.q.end(), in.q.begin() + (bh * L + L - 1) * D,
                  in.q.begin() + (bh * L + L) * D);
  }
  for_each_backend([&](Backend& backend, const std::string& name) {
    INFO(name);
    const auto o_full = run_backend(backend, full, in);
    const auto o_decode = run_backend(backend, decode, last);
    const double tol = attention_error(decode, last.q, last.k, last.v, o_decode).tolerance;
    MaxRelativeError diff;
    for (std::int64_t bh = 0; bh < 3; ++bh) {
      for (std::int64_t d = 0; d < D; ++d)
        diff.add(o_decode[bh * D + d], o_full[(bh * L + L - 1) * D + d], 1.0);
    }
    CHECK(diff.value() <= 2 * tol);
  });
}

TEST_CASE("the fused attention is correct on every SIMD target this CPU supports") {
  for (const std::string& target : simd::available_targets()) {
    simd::force_target(target);
    for (const char* name : {"simd", "openmp"}) {
      auto backend = make_backend(name);
      if (backend->is_multithreaded()) backend->set_threads(2);
      for (const AttentionShape& s : kShapes) {
        INFO(name << " target=" << target << " " << label(s));
        const Inputs in = make_inputs(s);
        const AttentionError e = attention_error(s, in.q, in.k, in.v, run_backend(*backend, s, in));
        CHECK(e.max_rel_error <= e.tolerance);
      }
    }
  }
  simd::force_target("");
}

TEST_CASE("the error check catches a wrong or unwritten attention output") {
  const AttentionShape s{1, 2, 40, 40, 16};
  const Inputs in = make_inputs(s);
  auto o = run_backend(*make_backend("scalar"), s, in);
  REQUIRE(attention_error(s, in.q, in.k, in.v, o).max_rel_error <=
          attention_error(s, in.q, in.k, in.v, o).tolerance);
  auto wrong = o;
  wrong[17] += 1e-3f;
  const AttentionError e = attention_error(s, in.q, in.k, in.v, wrong);
  CHECK(e.max_rel_error > e.tolerance);
  auto unwritten = o;
  unwritten.back() = std::numeric_limits<float>::quiet_NaN();
  const AttentionError n = attention_error(s, in.q, in.k, in.v, unwritten);
  CHECK_FALSE(n.max_rel_error <= n.tolerance);
}

TEST_CASE(
    "the scalar path refuses a score tensor that does not fit, naming its size, and the fused "
    "path does not") {
  const AttentionWorkload attention;
  // 128 heads x 8192^2 scores x 4 B = 32 GiB, beyond this machine; Q, K, V, O are 16 MiB.
  const Shape huge = attention.parse("B=8,H=16,S=8192,D=1");
  auto scalar = make_backend("scalar");
  CHECK_THROWS_AS(attention.make_case(*scalar, huge), InsufficientMemory);
  CHECK_THROWS_WITH(attention.make_case(*scalar, huge),
                    Catch::Contains("32.00 GiB") && Catch::Contains("score tensor"));
  auto simd = make_backend("simd");
  CHECK_NOTHROW(attention.make_case(*simd, huge));
}

TEST_CASE("analytic FLOPs, bytes, phases and units of attention") {
  const AttentionWorkload attention;
  // 4 pairs... S=4: 1+2+3+4 = 10 pairs per head, 4D FLOPs each.
  const WorkCounts full = attention.counts(attention.parse("B=2,H=3,S=4,D=8"));
  CHECK(full.flops == 2 * 3 * 10 * 4.0 * 8);
  CHECK(full.bytes == 4.0 * 2 * 3 * 8 * (2 * 4 + 2 * 4));
  CHECK(full.n_units == 6);
  const WorkCounts decode = attention.counts(attention.parse("B=1,H=2,L=100,D=8"));
  CHECK(decode.flops == 2 * 100 * 4.0 * 8);
  CHECK(attention.phase(attention.parse("B=1,H=2,L=100,D=8")) == "decode");
  CHECK(attention.phase(attention.parse("B=1,H=2,S=100,D=8")) == "prefill");
  CHECK(attention.unit_shape(attention.parse("B=2,H=12,S=1024,D=64")).text() ==
        "B=1,H=1,S=1024,D=64");
  CHECK_THROWS_WITH(attention.parse("B=1,H=2,S=10,L=10,D=8"), Catch::Contains("not both"));
  CHECK_THROWS_WITH(attention.parse("B=1,H=2,S=0,D=8"), Catch::Contains("S=0 is out of range"));
}

TEST_CASE("a batch's decode attention in one call writes each cache and matches float64") {
  // Grouped heads (6 query heads on 2 KV heads), D = 20 (a vector and a tail), sequences at
  // ragged positions: the cache's first and last rows, and two at the same position. Cache rows
  // after each position are NaN (a kernel that reads them fails), the written row too before.
  const HeadsShape hs{.tokens = 1, .heads = 6, .head_dim = 20, .capacity = 40, .kv_heads = 2};
  const std::vector<std::int64_t> positions = {0, 17, 39, 5, 17};
  const std::int64_t B = static_cast<std::int64_t>(positions.size()), H = hs.heads,
                     Hkv = hs.kv_head_count(), D = hs.head_dim, cap = hs.capacity;
  const auto qkv = random_uniform(B * hs.qkv_row(), 41, -2.0f, 2.0f);
  std::vector<std::vector<float>> k_init, v_init;
  for (std::int64_t r = 0; r < B; ++r) {
    auto k = random_uniform(Hkv * cap * D, 50 + r, -2.0f, 2.0f),
         v = random_uniform(Hkv * cap * D, 60 + r);
    for (std::int64_t g = 0; g < Hkv; ++g) {
      for (std::int64_t j = positions[r]; j < cap; ++j) {
        for (std::int64_t d = 0; d < D; ++d) {
          k[(g * cap + j) * D + d] = v[(g * cap + j) * D + d] = std::nanf("");
        }
      }
    }
    k_init.push_back(k);
    v_init.push_back(v);
  }
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    INFO(name << " threads=" << threads);
    Buffer dqkv = backend.upload_new(qkv), dy = backend.upload_new(nan_filled(B * H * D));
    std::vector<Buffer> k_caches, v_caches;
    for (std::int64_t r = 0; r < B; ++r) {
      k_caches.push_back(backend.upload_new(k_init[static_cast<std::size_t>(r)]));
      v_caches.push_back(backend.upload_new(v_init[static_cast<std::size_t>(r)]));
    }
    std::vector<Buffer*> ks, vs;
    for (std::int64_t r = 0; r < B; ++r) {
      ks.push_back(&k_caches[static_cast<std::size_t>(r)]);
      vs.push_back(&v_caches[static_cast<std::size_t>(r)]);
    }
    if (!backend.descriptor().decode_batch_attention) {
      CHECK_THROWS_AS(backend.attend_decode_batch(hs, positions, dqkv, ks, vs, dy), UnsupportedOp);
      return;
    }
    backend.attend_decode_batch(hs, positions, dqkv, ks, vs, dy);
    backend.synchronize();
    std::vector<float> y(static_cast<std::size_t>(B * H * D));
    backend.download(dy, y);
    for (std::int64_t r = 0; r < B; ++r) {
      INFO("sequence " << r << " at position " << positions[r]);
      const auto ri = static_cast<std::size_t>(r);
      std::vector<float> k(k_init[ri].size()), v(v_init[ri].size());
      backend.download(k_caches[ri], k);
      backend.download(v_caches[ri], v);
      const float* row = qkv.data() + r * hs.qkv_row();
      for (std::int64_t g = 0; g < Hkv; ++g) {
        for (std::int64_t d = 0; d < D; ++d) {
          REQUIRE(k[(g * cap + positions[r]) * D + d] == row[(H + g) * D + d]);
          REQUIRE(v[(g * cap + positions[r]) * D + d] == row[(H + Hkv + g) * D + d]);
        }
        if (positions[r] + 1 < cap) CHECK(std::isnan(k[(g * cap + positions[r] + 1) * D]));
      }
      const AttentionShape one{.B = 1,
                               .H = H,
                               .S = 1,
                               .L = positions[r] + 1,
                               .D = D,
                               .kv_capacity = cap,
                               .kv_heads = Hkv};
      const auto e = attention_error(
          one, std::span<const float>(row, static_cast<std::size_t>(H * D)), k, v,
          std::span<const float>(y.data() + r * H * D, static_cast<std::size_t>(H * D)));
      CHECK(e.max_rel_error <= e.tolerance);
    }
    // Bad input, refused before anything is written: a position past the cache, a cache
    // missing, an output too small.
    std::vector<std::int64_t> past = positions;
    past[2] = cap;
    CHECK_THROWS_AS(backend.attend_decode_batch(hs, past, dqkv, ks, vs, dy), std::invalid_argument);
    CHECK_THROWS_AS(
        backend.attend_decode_batch(hs, positions, dqkv, std::span(ks).first(4), vs, dy),
        std::invalid_argument);
    Buffer small = backend.upload_new(nan_filled(B * H * D - 1));
    CHECK_THROWS_AS(backend.attend_decode_batch(hs, positions, dqkv, ks, vs, small),
                    std::length_error);
  });
}
