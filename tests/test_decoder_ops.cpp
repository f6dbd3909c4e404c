// The decoder's ops (layernorm, GELU, residual add, embedding, head split/merge) on every
// backend against float64, with outputs poisoned (NaN) first and tolerances from the
// arithmetic of each op.
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>

#include "core/random.hpp"
#include "core/verify.hpp"
#include "kernels/registry.hpp"
#include "tests/backend_sweep.hpp"

using namespace aigc;

namespace {

std::vector<float> download(Backend& backend, const Buffer& b, std::size_t n) {
  backend.synchronize();
  std::vector<float> out(n);
  backend.download(b, out);
  return out;
}

// Max over elements of |y - ref| / scale, with the layernorm's error bound as the scale:
// the mean carries gamma_C mean|x|, each x - mean that plus u|x - mean|, the variance a
// relative gamma_(C+3) (times 1 + mean^2/var for a one-pass E[x^2] - mean^2, which a library
// may use), rstd half that plus a few u. So |dy_j| <= 2 gamma_(C+8) * scale_j with
// scale_j = |g_j| rstd (mean|x| + |x_j - mean| (1 + mean^2/var)) + |b_j|.
double layernorm_error(const LayernormShape& s, const std::vector<float>& x,
                       const std::vector<float>& g, const std::vector<float>& b,
                       const std::vector<float>& y) {
  MaxRelativeError err;
  for (std::int64_t r = 0; r < s.rows; ++r) {
    const float* xr = x.data() + r * s.dim;
    double mean = 0, mean_abs = 0, var = 0;
    for (std::int64_t c = 0; c < s.dim; ++c) mean += xr[c], mean_abs += std::abs(xr[c]);
    mean /= double(s.dim), mean_abs /= double(s.dim);
    for (std::int64_t c = 0; c < s.dim; ++c) var += (xr[c] - mean) * (xr[c] - mean);
    var /= double(s.dim);
    const double rstd = 1 / std::sqrt(var + s.eps);
    const double cancel = 1 + mean * mean / (var + s.eps);
    for (std::int64_t c = 0; c < s.dim; ++c) {
      const double dev = xr[c] - mean;
      const double ref = dev * rstd * g[c] + b[c];
      const double scale =
          std::abs(g[c]) * rstd * (mean_abs + std::abs(dev) * cancel) + std::abs(b[c]);
      err.add(y[r * s.dim + c], ref, scale);
    }
  }
  return err.value();
}

double gelu_ref(double a) {
  return 0.5 * a * (1 + std::tanh(std::sqrt(2 / M_PI) * (a + 0.044715 * a * a * a)));
}

}  // namespace

TEST_CASE("every backend's layernorm matches float64 within 2 gamma_(C+8)") {
  const std::vector<LayernormShape> shapes = {{1, 1}, {3, 7}, {17, 64}, {5, 768}, {64, 1000}};
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const LayernormShape& s : shapes) {
      INFO(name << " threads=" << threads << " rows=" << s.rows << " dim=" << s.dim);
      // Offset inputs (mean ~0.5, as real activations have) and non-trivial gain and bias.
      const auto x = random_uniform(s.rows * s.dim, 21, -0.5f, 1.5f);
      const auto g = random_uniform(s.dim, 22, 0.5f, 2.0f);
      const auto b = random_uniform(s.dim, 23);
      Buffer dx = backend.upload_new(x), dg = backend.upload_new(g), db = backend.upload_new(b);
      Buffer dy = backend.upload_new(nan_filled(x.size()));
      backend.make_kernel(s)->run(dx, dg, db, dy);
      const auto y = download(backend, dy, x.size());
      CHECK(layernorm_error(s, x, g, b, y) <= 2 * fp32_gamma(double(s.dim) + 8));
    }
  });
}

TEST_CASE("the layernorm check catches a wrong element and an unwritten one") {
  const LayernormShape s{4, 33};
  const auto x = random_uniform(s.rows * s.dim, 21), g = random_uniform(s.dim, 22),
             b = random_uniform(s.dim, 23);
  auto scalar = make_backend("scalar");
  Buffer dx = scalar->upload_new(x), dg = scalar->upload_new(g), db = scalar->upload_new(b);
  Buffer dy = scalar->upload_new(nan_filled(x.size()));
  scalar->make_kernel(s)->run(dx, dg, db, dy);
  auto y = download(*scalar, dy, x.size());
  const double tol = 2 * fp32_gamma(double(s.dim) + 8);
  REQUIRE(layernorm_error(s, x, g, b, y) <= tol);
  auto wrong = y;
  wrong[40] *= 1.0001f;
  CHECK(layernorm_error(s, x, g, b, wrong) > tol);
  y.back() = std::nanf("");
  CHECK_FALSE(layernorm_error(s, x, g, b, y) <= tol);
}

// GELU: the argument z = sqrt(2/pi)(a + 0.044715 a^3) carries a few u relative, tanh' <= 1,
// tanh itself a few ulp, and 0.5 a (1 + t) two more roundings: |dy| <= 16 u (|a| (1 + |z|) + |y|).
TEST_CASE("every backend's GELU (tanh form) matches float64 within 16 u") {
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const std::int64_t n : {1, 15, 16, 1000, 100003}) {
      INFO(name << " threads=" << threads << " n=" << n);
      const auto a = random_uniform(n, 31, -6.0f, 6.0f);  // both tails and the bend
      Buffer da = backend.upload_new(a), dy = backend.upload_new(nan_filled(n));
      backend.make_kernel(ElementwiseShape{ElementwiseOp::gelu_tanh, n})->run(da, nullptr, dy);
      const auto y = download(backend, dy, n);
      MaxRelativeError err;
      for (std::int64_t i = 0; i < n; ++i) {
        const double z = std::sqrt(2 / M_PI) * (a[i] + 0.044715 * a[i] * a[i] * a[i]);
        const double ref = gelu_ref(a[i]);
        err.add(y[i], ref, std::abs(a[i]) * (1 + std::abs(z)) + std::abs(ref));
      }
      CHECK(err.value() <= 16 * kFp32UnitRoundoff);
    }
  });
}

TEST_CASE("every backend's residual add is exact to one rounding, in place too") {
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    for (const std::int64_t n : {1, 17, 100003}) {
      INFO(name << " threads=" << threads << " n=" << n);
      const auto a = random_uniform(n, 41), b = random_uniform(n, 42);
      Buffer da = backend.upload_new(a), db = backend.upload_new(b);
      Buffer dy = backend.upload_new(nan_filled(n));
      auto add = backend.make_kernel(ElementwiseShape{ElementwiseOp::add, n});
      add->run(da, &db, dy);
      add->run(da, &db, da);  // in place: the residual stream x += f(x)
      const auto y = download(backend, dy, n), in_place = download(backend, da, n);
      MaxRelativeError err;
      for (std::int64_t i = 0; i < n; ++i) {
        const double scale = std::abs(a[i]) + std::abs(b[i]);
        err.add(y[i], double(a[i]) + b[i], scale);
        err.add(in_place[i], double(a[i]) + b[i], scale);
      }
      CHECK(err.value() <= kFp32UnitRoundoff);
    }
  });
}

TEST_CASE("every backend gathers embeddings and splits and merges heads exactly") {
  const std::int64_t T = 5, H = 3, D = 4, C = H * D, capacity = 9, pos0 = 2, vocab = 11;
  const auto wte = random_uniform(vocab * C, 51), wpe = random_uniform(capacity * C, 52);
  const auto qkv = random_uniform(T * 3 * C, 53);
  // Two leading ids the embedding must skip (first = 2), then the five it reads.
  const std::vector<std::int32_t> ids = {9, 9, 3, 0, 10, 3, 7};
  const std::size_t first = 2;
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    INFO(name << " threads=" << threads);
    Buffer dte = backend.upload_new(wte), dpe = backend.upload_new(wpe);
    Buffer dx = backend.upload_new(nan_filled(T * C));
    Buffer dids = backend.allocate(ids.size() * sizeof(std::int32_t));
    backend.moves().upload_ids(dids, 0, ids);
    backend.moves().embed(dids, first, T, pos0, C, dte, &dpe, dx);
    const auto x = download(backend, dx, T * C);
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t c = 0; c < C; ++c) {
        REQUIRE(x[t * C + c] == wte[ids[first + t] * C + c] + wpe[(pos0 + t) * C + c]);
      }
    }
    // An id outside the vocabulary (the -1 of an argmax over garbage) is a row of NaN.
    const std::vector<std::int32_t> bad = {-1, std::int32_t(vocab)};
    backend.moves().upload_ids(dids, 0, bad);
    backend.moves().embed(dids, 0, 2, pos0, C, dte, &dpe, dx);
    const auto nan_rows = download(backend, dx, 2 * C);
    for (const float v : nan_rows) REQUIRE(std::isnan(v));
    CHECK_THROWS_AS(backend.moves().embed(dids, 5, 3, pos0, C, dte, &dpe, dx), std::length_error);

    const HeadsShape hs{T, H, D, capacity};
    Buffer dqkv = backend.upload_new(qkv), dq = backend.upload_new(nan_filled(H * T * D));
    Buffer dk = backend.upload_new(nan_filled(H * capacity * D));
    Buffer dv = backend.upload_new(nan_filled(H * capacity * D));
    backend.moves().split_heads(hs, pos0, dqkv, dq, dk, dv);
    const auto q = download(backend, dq, H * T * D);
    const auto k = download(backend, dk, H * capacity * D);
    const auto v = download(backend, dv, H * capacity * D);
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t h = 0; h < H; ++h) {
        for (std::int64_t d = 0; d < D; ++d) {
          REQUIRE(q[(h * T + t) * D + d] == qkv[t * 3 * C + h * D + d]);
          REQUIRE(k[(h * capacity + pos0 + t) * D + d] == qkv[t * 3 * C + C + h * D + d]);
          REQUIRE(v[(h * capacity + pos0 + t) * D + d] == qkv[t * 3 * C + 2 * C + h * D + d]);
        }
      }
    }
    // Cache rows outside pos0 .. pos0 + T - 1 are left alone.
    CHECK(std::isnan(k[(0 * capacity + pos0 - 1) * D]));
    CHECK(std::isnan(v[(2 * capacity + pos0 + T) * D]));

    Buffer dy = backend.upload_new(nan_filled(T * C));
    backend.moves().merge_heads(hs, dq, dy);
    const auto y = download(backend, dy, T * C);
    for (std::int64_t t = 0; t < T; ++t) {
      for (std::int64_t c = 0; c < C; ++c) REQUIRE(y[t * C + c] == qkv[t * 3 * C + c]);
    }

    Buffer dcopy = backend.upload_new(nan_filled(C));
    backend.moves().copy(dy, (T - 1) * C, dcopy, 0, C);
    const auto last = download(backend, dcopy, C);
    for (std::int64_t c = 0; c < C; ++c) REQUIRE(last[c] == y[(T - 1) * C + c]);
  });
}

TEST_CASE("every backend's argmax picks the first largest logit, and -1 for a non-finite one") {
  // Random logits over a length that is no multiple of a GPU block, the maximum planted at a
  // few places (first, middle, last) and tied at a later index, then NaN and infinity.
  const std::int64_t n = 50257;
  for_each_backend_and_thread_count([&](Backend& backend, const std::string& name, int threads) {
    INFO(name << " threads=" << threads);
    Buffer dids = backend.allocate(4 * sizeof(std::int32_t));
    backend.moves().upload_ids(dids, 0, std::vector<std::int32_t>(4, -7));
    for (const std::int64_t at : {std::int64_t{0}, std::int64_t{31337}, n - 1}) {
      INFO("maximum at " << at);
      auto logits = random_uniform(n, 61 + at);
      logits[at] = 2.0f;
      if (at + 1000 < n) logits[at + 1000] = 2.0f;  // a tie: the first index wins
      Buffer dl = backend.upload_new(logits);
      backend.moves().argmax(dl, 0, n, dids, 1);
      std::vector<std::int32_t> got(4);
      backend.moves().download_ids(dids, 0, got);
      CHECK(got[1] == at);
      CHECK(got[0] == -7);  // neighbours untouched
      CHECK(got[2] == -7);
    }
    for (const float garbage : {std::nanf(""), INFINITY, -INFINITY}) {
      INFO("garbage " << garbage);
      auto logits = random_uniform(n, 71);
      logits[12345] = garbage;
      Buffer dl = backend.upload_new(logits);
      backend.moves().argmax(dl, 0, n, dids, 3);
      std::vector<std::int32_t> got(1);
      backend.moves().download_ids(dids, 3, got);
      CHECK(got[0] == -1);
    }
    {
      // One row of a batch's logits, in place: indices count from the row's start, and the
      // row before (holding a larger value and a NaN) is not read. Odd sizes reach the tail.
      const std::int64_t rows = 3, width = 1001;
      auto logits = random_uniform(rows * width, 83);
      logits[5] = 9.0f;
      logits[7] = std::nanf("");
      logits[width + 600] = 3.0f;
      logits[width + 999] = 3.0f;  // a tie in the tail: the first wins
      logits[2 * width] = 4.0f;    // the row after is not read either
      Buffer dl = backend.upload_new(logits);
      backend.moves().argmax(dl, static_cast<std::size_t>(width), width, dids, 2);
      std::vector<std::int32_t> got(1);
      backend.moves().download_ids(dids, 2, got);
      CHECK(got[0] == 600);
      logits[width + 1000] = 5.0f;  // the maximum in the last (tail) element
      Buffer tail = backend.upload_new(logits);
      backend.moves().argmax(tail, static_cast<std::size_t>(width), width, dids, 2);
      backend.moves().download_ids(dids, 2, got);
      CHECK(got[0] == 1000);
    }
    Buffer dl = backend.upload_new(random_uniform(8, 5));
    CHECK_THROWS_AS(backend.moves().argmax(dl, 0, 9, dids, 0), std::length_error);
    CHECK_THROWS_AS(backend.moves().argmax(dl, 1, 8, dids, 0), std::length_error);
    CHECK_THROWS_AS(backend.moves().argmax(dl, 0, 8, dids, 4), std::length_error);
  });
}
