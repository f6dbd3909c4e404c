// Highway compiles this file once per SIMD target (foreach_target re-includes it).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/attention.cpp"
// foreach_target must come first, then highway.h, then the contrib headers.
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/aligned_allocator.h>
#include <hwy/contrib/math/math-inl.h>
#include "kernels/simd/sums_of_lanes-inl.h"
// clang-format on

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/float16.hpp"
#include "core/kv_format.hpp"
#include "kernels/simd/attention.hpp"
#include "kernels/simd/backend.hpp"
#include "kernels/simd/scratch.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Tiles: a block of kBr queries against tiles of kBc keys. The working set per step,
// K^T tile (D x 64), V tile (64 x D), scores (64 x 64) and the output accumulator
// (64 x D), is 64 KiB at D = 64: L1 and L2 resident.
constexpr size_t kBr = static_cast<size_t>(kAttentionQueryBlock);
constexpr size_t kBc = 64;
constexpr size_t kLanes = hn::MaxLanes(DF());  // fixed-width targets: the lane count
constexpr size_t kScoreVectors = kBc / kLanes;
// Query rows that share each K^T load: the accumulators (rows x kScoreVectors) must fit
// the register file: 4 x 4 on AVX-512 (32 registers), 1 x 8 on AVX2 (16 registers).
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3
constexpr size_t kRowGroup = 1;
#else
constexpr size_t kRowGroup = 4;
#endif
static_assert(kBr % kRowGroup == 0 && kBc % kLanes == 0);

// `rows` consecutive cached rows of D elements in `format` into floats [rows][D]: f16 widened,
// q8_0's blocks of 32 scaled (the values core/kv_format's load_kv_row gives, bit for bit).
void RowsToFloats(WeightFormat format, const uint8_t* HWY_RESTRICT src, size_t rows, size_t D,
                  float* HWY_RESTRICT dst) {
  const DF d;
  const size_t n = rows * D;
  if (format == WeightFormat::f16) {
    const hn::Rebind<hwy::float16_t, DF> dh;
    const auto* h = reinterpret_cast<const hwy::float16_t*>(src);
    size_t i = 0;
    for (; i + kLanes <= n; i += kLanes)
      hn::StoreU(hn::PromoteTo(d, hn::LoadU(dh, h + i)), d, dst + i);
    for (; i < n; ++i) dst[i] = half_at(src + 2 * i);
    return;
  }
  // q8_0: 34-byte blocks, an f16 scale then 32 int8; rows are whole blocks.
  static_assert(32 % kLanes == 0);
  const hn::Rebind<int8_t, DF> d8;
  const hn::Rebind<int32_t, DF> di;
  for (size_t b = 0; b < n / 32; ++b) {
    const uint8_t* block = src + b * 34;
    const VF scale = hn::Set(d, half_at(block));
    const auto* q = reinterpret_cast<const int8_t*>(block + 2);
    for (size_t x = 0; x < 32; x += kLanes) {
      const VF values = hn::ConvertTo(d, hn::PromoteTo(di, hn::LoadU(d8, q + x)));
      hn::StoreU(hn::Mul(scale, values), d, dst + b * 32 + x);
    }
  }
}

// Rows first .. first + rows - 1 of a cache as floats: in place for f32, else read into `out`.
const float* CachedRows(const AttentionShape& s, const uint8_t* head, int64_t first, size_t rows,
                        float* out) {
  const uint8_t* at = head + first * s.kv_row_bytes();
  if (s.kv_format == WeightFormat::f32) return reinterpret_cast<const float*>(at);
  RowsToFloats(s.kv_format, at, rows, static_cast<size_t>(s.D), out);
  return out;
}

// Queries that share each load of a key or value row in a decode step: 4 x 4 accumulators.
constexpr size_t kQuerySet = 4;

// Scores of Q queries (rows q[g]) against a chunk's bc keys (rows kc [bc][D]), scaled, into
// sc[g]; each key vector is loaded once for all Q.
template <size_t Q>
HWY_INLINE void SetScores(const float* const* q, const float* HWY_RESTRICT kc, size_t bc, size_t D,
                          float scale, float* const* sc) {
  const DF d;
  const size_t D_vec = D / kLanes * kLanes;  // whole vectors; the rest goes scalar
  size_t key = 0;
  for (; key + 4 <= bc; key += 4) {  // four keys at a time, one reduction per query
    const float* k0 = kc + key * D;
    VF acc[Q][4];
    for (size_t g = 0; g < Q; ++g) {
      for (size_t i = 0; i < 4; ++i) acc[g][i] = hn::Zero(d);
    }
    for (size_t x = 0; x < D_vec; x += kLanes) {
      const VF k_0 = hn::LoadU(d, k0 + x), k_1 = hn::LoadU(d, k0 + D + x),
               k_2 = hn::LoadU(d, k0 + 2 * D + x), k_3 = hn::LoadU(d, k0 + 3 * D + x);
      for (size_t g = 0; g < Q; ++g) {
        const VF qv = hn::LoadU(d, q[g] + x);
        acc[g][0] = hn::MulAdd(qv, k_0, acc[g][0]);
        acc[g][1] = hn::MulAdd(qv, k_1, acc[g][1]);
        acc[g][2] = hn::MulAdd(qv, k_2, acc[g][2]);
        acc[g][3] = hn::MulAdd(qv, k_3, acc[g][3]);
      }
    }
    for (size_t g = 0; g < Q; ++g) {
      StoreSumsOfLanes4(d, acc[g][0], acc[g][1], acc[g][2], acc[g][3], sc[g] + key);
      for (size_t i = 0; i < 4; ++i) {
        for (size_t x = D_vec; x < D; ++x) sc[g][key + i] += q[g][x] * k0[i * D + x];
      }
    }
  }
  for (; key < bc; ++key) {
    const float* krow = kc + key * D;
    for (size_t g = 0; g < Q; ++g) {
      VF dot = hn::Zero(d);
      for (size_t x = 0; x < D_vec; x += kLanes)
        dot = hn::MulAdd(hn::LoadU(d, q[g] + x), hn::LoadU(d, krow + x), dot);
      float score = hn::GetLane(hn::SumOfLanes(d, dot));
      for (size_t x = D_vec; x < D; ++x) score += q[g][x] * krow[x];
      sc[g][key] = score;
    }
  }
  for (size_t g = 0; g < Q; ++g) {
    for (key = 0; key < bc; ++key) sc[g][key] *= scale;
  }
}

// One query's online softmax over a chunk's bc scores (sc, kBc wide, aligned): the scores
// become exp(s - m_new) (0 past bc), m and l move on; returns exp(m_old - m_new), the factor
// that rescales what was accumulated.
HWY_INLINE float SoftmaxStep(float* HWY_RESTRICT sc, size_t bc, float& m, float& l) {
  const DF d;
  const float minus_inf = -std::numeric_limits<float>::infinity();
  std::fill(sc + bc, sc + kBc, minus_inf);
  VF vmax = hn::Set(d, minus_inf);
  for (size_t c = 0; c < kBc; c += kLanes) vmax = hn::Max(vmax, hn::Load(d, sc + c));
  const float m_new = std::max(m, hn::GetLane(hn::MaxOfLanes(d, vmax)));
  const VF vm = hn::Set(d, m_new);
  VF vsum = hn::Zero(d);
  for (size_t c = 0; c < kBc; c += kLanes) {
    const auto valid = hn::FirstN(d, bc > c ? bc - c : 0);
    const VF p = hn::IfThenElseZero(valid, hn::Exp(d, hn::Sub(hn::Load(d, sc + c), vm)));
    hn::Store(p, d, sc + c);
    vsum = hn::Add(vsum, p);
  }
  const float correction = std::exp(m - m_new);  // exp(-inf) = 0 on the first chunk
  l = l * correction + hn::GetLane(hn::SumOfLanes(d, vsum));
  m = m_new;
  return correction;
}

// acc[g] = acc[g] * correction[g] + P_g V for Q queries over a chunk's bc value rows (vc
// [bc][D]); each value vector is loaded once for all Q. acc rows are aligned.
template <size_t Q>
HWY_INLINE void AccumulateValues(const float* HWY_RESTRICT vc, size_t bc, size_t D,
                                 const float* const* p, float* const* acc,
                                 const float* correction) {
  const DF d;
  const size_t D_vec = D / kLanes * kLanes;
  size_t xv = 0;
  for (; xv + 4 * kLanes <= D_vec; xv += 4 * kLanes) {  // four vectors of the row at a time
    VF a[Q][4];
    for (size_t g = 0; g < Q; ++g) {
      const VF c = hn::Set(d, correction[g]);
      for (size_t i = 0; i < 4; ++i) a[g][i] = hn::Mul(hn::Load(d, acc[g] + xv + i * kLanes), c);
    }
    for (size_t key = 0; key < bc; ++key) {
      const float* vrow = vc + key * D + xv;
      const VF v0 = hn::LoadU(d, vrow), v1 = hn::LoadU(d, vrow + kLanes),
               v2 = hn::LoadU(d, vrow + 2 * kLanes), v3 = hn::LoadU(d, vrow + 3 * kLanes);
      for (size_t g = 0; g < Q; ++g) {
        const VF pg = hn::Set(d, p[g][key]);
        a[g][0] = hn::MulAdd(pg, v0, a[g][0]);
        a[g][1] = hn::MulAdd(pg, v1, a[g][1]);
        a[g][2] = hn::MulAdd(pg, v2, a[g][2]);
        a[g][3] = hn::MulAdd(pg, v3, a[g][3]);
      }
    }
    for (size_t g = 0; g < Q; ++g) {
      for (size_t i = 0; i < 4; ++i) hn::Store(a[g][i], d, acc[g] + xv + i * kLanes);
    }
  }
  for (; xv < D_vec; xv += kLanes) {
    for (size_t g = 0; g < Q; ++g) {
      VF a = hn::Mul(hn::Load(d, acc[g] + xv), hn::Set(d, correction[g]));
      for (size_t key = 0; key < bc; ++key)
        a = hn::MulAdd(hn::Set(d, p[g][key]), hn::LoadU(d, vc + key * D + xv), a);
      hn::Store(a, d, acc[g] + xv);
    }
  }
  for (size_t x = D_vec; x < D; ++x) {
    for (size_t g = 0; g < Q; ++g) {
      float a = acc[g][x] * correction[g];
      for (size_t key = 0; key < bc; ++key) a += p[g][key] * vc[key * D + x];
      acc[g][x] = a;
    }
  }
}

// Q queries' step over one chunk: scores, softmax, values.
template <size_t Q>
HWY_INLINE void QuerySetChunk(const float* const* q, const float* HWY_RESTRICT kc,
                              const float* HWY_RESTRICT vc, size_t bc, size_t D, float scale,
                              float* const* sc, float* const* acc, float* m, float* l) {
  SetScores<Q>(q, kc, bc, D, scale, sc);
  float correction[Q];
  for (size_t g = 0; g < Q; ++g) correction[g] = SoftmaxStep(sc[g], bc, m[g], l[g]);
  AccumulateValues<Q>(vc, bc, D, sc, acc, correction);
}

// The G query heads that share one KV head (grouped-query attention; G = 1 without), each
// against its `visible` keys, reading K and V rows where they lie: the decode step, where
// packing a tile for a single query would cost as much as using it. The same online softmax
// over chunks of kBc keys; each chunk is read (and converted from a stored format) once for the
// whole group, and each of its key and value vectors loaded once for up to kQuerySet queries,
// so a KV head streams from memory once per step, not once per query head.
// Query g's row at q + g q_stride, its output at o + g o_stride; scratch O(G (kBc + D)).
void GroupQuery(const AttentionShape& s, const float* HWY_RESTRICT q, size_t q_stride,
                const uint8_t* HWY_RESTRICT kh, const uint8_t* HWY_RESTRICT vh,
                float* HWY_RESTRICT o, size_t o_stride, size_t G, int64_t visible,
                Scratch& scratch) {
  const size_t D = static_cast<size_t>(s.D);
  const size_t Dp = hwy::DivCeil(D, kLanes) * kLanes;  // accumulator rows, whole vectors apart
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  // A chunk's keys and values read out of a stored format: 2 kBc D floats more.
  const size_t converted = s.kv_format == WeightFormat::f32 ? 0 : kBc * D;
  float* sc = scratch.get(G * (kBc + Dp + 2) + 2 * converted);
  float* acc = sc + G * kBc;  // [G][Dp], aligned rows (as sc's)
  float* m = acc + G * Dp;    // running maxima
  float* l = m + G;           // running sums
  float* kbuf = l + G;
  float* vbuf = kbuf + converted;
  std::fill(acc, acc + G * Dp, 0.0f);
  std::fill(m, m + G, -std::numeric_limits<float>::infinity());
  std::fill(l, l + G, 0.0f);
  for (int64_t j0 = 0; j0 < visible; j0 += kBc) {
    const size_t bc = static_cast<size_t>(std::min<int64_t>(kBc, visible - j0));
    const float* kc = CachedRows(s, kh, j0, bc, kbuf);  // the chunk's rows [bc][D]
    const float* vc = CachedRows(s, vh, j0, bc, vbuf);
    for (size_t g0 = 0; g0 < G; g0 += kQuerySet) {
      const float* qs[kQuerySet];
      float* scs[kQuerySet];
      float* accs[kQuerySet];
      const size_t n = std::min(kQuerySet, G - g0);
      for (size_t i = 0; i < n; ++i) {
        qs[i] = q + (g0 + i) * q_stride;
        scs[i] = sc + (g0 + i) * kBc;
        accs[i] = acc + (g0 + i) * Dp;
      }
      float* mg = m + g0;
      float* lg = l + g0;
      switch (n) {
        case 1:
          QuerySetChunk<1>(qs, kc, vc, bc, D, scale, scs, accs, mg, lg);
          break;
        case 2:
          QuerySetChunk<2>(qs, kc, vc, bc, D, scale, scs, accs, mg, lg);
          break;
        case 3:
          QuerySetChunk<3>(qs, kc, vc, bc, D, scale, scs, accs, mg, lg);
          break;
        default:
          QuerySetChunk<4>(qs, kc, vc, bc, D, scale, scs, accs, mg, lg);
          break;
      }
    }
  }
  for (size_t g = 0; g < G; ++g) {
    const float inv = 1.0f / l[g];
    for (size_t x = 0; x < D; ++x) o[g * o_stride + x] = acc[g * Dp + x] * inv;
  }
}

// Query heads g0 .. g1 - 1 of the group of batch b that shares KV head kvh, at the decode
// position (S = 1).
void DecodeGroupImpl(const AttentionShape& s, const float* HWY_RESTRICT q,
                     const uint8_t* HWY_RESTRICT k, const uint8_t* HWY_RESTRICT v,
                     float* HWY_RESTRICT o, int64_t b, int64_t kvh, int64_t g0, int64_t g1) {
  thread_local Scratch scratch;
  const int64_t G = g1 - g0, bh0 = b * s.H + kvh * s.group() + g0, row_bytes = s.kv_row_bytes();
  const int64_t pos = s.L - 1, first = s.first_key(pos);
  const int64_t head = (b * s.kv_head_count() + kvh) * s.capacity() + first;
  GroupQuery(s, q + bh0 * s.D, static_cast<size_t>(s.D), k + head * row_bytes, v + head * row_bytes,
             o + bh0 * s.D, static_cast<size_t>(s.D), static_cast<size_t>(G), pos - first + 1,
             scratch);
}

void FusedBlockImpl(const AttentionShape& s, const float* HWY_RESTRICT q,
                    const uint8_t* HWY_RESTRICT k, const uint8_t* HWY_RESTRICT v,
                    float* HWY_RESTRICT o, int64_t bh, int64_t i0, int64_t i1) {
  const DF d;
  const size_t D = static_cast<size_t>(s.D);
  const size_t Dp = hwy::DivCeil(D, kLanes) * kLanes;  // V and O rows padded to whole vectors
  const size_t rows = static_cast<size_t>(i1 - i0);
  const int64_t cap = s.capacity(), row_bytes = s.kv_row_bytes();
  const float scale = 1.0f / std::sqrt(static_cast<float>(D));
  const float minus_inf = -std::numeric_limits<float>::infinity();

  thread_local Scratch scratch;
  if (rows == 1) {
    // The query's keys first .. pos: a window's, or every key up to its own.
    const int64_t pos = s.L - s.S + i0, first = s.first_key(pos);
    GroupQuery(s, q + (bh * s.S + i0) * s.D, 0, k + (s.kv_head_of(bh) * cap + first) * row_bytes,
               v + (s.kv_head_of(bh) * cap + first) * row_bytes, o + (bh * s.S + i0) * s.D, 0, 1,
               pos - first + 1, scratch);
    return;
  }
  const size_t converted = s.kv_format == WeightFormat::f32 ? 0 : kBc * D;
  float* qp =
      scratch.get(kBr * D + D * kBc + kBc * Dp + kBr * kBc + kBr * Dp + 2 * kBr + 2 * converted);
  float* kt = qp + kBr * D;     // K tile transposed: [D][kBc]
  float* vp = kt + D * kBc;     // V tile: [kBc][Dp]
  float* sc = vp + kBc * Dp;    // scores, then probabilities: [kBr][kBc]
  float* acc = sc + kBr * kBc;  // unnormalized output: [kBr][Dp]
  float* m = acc + kBr * Dp;    // running row maximum
  float* l = m + kBr;           // running row sum of exp
  float* kbuf = l + kBr;        // a tile's keys and values read out of a stored format
  float* vbuf = kbuf + converted;

  // Queries packed and zero-padded to whole row groups, so the score loop needs no edge case.
  const size_t rows_padded = hwy::DivCeil(rows, kRowGroup) * kRowGroup;
  std::copy(q + (bh * s.S + i0) * s.D, q + (bh * s.S + i1) * s.D, qp);
  std::fill(qp + rows * D, qp + rows_padded * D, 0.0f);
  std::fill(acc, acc + kBr * Dp, 0.0f);
  std::fill(m, m + kBr, minus_inf);
  std::fill(l, l + kBr, 0.0f);

  const uint8_t* kh = k + s.kv_head_of(bh) * cap * row_bytes;
  const uint8_t* vh = v + s.kv_head_of(bh) * cap * row_bytes;
  const int64_t first_pos = s.L - s.S + i0;  // absolute position of the block's first query
  const int64_t last_pos = s.L - s.S + i1 - 1;

  // From the first key any query of the block sees (its first query's window start).
  for (int64_t j0 = s.first_key(first_pos); j0 <= last_pos; j0 += kBc) {
    const size_t bc = static_cast<size_t>(std::min<int64_t>(kBc, last_pos + 1 - j0));
    const float* kc = CachedRows(s, kh, j0, bc, kbuf);  // the tile's rows [bc][D]
    const float* vc = CachedRows(s, vh, j0, bc, vbuf);
    for (size_t c = 0; c < kBc; ++c) {
      if (c < bc) {
        const float* krow = kc + c * D;
        for (size_t x = 0; x < D; ++x) kt[x * kBc + c] = krow[x];
        std::copy(vc + c * D, vc + (c + 1) * D, vp + c * Dp);
        std::fill(vp + c * Dp + D, vp + (c + 1) * Dp, 0.0f);
      } else {  // past the last key: zeros, so 0 * V stays 0
        for (size_t x = 0; x < D; ++x) kt[x * kBc + c] = 0.0f;
        std::fill(vp + c * Dp, vp + (c + 1) * Dp, 0.0f);
      }
    }

    // Scores for kRowGroup queries at a time: each K^T vector is loaded once per group.
    const VF vscale = hn::Set(d, scale);
    for (size_t r0 = 0; r0 < rows_padded; r0 += kRowGroup) {
      VF sacc[kRowGroup][kScoreVectors];
      for (size_t r = 0; r < kRowGroup; ++r) {
        for (size_t cv = 0; cv < kScoreVectors; ++cv) sacc[r][cv] = hn::Zero(d);
      }
      for (size_t x = 0; x < D; ++x) {
        VF kv[kScoreVectors];
        for (size_t cv = 0; cv < kScoreVectors; ++cv)
          kv[cv] = hn::Load(d, kt + x * kBc + cv * kLanes);
        for (size_t r = 0; r < kRowGroup; ++r) {
          const VF qv = hn::Set(d, qp[(r0 + r) * D + x]);
          for (size_t cv = 0; cv < kScoreVectors; ++cv)
            sacc[r][cv] = hn::MulAdd(qv, kv[cv], sacc[r][cv]);
        }
      }
      for (size_t r = 0; r < kRowGroup; ++r) {
        for (size_t cv = 0; cv < kScoreVectors; ++cv) {
          hn::Store(hn::Mul(sacc[r][cv], vscale), d, sc + (r0 + r) * kBc + cv * kLanes);
        }
      }
    }

    // Online softmax: rescale what was accumulated by exp(m_old - m_new).
    for (size_t r = 0; r < rows_padded; ++r) {
      float* row = sc + r * kBc;
      // This query's keys in the tile: [lo, hi) (causal end; a window's start).
      const int64_t pos = first_pos + int64_t(r);
      const int64_t hi = r < rows ? std::min<int64_t>(bc, pos - j0 + 1) : 0;
      const int64_t lo = std::max<int64_t>(0, s.first_key(pos) - j0);
      if (hi <= lo) {  // the tile is all in this query's future or before its window (or padding)
        std::fill(row, row + kBc, 0.0f);
        continue;
      }
      auto lanes = [&](int64_t n, size_t cv) {
        return hn::FirstN(d, static_cast<size_t>(std::clamp<int64_t>(n - int64_t(cv * kLanes), 0,
                                                                     int64_t(kLanes))));
      };
      auto valid = [&](size_t cv) { return hn::AndNot(lanes(lo, cv), lanes(hi, cv)); };
      VF vmax = hn::Set(d, minus_inf);
      for (size_t cv = 0; cv < kScoreVectors; ++cv) {
        vmax = hn::Max(
            vmax, hn::IfThenElse(valid(cv), hn::Load(d, row + cv * kLanes), hn::Set(d, minus_inf)));
      }
      const float m_new = std::max(m[r], hn::GetLane(hn::MaxOfLanes(d, vmax)));
      const VF vm = hn::Set(d, m_new);
      VF vsum = hn::Zero(d);
      for (size_t cv = 0; cv < kScoreVectors; ++cv) {
        // Masked lanes may hold anything finite; they are zeroed after the exp.
        const VF p =
            hn::IfThenElseZero(valid(cv), hn::Exp(d, hn::Sub(hn::Load(d, row + cv * kLanes), vm)));
        hn::Store(p, d, row + cv * kLanes);
        vsum = hn::Add(vsum, p);
      }
      const float correction = std::exp(m[r] - m_new);  // exp(-inf) = 0 on the first tile
      l[r] = l[r] * correction + hn::GetLane(hn::SumOfLanes(d, vsum));
      m[r] = m_new;
      if (correction != 1.0f) {
        const VF vc = hn::Set(d, correction);
        for (size_t x = 0; x < Dp; x += kLanes)
          hn::Store(hn::Mul(hn::Load(d, acc + r * Dp + x), vc), d, acc + r * Dp + x);
      }
    }

    // acc += P . V, kRowGroup rows at a time so each V vector is loaded once per group.
    for (size_t r0 = 0; r0 < rows_padded; r0 += kRowGroup) {
      for (size_t x = 0; x < Dp; x += kLanes) {
        VF oacc[kRowGroup];
        for (size_t r = 0; r < kRowGroup; ++r) oacc[r] = hn::Load(d, acc + (r0 + r) * Dp + x);
        for (size_t c = 0; c < bc; ++c) {
          const VF vv = hn::Load(d, vp + c * Dp + x);
          for (size_t r = 0; r < kRowGroup; ++r) {
            oacc[r] = hn::MulAdd(hn::Set(d, sc[(r0 + r) * kBc + c]), vv, oacc[r]);
          }
        }
        for (size_t r = 0; r < kRowGroup; ++r) hn::Store(oacc[r], d, acc + (r0 + r) * Dp + x);
      }
    }
  }

  for (size_t r = 0; r < rows; ++r) {
    const float inv = 1.0f / l[r];
    float* orow = o + (bh * s.S + i0 + static_cast<int64_t>(r)) * s.D;
    for (size_t x = 0; x < D; ++x) orow[x] = acc[r * Dp + x] * inv;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace aigc::simd {

HWY_EXPORT(FusedBlockImpl);
HWY_EXPORT(DecodeGroupImpl);

void attention_decode_group(const AttentionShape& shape, const float* q, const std::uint8_t* k,
                            const std::uint8_t* v, float* o, std::int64_t b, std::int64_t kv_head,
                            std::int64_t first, std::int64_t last) {
  if (last < 0) last = shape.group();
  HWY_DYNAMIC_DISPATCH(DecodeGroupImpl)(shape, q, k, v, o, b, kv_head, first, last);
}

void attention_fused_block(const AttentionShape& shape, const float* q, const std::uint8_t* k,
                           const std::uint8_t* v, float* o, std::int64_t bh, std::int64_t i0,
                           std::int64_t i1) {
  HWY_DYNAMIC_DISPATCH(FusedBlockImpl)(shape, q, k, v, o, bh, i0, i1);
}

void decode_batch_attention_task(const HeadsShape& s, std::int64_t position, const float* qkv_row,
                                 std::uint8_t* k_cache, std::uint8_t* v_cache, float* y_row,
                                 std::int64_t g) {
  const std::int64_t H = s.heads, Hkv = s.kv_head_count(), D = s.head_dim;
  const std::int64_t at = (g * s.capacity + position) * s.kv_row_bytes();
  store_kv_row(s.kv_format, qkv_row + (H + g) * D, D, k_cache + at);
  store_kv_row(s.kv_format, qkv_row + (H + Hkv + g) * D, D, v_cache + at);
  // The fused kernel's one-query case: Q head h at qkv_row + h * D, its output at y_row + h * D.
  const AttentionShape one{.B = 1,
                           .H = H,
                           .S = 1,
                           .L = position + 1,
                           .D = D,
                           .kv_capacity = s.capacity,
                           .kv_heads = Hkv,
                           .window = s.window,
                           .kv_format = s.kv_format};
  attention_decode_group(one, qkv_row, k_cache, v_cache, y_row, 0, g);
}

namespace {

class SimdAttention final : public AttentionKernel {
 public:
  explicit SimdAttention(const AttentionShape& shape) : AttentionKernel(shape) {}
  void compute(const Buffer& q, const Buffer& k, const Buffer& v, Buffer& o) override {
    if (shape().S == 1) {  // a decode step: each KV head's keys read once for its query heads
      for (std::int64_t bg = 0; bg < shape().B * shape().kv_head_count(); ++bg) {
        attention_decode_group(shape(), q.as<const float>(), k.as<const std::uint8_t>(),
                               v.as<const std::uint8_t>(), o.as<float>(),
                               bg / shape().kv_head_count(), bg % shape().kv_head_count());
      }
      return;
    }
    for (std::int64_t bh = 0; bh < shape().B * shape().H; ++bh) {
      for (std::int64_t i0 = 0; i0 < shape().S; i0 += kAttentionQueryBlock) {
        attention_fused_block(shape(), q.as<const float>(), k.as<const std::uint8_t>(),
                              v.as<const std::uint8_t>(), o.as<float>(), bh, i0,
                              std::min(shape().S, i0 + kAttentionQueryBlock));
      }
    }
  }

 private:
};

}  // namespace

std::unique_ptr<AttentionKernel> make_attention_kernel(const AttentionShape& shape) {
  return std::make_unique<SimdAttention>(shape);
}

AIGC_REGISTER_KERNEL(kernels(), AttentionShape,
                     [](Backend&, const AttentionShape& s) { return make_attention_kernel(s); });

}  // namespace aigc::simd
#endif  // HWY_ONCE
