// Highway compiles this file once per SIMD target (foreach_target re-includes it).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/simd/gemm.cpp"
// foreach_target must come first, then highway.h, then the contrib headers.
// clang-format off
#include <hwy/foreach_target.h>
#include <hwy/highway.h>
#include <hwy/cache_control.h>
#include <hwy/aligned_allocator.h>
#include "kernels/simd/sums_of_lanes-inl.h"
// clang-format on

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/simd/gemm.hpp"
#include "kernels/simd/gemm_bf16.hpp"
#include "kernels/simd/gemm_int8.hpp"
#include "kernels/simd/gemv_int8.hpp"
#include "kernels/simd/scratch.hpp"

HWY_BEFORE_NAMESPACE();
namespace aigc::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Register block: MR rows x NV vectors of C stay in registers for a whole K block.
// The accumulators, NV vectors of B and one broadcast of A must fit the register
// file: 16 registers on AVX2 and older (6x2 + 2 + 1 = 15), 32 on AVX-512 (12x2 + 2 + 1 = 27).
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3
constexpr size_t kMR = 6;
#else
constexpr size_t kMR = 12;
#endif
constexpr size_t kNV = 2;

// Cache blocks (floats). A deep K block matters most: C is read and written once per
// K block, and with power-of-two row strides those C rows collide in the same cache sets.
// Measured on a Sapphire Rapids core (48 KiB L1, 2 MiB L2) at 2048^3: KC 256 -> 158,
// 512 -> 175, 768 -> 184 GFLOP/s. The packed A block (MC x KC x 4 B = 864 KiB on AVX-512)
// stays in L2; the KC x NR micro-panel of B (96 KiB) streams from L2 with the prefetchers.
constexpr size_t kKC = 768;
static_assert(kKC % 32 == 0, "a K block of a stored B must be whole 32-weight blocks");
constexpr size_t kMC = kMR * 24;
constexpr size_t kNC = 2048;

size_t Nr() { return kNV * hn::Lanes(DF()); }

// The matrix-vector paths stream B from memory, and the hardware prefetchers of these VMs keep
// too few lines in flight for one core to reach the memory's bandwidth: B is prefetched in
// software, a row this far ahead (floats) for B^T (rows being contiguous, that runs a couple of
// rows ahead), four rows ahead for B (kernels/simd/gemv_stored.cpp measures the distance).
constexpr size_t kPrefetchFloats = 2048;

// Packs rows [0, m) x columns [0, kc) of A into MR-row panels, k-major inside a panel
// (the micro-kernel broadcasts MR consecutive floats per k). Rows past m are zero.
void PackA(const float* HWY_RESTRICT a, int64_t lda, size_t m, size_t kc, float* HWY_RESTRICT out) {
  for (size_t i0 = 0; i0 < m; i0 += kMR) {
    const size_t rows = std::min(kMR, m - i0);
    for (size_t r = 0; r < kMR; ++r) {
      if (r < rows) {
        const float* src = a + (i0 + r) * lda;
        for (size_t k = 0; k < kc; ++k) out[k * kMR + r] = src[k];
      } else {
        for (size_t k = 0; k < kc; ++k) out[k * kMR + r] = 0.0f;
      }
    }
    out += kMR * kc;
  }
}

// Packs rows [0, kc) x columns [0, n) of B into NR-column panels, row-major inside a
// panel, zero-padded past n, so the micro-kernel reads NR aligned floats per k.
void PackB(const float* HWY_RESTRICT b, int64_t ldb, size_t kc, size_t n, float* HWY_RESTRICT out) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t nr = Nr();
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t cols = std::min(nr, n - j0);
    if (cols == nr) {
      for (size_t k = 0; k < kc; ++k) {
        const float* src = b + k * ldb + j0;
        for (size_t v = 0; v < kNV; ++v)
          hn::Store(hn::LoadU(d, src + v * L), d, out + k * nr + v * L);
      }
    } else {
      for (size_t k = 0; k < kc; ++k) {
        const float* src = b + k * ldb + j0;
        std::memcpy(out + k * nr, src, cols * sizeof(float));
        std::fill(out + k * nr + cols, out + (k + 1) * nr, 0.0f);
      }
    }
    out += nr * kc;
  }
}

// The same panels from B^T [n, k] (row stride ldb): column j of B is row j of B^T.
// A whole panel gathers a vector of its columns' weights per k (one lane per row of B^T) and
// stores it whole: the rows' lines stay in L1 across consecutive k. The scalar transpose it
// replaces wrote each float to another cache line, and packing took half as long as the GEMM
// it fed (a GPT-2 prefill's weights are all stored as B^T).
void PackBTransposed(const float* HWY_RESTRICT bt, int64_t ldb, size_t kc, size_t n,
                     float* HWY_RESTRICT out) {
  const DF d;
  const hn::RebindToSigned<DF> di;
  const size_t L = hn::Lanes(d);
  const size_t nr = Nr();
  // Lane j reads row j of the panel: offsets j * ldb (within int32: a panel is nr rows).
  const auto rows = hn::Mul(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(ldb)));
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t cols = std::min(nr, n - j0);
    if (cols == nr) {
      for (size_t k = 0; k < kc; ++k) {
        for (size_t v = 0; v < kNV; ++v) {
          const float* base = bt + (j0 + v * L) * ldb + k;
          hn::Store(hn::GatherIndex(d, base, rows), d, out + k * nr + v * L);
        }
      }
      out += nr * kc;
      continue;
    }
    for (size_t j = 0; j < nr; ++j) {
      if (j < cols) {
        const float* src = bt + (j0 + j) * ldb;
        for (size_t k = 0; k < kc; ++k) out[k * nr + j] = src[k];
      } else {
        for (size_t k = 0; k < kc; ++k) out[k * nr + j] = 0.0f;
      }
    }
    out += nr * kc;
  }
}

// The same panels from B^T stored in a format: each row's kc weights from column pc (a whole
// number of blocks: kKC is a multiple of 32) dequantized, then laid out as above. Packing is
// done once per K block and serves every row of A, so prefill runs the fp32 micro-kernel.
void PackBStored(const GemmView& g, size_t jc, size_t pc, size_t kc, size_t n,
                 float* HWY_RESTRICT out) {
  const size_t nr = Nr();
  const size_t offset = pc / static_cast<size_t>(block_elements(g.b_format)) *
                        static_cast<size_t>(block_bytes(g.b_format));
  thread_local Scratch row_scratch;
  float* row = row_scratch.get(kc);
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t cols = std::min(nr, n - j0);
    for (size_t j = 0; j < nr; ++j) {
      if (j < cols) {
        dequantize_row(g.b_format, g.b_stored + (jc + j0 + j) * g.ldb_bytes + offset,
                       static_cast<std::int64_t>(kc), row);
        for (size_t k = 0; k < kc; ++k) out[k * nr + j] = row[k];
      } else {
        for (size_t k = 0; k < kc; ++k) out[k * nr + j] = 0.0f;
      }
    }
    out += nr * kc;
  }
}

// C[m, :] = bias + sum_k A[m,k] B[k,:] for m < kGemvMaxRows: B streams through once, row
// by row (four rows per pass, so C is loaded and stored once per four multiply-adds), while
// a chunk of C stays in L1.
void Gemv(const GemmView& g) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t M = static_cast<size_t>(g.m), N = static_cast<size_t>(g.n),
               K = static_cast<size_t>(g.k);
  constexpr size_t kChunk = 2048;  // C floats per row per chunk: 4 rows x 8 KiB in L1
  for (size_t j0 = 0; j0 < N; j0 += kChunk) {
    const size_t nc = std::min(kChunk, N - j0);
    const size_t nv = nc / L * L;  // whole vectors; the tail goes scalar
    for (size_t m = 0; m < M; ++m) {
      float* c = g.c + m * g.ldc + j0;
      for (size_t j = 0; j < nc; ++j) c[j] = g.bias != nullptr ? g.bias[j0 + j] : 0.0f;
    }
    size_t k = 0;
    for (; k + 4 <= K; k += 4) {
      const float* b0 = g.b + k * g.ldb + j0;
      const float* b1 = b0 + g.ldb;
      const float* b2 = b1 + g.ldb;
      const float* b3 = b2 + g.ldb;
      // The four rows after these, ahead of their turn (see kPrefetchFloats).
      if (k + 8 <= K) {
        for (size_t j = 0; j < nc; j += 16) {
          hwy::Prefetch(b0 + 4 * g.ldb + j);
          hwy::Prefetch(b1 + 4 * g.ldb + j);
          hwy::Prefetch(b2 + 4 * g.ldb + j);
          hwy::Prefetch(b3 + 4 * g.ldb + j);
        }
      }
      for (size_t m = 0; m < M; ++m) {
        const float* a = g.a + m * g.lda + k;
        const VF a0 = hn::Set(d, a[0]), a1 = hn::Set(d, a[1]), a2 = hn::Set(d, a[2]),
                 a3 = hn::Set(d, a[3]);
        float* c = g.c + m * g.ldc + j0;
        for (size_t j = 0; j < nv; j += L) {
          VF acc = hn::LoadU(d, c + j);
          acc = hn::MulAdd(a0, hn::LoadU(d, b0 + j), acc);
          acc = hn::MulAdd(a1, hn::LoadU(d, b1 + j), acc);
          acc = hn::MulAdd(a2, hn::LoadU(d, b2 + j), acc);
          acc = hn::MulAdd(a3, hn::LoadU(d, b3 + j), acc);
          hn::StoreU(acc, d, c + j);
        }
        for (size_t j = nv; j < nc; ++j) {
          c[j] += a[0] * b0[j] + a[1] * b1[j] + a[2] * b2[j] + a[3] * b3[j];
        }
      }
    }
    for (; k < K; ++k) {
      const float* b0 = g.b + k * g.ldb + j0;
      for (size_t m = 0; m < M; ++m) {
        const float a0 = g.a[m * g.lda + k];
        float* c = g.c + m * g.ldc + j0;
        for (size_t j = 0; j < nc; ++j) c[j] += a0 * b0[j];
      }
    }
  }
}

// The same with B^T: C[m, j] is the dot product of row m of A with row j of B^T, four
// rows of B^T at a time so that each load of A serves four of them.
void GemvTransposed(const GemmView& g) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t M = static_cast<size_t>(g.m), N = static_cast<size_t>(g.n),
               K = static_cast<size_t>(g.k);
  const size_t kv = K / L * L;
  auto finish = [&](size_t m, size_t j, float dot) {
    float tail = 0;
    const float* a = g.a + m * g.lda;
    const float* b = g.b + j * g.ldb;
    for (size_t k = kv; k < K; ++k) tail += a[k] * b[k];
    g.c[m * g.ldc + j] = (g.bias != nullptr ? g.bias[j] : 0.0f) + dot + tail;
  };
  for (size_t j = 0; j < N; ++j) {
    const float* b0 = g.b + j * g.ldb;
    for (size_t m = 0; m < M; ++m) {
      const float* a = g.a + m * g.lda;
      VF s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
      size_t k = 0;
      for (; k + 4 * L <= kv; k += 4 * L) {
        if (m == 0) {
          hwy::Prefetch(b0 + k + kPrefetchFloats);
          hwy::Prefetch(b0 + k + L + kPrefetchFloats);
          hwy::Prefetch(b0 + k + 2 * L + kPrefetchFloats);
          hwy::Prefetch(b0 + k + 3 * L + kPrefetchFloats);
        }
        s0 = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, b0 + k), s0);
        s1 = hn::MulAdd(hn::LoadU(d, a + k + L), hn::LoadU(d, b0 + k + L), s1);
        s2 = hn::MulAdd(hn::LoadU(d, a + k + 2 * L), hn::LoadU(d, b0 + k + 2 * L), s2);
        s3 = hn::MulAdd(hn::LoadU(d, a + k + 3 * L), hn::LoadU(d, b0 + k + 3 * L), s3);
      }
      for (; k < kv; k += L) s0 = hn::MulAdd(hn::LoadU(d, a + k), hn::LoadU(d, b0 + k), s0);
      finish(m, j, hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3)))));
    }
  }
}

// C = A B^T for a few rows of A (a batched decode step: kGemvMaxRows < m <= kSmallMMaxRows)
// without packing: B^T streams from memory once, kSmallNB of its rows at a time (prefetched),
// and each K block of those rows is multiplied by every row of A while it sits in L1 (A, at
// most 64 rows, stays in L2). Packing B, as the GEMM below does, would read and write every
// weight once more per call, the whole cost of a step that reads each weight only M times.
// The block: 4 rows of A by 6 of B^T on AVX-512 (24 accumulators, 6 of B and one of A in its
// 32 registers; 10 loads per 24 multiply-adds; 16 or 64 rows are whole blocks), 2 by 4
// elsewhere (16 registers). The K block bounds the 6 rows' share of L1 (18 KiB) and is long
// enough that the sums' reduction and the read-add-write of C after it cost little.
// Rows past m or n in a block repeat the last row and are not stored.
#if HWY_ARCH_X86 && HWY_TARGET > HWY_AVX3
constexpr size_t kSmallMB = 2;
constexpr size_t kSmallNB = 4;
#else
constexpr size_t kSmallMB = 4;
constexpr size_t kSmallNB = 6;
#endif
constexpr size_t kSmallKC = 768;
void GemmSmallMTransposed(const GemmView& g) {
  const DF d;
  const size_t L = hn::Lanes(d);
  const size_t M = static_cast<size_t>(g.m), N = static_cast<size_t>(g.n),
               K = static_cast<size_t>(g.k);
  constexpr size_t kGroups = (kSmallNB + 3) / 4;  // columns reduced four at a time
  for (size_t j0 = 0; j0 < N; j0 += kSmallNB) {
    const float* b[kSmallNB];
    for (size_t c = 0; c < kSmallNB; ++c) b[c] = g.b + std::min(j0 + c, N - 1) * g.ldb;
    const size_t cols = std::min(kSmallNB, N - j0);
    for (size_t k0 = 0; k0 < K; k0 += kSmallKC) {
      const size_t k1 = std::min(K, k0 + kSmallKC);
      const size_t kv = k0 + (k1 - k0) / L * L;
      // The K block of B read after this one (the same rows' next block, or the next rows'
      // first) is prefetched across all row blocks, each prefetching a different few of its
      // rows: spread out, the misses stay in flight while the multiply-adds run instead of
      // queueing at once. A row block with none to fetch prefetches its own rows (in L1).
      // next[c]: where that block of row c starts; a step at k prefetches next[c] + (k - k0).
      const float* next[kSmallNB];
      for (size_t c = 0; c < kSmallNB; ++c) {
        next[c] = k1 < K ? b[c] + k1 : g.b + std::min(j0 + kSmallNB + c, N - 1) * g.ldb;
      }
      const size_t passes = hwy::DivCeil(M, kSmallMB);
      static_assert(kSmallNB <= 3 * 2, "3 prefetched rows per row block, at least 2 blocks");
      for (size_t m0 = 0, pass = 0; m0 < M; m0 += kSmallMB, ++pass) {
        const float* a[kSmallMB];
        for (size_t r = 0; r < kSmallMB; ++r) a[r] = g.a + std::min(m0 + r, M - 1) * g.lda;
        const float* fetch[3];
        for (size_t i = 0; i < 3; ++i) {
          const size_t c = pass + i * passes;
          fetch[i] = c < kSmallNB ? next[c] : b[i] + k0;
        }
        VF acc[kSmallMB][kGroups * 4];
        for (size_t r = 0; r < kSmallMB; ++r) {
          for (size_t c = 0; c < kGroups * 4; ++c) acc[r][c] = hn::Zero(d);
        }
        for (size_t k = k0; k < kv; k += L) {
          hwy::Prefetch(fetch[0] + (k - k0));
          hwy::Prefetch(fetch[1] + (k - k0));
          hwy::Prefetch(fetch[2] + (k - k0));
          VF bv[kSmallNB];
          for (size_t c = 0; c < kSmallNB; ++c) bv[c] = hn::LoadU(d, b[c] + k);
          for (size_t r = 0; r < kSmallMB; ++r) {
            const VF av = hn::LoadU(d, a[r] + k);
            for (size_t c = 0; c < kSmallNB; ++c) acc[r][c] = hn::MulAdd(av, bv[c], acc[r][c]);
          }
        }
        for (size_t r = 0; r < kSmallMB && m0 + r < M; ++r) {
          float sums[kGroups * 4];
          for (size_t q = 0; q < kGroups; ++q) {
            StoreSumsOfLanes4(d, acc[r][4 * q], acc[r][4 * q + 1], acc[r][4 * q + 2],
                              acc[r][4 * q + 3], sums + 4 * q);
          }
          float* out = g.c + (m0 + r) * g.ldc + j0;
          for (size_t c = 0; c < cols; ++c) {
            float dot = sums[c];
            for (size_t k = kv; k < k1; ++k) dot += a[r][k] * b[c][k];
            const float base = k0 > 0 ? out[c] : (g.bias != nullptr ? g.bias[j0 + c] : 0.0f);
            out[c] = base + dot;
          }
        }
      }
    }
  }
}

// C tile (MR x NR at c, row stride ldc) = or += packed A panel x packed B panel.
// first_k_block: overwrite C (adding the bias, if any) instead of accumulating into it.
// A partial tile (rows < MR or cols < NR) goes through a local buffer.
HWY_INLINE void MicroKernel(size_t kc, const float* HWY_RESTRICT ap, const float* HWY_RESTRICT bp,
                            float* HWY_RESTRICT c, int64_t ldc, size_t rows, size_t cols,
                            bool first_k_block, const float* HWY_RESTRICT bias) {
  const DF d;
  // Fixed-width targets (x86, NEON): MaxLanes is the lane count, known at compile time.
  constexpr size_t L = hn::MaxLanes(DF());
  constexpr size_t NR = kNV * L;
  VF acc[kMR][kNV];
  for (size_t r = 0; r < kMR; ++r) {
    for (size_t v = 0; v < kNV; ++v) acc[r][v] = hn::Zero(d);
  }
  for (size_t k = 0; k < kc; ++k) {
    VF b[kNV];
    for (size_t v = 0; v < kNV; ++v) b[v] = hn::Load(d, bp + v * L);
    for (size_t r = 0; r < kMR; ++r) {
      const VF a = hn::Set(d, ap[r]);
      for (size_t v = 0; v < kNV; ++v) acc[r][v] = hn::MulAdd(a, b[v], acc[r][v]);
    }
    ap += kMR;
    bp += NR;
  }

  const bool full = rows == kMR && cols == NR;
  HWY_ALIGN float tile[kMR * NR];
  float* out = full ? c : tile;
  const int64_t ld_out = full ? ldc : static_cast<int64_t>(NR);
  for (size_t r = 0; r < kMR; ++r) {
    for (size_t v = 0; v < kNV; ++v) {
      float* p = out + r * ld_out + v * L;
      VF x = acc[r][v];
      if (full) {
        if (!first_k_block) {
          x = hn::Add(x, hn::LoadU(d, p));
        } else if (bias != nullptr) {
          x = hn::Add(x, hn::LoadU(d, bias + v * L));
        }
      }
      hn::StoreU(x, d, p);
    }
  }
  if (!full) {
    for (size_t r = 0; r < rows; ++r) {
      for (size_t j = 0; j < cols; ++j) {
        float& dst = c[r * ldc + j];
        const float base = !first_k_block ? dst : (bias != nullptr ? bias[j] : 0.0f);
        dst = base + tile[r * NR + j];
      }
    }
  }
}

void GemmImpl(const GemmView& g) {
  const bool stored = g.b_format != WeightFormat::f32;
  if (g.m <= kGemvMaxRows) {
    if (stored) {
      gemv_stored(g);
    } else if (g.transpose_b) {
      GemvTransposed(g);
    } else {
      Gemv(g);
    }
    return;
  }
  if (!stored && g.transpose_b && g.m <= kSmallMMaxRows) return GemmSmallMTransposed(g);
  const size_t M = static_cast<size_t>(g.m), N = static_cast<size_t>(g.n),
               K = static_cast<size_t>(g.k);
  const size_t nr = Nr();
  const size_t nc_max = std::min(kNC, hwy::DivCeil(N, nr) * nr);
  const size_t kc_max = std::min(kKC, K);
  const size_t mc_max = std::min(kMC, hwy::DivCeil(M, kMR) * kMR);
  thread_local Scratch scratch;
  float* packed_b = scratch.get(kc_max * nc_max + mc_max * kc_max);
  float* packed_a = packed_b + kc_max * nc_max;

  for (size_t jc = 0; jc < N; jc += kNC) {
    const size_t nc = std::min(kNC, N - jc);
    for (size_t pc = 0; pc < K; pc += kKC) {
      const size_t kc = std::min(kKC, K - pc);
      const bool first_k_block = pc == 0;
      if (stored) {
        PackBStored(g, jc, pc, kc, nc, packed_b);
      } else if (g.transpose_b) {
        PackBTransposed(g.b + jc * g.ldb + pc, g.ldb, kc, nc, packed_b);
      } else {
        PackB(g.b + pc * g.ldb + jc, g.ldb, kc, nc, packed_b);
      }
      for (size_t ic = 0; ic < M; ic += kMC) {
        const size_t mc = std::min(kMC, M - ic);
        PackA(g.a + ic * g.lda + pc, g.lda, mc, kc, packed_a);
        for (size_t jr = 0; jr < nc; jr += nr) {
          const float* bp = packed_b + jr * kc;
          const float* bias = g.bias != nullptr ? g.bias + jc + jr : nullptr;
          for (size_t ir = 0; ir < mc; ir += kMR) {
            MicroKernel(kc, packed_a + ir * kc, bp, g.c + (ic + ir) * g.ldc + jc + jr, g.ldc,
                        std::min(kMR, mc - ir), std::min(nr, nc - jr), first_k_block, bias);
          }
        }
      }
    }
  }
}

RegisterBlock RegisterBlockImpl() {
  return {static_cast<std::int64_t>(kMR), static_cast<std::int64_t>(Nr())};
}

const char* TargetNameImpl() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace aigc::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/errors.hpp"

namespace aigc::simd {

HWY_EXPORT(GemmImpl);
HWY_EXPORT(RegisterBlockImpl);
HWY_EXPORT(TargetNameImpl);

void gemm(const GemmView& view) {
  if (view.m <= 0 || view.n <= 0) return;
  if (view.k <= 0) {  // empty sum: C is the bias (or zero)
    for (std::int64_t i = 0; i < view.m; ++i) {
      for (std::int64_t j = 0; j < view.n; ++j) {
        view.c[i * view.ldc + j] = view.bias != nullptr ? view.bias[j] : 0.0f;
      }
    }
    return;
  }
  if (is_int8_activation_format(view.b_format)) {
    // The block formats multiply activations rounded to int8 per block of 32, the rounding
    // llama.cpp's q8_0 activations make. For the K-quants llama.cpp rounds per super-block of
    // 256 (q8_K); we keep blocks of 32 for every format: one rounding for the reference to
    // model, and eight times finer scales (a smaller error). On int8 dot products where the CPU has
    // them (gemv_int8 for a decode's few rows, gemm_int8 for a prefill's), else rounded here, to
    // the same values, before fp32 products (narrower targets). One arithmetic on every path, so
    // one reference models it.
    if (int8_dot_dispatched()) return view.m <= kGemvMaxRows ? gemv_int8(view) : gemm_int8(view);
    if (view.a_rounded) return HWY_DYNAMIC_DISPATCH(GemmImpl)(view);
    thread_local std::vector<float> rounded;
    rounded.resize(static_cast<std::size_t>(view.m * view.k));
    round_rows_to_int8_blocks(view.a, view.m, view.k, view.lda, rounded.data());
    GemmView g = view;
    g.a = rounded.data();
    g.lda = view.k;
    return HWY_DYNAMIC_DISPATCH(GemmImpl)(g);
  }
  if (view.b_format == WeightFormat::bf16) {
    // bf16 weights multiply activations rounded to bf16 (a bf16 x bf16 product with fp32 sums,
    // as oneDNN, cuBLASLt and llama.cpp compute it): on vdpbf16ps for a GEMM where the CPU has
    // it (gemm_bf16 rounds A as it packs it), else rounded here, to the same values, before the
    // fp32 paths (a decode's few rows, narrower CPUs). One arithmetic on every path.
    if (view.m > kGemvMaxRows && bf16_dot_dispatched()) return gemm_bf16(view);
    thread_local std::vector<float> rounded;
    rounded.resize(static_cast<std::size_t>(view.m * view.k));
    for (std::int64_t i = 0; i < view.m; ++i)
      round_to_bf16(view.a + i * view.lda, view.k, rounded.data() + i * view.k);
    GemmView g = view;
    g.a = rounded.data();
    g.lda = view.k;
    return HWY_DYNAMIC_DISPATCH(GemmImpl)(g);
  }
  HWY_DYNAMIC_DISPATCH(GemmImpl)(view);
}

RegisterBlock gemm_register_block() { return HWY_DYNAMIC_DISPATCH(RegisterBlockImpl)(); }

std::string dispatched_target() { return HWY_DYNAMIC_DISPATCH(TargetNameImpl)(); }

std::vector<std::string> available_targets() {
  std::vector<std::string> names;
  for (const std::int64_t t : hwy::SupportedAndGeneratedTargets())
    names.emplace_back(hwy::TargetName(t));
  return names;
}

std::string best_target() {
  // Cached the first time, which force_target() makes sure happens while nothing is pinned.
  static const std::string best = available_targets().front();
  return best;
}

void force_target(const std::string& name) {
  hwy::SetSupportedTargetsForTest(0);  // back to what the CPU supports
  best_target();
  if (name.empty()) return;
  for (const std::int64_t t : hwy::SupportedAndGeneratedTargets()) {
    if (name == hwy::TargetName(t)) {
      hwy::SetSupportedTargetsForTest(t);
      return;
    }
  }
  throw InvalidArgument("simd-target",
                        fmt::format("unknown or unsupported target '{}' (valid here: {})", name,
                                    fmt::join(available_targets(), ", ")));
}

}  // namespace aigc::simd
#endif  // HWY_ONCE
