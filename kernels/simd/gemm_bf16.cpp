// The bf16 GEMM on vdpbf16ps (gemm_bf16.hpp says what it computes). The structure is the fp32
// GEMM's (gemm.cpp: cache blocks, packed panels, a register-blocked micro-kernel), with K taken
// in pairs: vdpbf16ps multiplies the two bf16 halves of each 32-bit lane of A's broadcast by the
// two of B's lane and adds both products to the lane's fp32 accumulator. So a packed panel holds
// 32-bit words, each two consecutive k of one row (A) or one column (B):
//   A panel: for each pair p, MR words (rows r: a[r][2p], a[r][2p+1]);
//   B panel: for each pair p, NR = 32 words (columns j: b[2p][j], b[2p+1][j]) - two k of a
//     column of B are two consecutive bf16 of a row of the stored B^T: one 32-bit load.
// An odd K gets a zero second half in its last pair.
#include "kernels/simd/gemm_bf16.hpp"

#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/simd/scratch.hpp"

namespace aigc::simd {
namespace {

#define AIGC_BF16_TARGET __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512bf16")))

// C tile MR x NR in registers: 12 x 2 zmm accumulators, 2 of B, 1 broadcast of A (27 of 32).
constexpr std::size_t kMR = 12, kNR = 32;
// Cache blocks as the fp32 GEMM's (gemm.cpp), K shallower: a K block of 512 is 256 pairs, a
// packed A block (MC x KC x 2 bytes = 288 KiB) stays in L2 and a B micro-panel (KC x NR x 2 =
// 32 KiB) in L1 beside an A micro-panel (12 KiB). Measured at 2048^3 on one Zen 5 core (VM,
// medians of 9, +-10% between runs): KC 384 -> 54.8 ms, 512 -> 49.4-50.3, 640 -> 49.8,
// 768 -> 52.4-55.7, 1024 -> 52.6-53.9; MR = 14 (28 accumulators) 56.7-57.9.
constexpr std::size_t kKC = 512, kMC = kMR * 24, kNC = 2048;

// The first n <= 32 floats at src rounded to bf16 (nearest even, vcvtne2ps2bf16), zero past n
// (nothing past src + n is read): bf16 i of the result is src[i].
AIGC_BF16_TARGET __m512i round_to_bf16(const float* src, std::size_t n) {
  if (n < 32) {
    alignas(64) float part[32] = {};
    std::memcpy(part, src, n * sizeof(float));
    return round_to_bf16(part, 32);
  }
  // The low 16 bf16 of the result come from the second operand.
  return (__m512i)_mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + 16), _mm512_loadu_ps(src));
}

// Rows [0, m) x k [0, kc) of A, rounded to bf16 (nearest even, vcvtne2ps2bf16), into MR-row
// panels of pair words. Rows past m are zero.
AIGC_BF16_TARGET void pack_a(const float* a, std::int64_t lda, std::size_t m, std::size_t kc,
                             std::uint32_t* out) {
  const std::size_t pairs = (kc + 1) / 2;
  alignas(64) std::uint32_t words[16];
  for (std::size_t i0 = 0; i0 < m; i0 += kMR) {
    const std::size_t rows = std::min(kMR, m - i0);
    for (std::size_t r = 0; r < kMR; ++r) {
      if (r >= rows) {
        for (std::size_t p = 0; p < pairs; ++p) out[p * kMR + r] = 0;
        continue;
      }
      const float* src = a + (i0 + r) * lda;
      for (std::size_t k = 0; k < kc; k += 32) {  // an odd K's last pair: a zero second half
        _mm512_store_si512(words, round_to_bf16(src + k, std::min<std::size_t>(32, kc - k)));
        for (std::size_t w = 0; w < 16 && k / 2 + w < pairs; ++w) {
          out[(k / 2 + w) * kMR + r] = words[w];
        }
      }
    }
    out += kMR * pairs;
  }
}

// Columns [j0, j0 + n) x k [pc, pc + kc) of B (rows of the stored B^T) into NR-column panels of
// pair words, zero past n.
void pack_b(const GemmView& g, std::size_t j0, std::size_t pc, std::size_t kc, std::size_t n,
            std::uint32_t* out) {
  const std::size_t pairs = (kc + 1) / 2, whole = kc / 2;
  for (std::size_t jp = 0; jp < n; jp += kNR) {
    const std::size_t cols = std::min(kNR, n - jp);
    for (std::size_t j = 0; j < kNR; ++j) {
      if (j >= cols) {
        for (std::size_t p = 0; p < pairs; ++p) out[p * kNR + j] = 0;
        continue;
      }
      const std::uint8_t* row = g.b_stored + (j0 + jp + j) * g.ldb_bytes + 2 * pc;
      for (std::size_t p = 0; p < whole; ++p) {
        std::uint32_t word;
        std::memcpy(&word, row + 4 * p, 4);
        out[p * kNR + j] = word;
      }
      if (whole < pairs) {  // odd kc: the last k alone, its pair's second half zero
        std::uint16_t last;
        std::memcpy(&last, row + 4 * whole, 2);
        out[whole * kNR + j] = last;
      }
    }
    out += kNR * pairs;
  }
}

// C tile (MR x NR at c) = or += packed A panel x packed B panel, as gemm.cpp's MicroKernel.
AIGC_BF16_TARGET void micro_kernel(std::size_t pairs, const std::uint32_t* ap,
                                   const std::uint32_t* bp, float* c, std::int64_t ldc,
                                   std::size_t rows, std::size_t cols, bool first_k_block,
                                   const float* bias) {
  __m512 acc[kMR][2];
#pragma GCC unroll 12
  for (std::size_t r = 0; r < kMR; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (std::size_t p = 0; p < pairs; ++p) {
    const __m512bh b0 = (__m512bh)(_mm512_loadu_si512(bp));
    const __m512bh b1 = (__m512bh)(_mm512_loadu_si512(bp + 16));
#pragma GCC unroll 12
    for (std::size_t r = 0; r < kMR; ++r) {
      const __m512bh a = (__m512bh)(_mm512_set1_epi32(static_cast<int>(ap[r])));
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
    }
    ap += kMR;
    bp += kNR;
  }
  const bool full = rows == kMR && cols == kNR;
  alignas(64) float tile[kMR * kNR];
  float* out = full ? c : tile;
  const std::int64_t ld_out = full ? ldc : static_cast<std::int64_t>(kNR);
  for (std::size_t r = 0; r < kMR; ++r) {
    for (std::size_t v = 0; v < 2; ++v) {
      float* p = out + r * ld_out + 16 * v;
      __m512 x = acc[r][v];
      if (full) {
        if (!first_k_block) {
          x = _mm512_add_ps(x, _mm512_loadu_ps(p));
        } else if (bias != nullptr) {
          x = _mm512_add_ps(x, _mm512_loadu_ps(bias + 16 * v));
        }
      }
      _mm512_storeu_ps(p, x);
    }
  }
  if (!full) {
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t j = 0; j < cols; ++j) {
        float& dst = c[r * ldc + j];
        const float base = !first_k_block ? dst : (bias != nullptr ? bias[j] : 0.0f);
        dst = base + tile[r * kNR + j];
      }
    }
  }
}

// A batched decode step's few rows (kGemvMaxRows < m <= kSmallMMaxRows), as gemm.cpp's
// GemmSmallMTransposed for fp32: nothing packed, so each bf16 weight streams from memory once
// and is used by every row of A from L1 (packing B, above, would write it out again). A is
// rounded to bf16 rows first (zero-padded to whole vectors: M x K, small). Blocks of 4 rows of
// A by 6 rows of B^T (24 accumulators, 6 of B, 1 of A), over K blocks of 1536 (3 KiB of each
// B row, 18 KiB for the six in L1); the next K block of B prefetched across the row blocks.
constexpr std::size_t kSmallMB = 4, kSmallNB = 6, kSmallKC = 1536;  // sums: 4 + 2 columns
static_assert(kSmallKC % 32 == 0, "K blocks of whole 32-value vectors");

// out[0..3] = the sums of the lanes of a, b, c and e (gemm.cpp's StoreSumsOfLanes4).
// GCC 12 warns inside its own shuffle intrinsics wherever they are inlined (their "undefined"
// pass-through operand is a self-initialized variable); nothing here reads an uninitialized
// value. The warning is off from here to the end of gemm_bf16_small_m.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
AIGC_BF16_TARGET void store_sums4(__m512 a, __m512 b, __m512 c, __m512 e, float* out) {
  const __m512 ab = _mm512_add_ps(_mm512_unpacklo_ps(a, b), _mm512_unpackhi_ps(a, b));
  const __m512 ce = _mm512_add_ps(_mm512_unpacklo_ps(c, e), _mm512_unpackhi_ps(c, e));
  const __m512d abd = _mm512_castps_pd(ab), ced = _mm512_castps_pd(ce);
  const __m512 abce = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(abd, ced)),
                                    _mm512_castpd_ps(_mm512_unpackhi_pd(abd, ced)));
  const __m256 half = _mm256_add_ps(
      _mm512_castps512_ps256(abce),
      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(abce), 1)));
  _mm_storeu_ps(out, _mm_add_ps(_mm256_castps256_ps128(half), _mm256_extractf128_ps(half, 1)));
}

AIGC_BF16_TARGET void gemm_bf16_small_m(const GemmView& g) {
  const std::size_t M = static_cast<std::size_t>(g.m), N = static_cast<std::size_t>(g.n),
                    K = static_cast<std::size_t>(g.k);
  const std::size_t kp = (K + 31) / 32 * 32;
  thread_local std::vector<std::uint16_t> rounded;
  rounded.resize(M * kp);
  for (std::size_t r = 0; r < M; ++r) {
    const float* src = g.a + r * g.lda;
    std::uint16_t* dst = rounded.data() + r * kp;
    for (std::size_t k = 0; k < kp; k += 32) {
      _mm512_storeu_si512(dst + k, round_to_bf16(src + k, std::min<std::size_t>(32, K - k)));
    }
  }
  auto row = [&](std::size_t j) { return g.b_stored + std::min(j, N - 1) * g.ldb_bytes; };
  for (std::size_t j0 = 0; j0 < N; j0 += kSmallNB) {
    const std::uint8_t* b[kSmallNB];
    for (std::size_t c = 0; c < kSmallNB; ++c) b[c] = row(j0 + c);
    const std::size_t cols = std::min(kSmallNB, N - j0);
    for (std::size_t k0 = 0; k0 < K; k0 += kSmallKC) {
      const std::size_t k1 = std::min(K, k0 + kSmallKC);
      const std::size_t whole = k0 + (k1 - k0) / 32 * 32, tail = k1 - whole;
      const __mmask32 tail_mask = (__mmask32{1} << tail) - 1;  // tail < 32; only at K's end
      // Where the block of B read after this one starts, per row (the same rows' next K
      // block, or the next rows' first); a step at k prefetches next[c] + 2 (k - k0).
      const std::uint8_t* next[kSmallNB];
      for (std::size_t c = 0; c < kSmallNB; ++c) {
        next[c] = k1 < K ? b[c] + 2 * k1 : row(j0 + kSmallNB + c);
      }
      const std::size_t passes = (M + kSmallMB - 1) / kSmallMB;
      for (std::size_t m0 = 0, pass = 0; m0 < M; m0 += kSmallMB, ++pass) {
        const std::uint16_t* a[kSmallMB];
        for (std::size_t r = 0; r < kSmallMB; ++r) {
          a[r] = rounded.data() + std::min(m0 + r, M - 1) * kp;
        }
        const std::uint8_t* fetch[3];
        for (std::size_t i = 0; i < 3; ++i) {
          const std::size_t c = pass + i * passes;
          fetch[i] = c < kSmallNB ? next[c] : b[i] + 2 * k0;
        }
        __m512 acc[kSmallMB][kSmallNB];
#pragma GCC unroll 4
        for (std::size_t r = 0; r < kSmallMB; ++r) {
          for (std::size_t c = 0; c < kSmallNB; ++c) acc[r][c] = _mm512_setzero_ps();
        }
        for (std::size_t k = k0; k < k1; k += 32) {
          // The last step of K's end is masked: B is never read past its row (A's padding
          // is zero).
          const __mmask32 mask = k < whole ? ~__mmask32{0} : tail_mask;
          for (std::size_t i = 0; i < 3; ++i) {
            _mm_prefetch(fetch[i] + 2 * (k - k0), _MM_HINT_T0);
          }
          __m512bh bv[kSmallNB];
#pragma GCC unroll 6
          for (std::size_t c = 0; c < kSmallNB; ++c) {
            bv[c] = (__m512bh)_mm512_maskz_loadu_epi16(mask, b[c] + 2 * k);
          }
#pragma GCC unroll 4
          for (std::size_t r = 0; r < kSmallMB; ++r) {
            const __m512bh av = (__m512bh)_mm512_loadu_si512(a[r] + k);
#pragma GCC unroll 6
            for (std::size_t c = 0; c < kSmallNB; ++c) {
              acc[r][c] = _mm512_dpbf16_ps(acc[r][c], av, bv[c]);
            }
          }
        }
        // Every row's sums first (constant indices keep the accumulators in registers).
        alignas(16) float sums[kSmallMB][kSmallNB];
#pragma GCC unroll 4
        for (std::size_t r = 0; r < kSmallMB; ++r) {
          store_sums4(acc[r][0], acc[r][1], acc[r][2], acc[r][3], sums[r]);
          sums[r][4] = _mm512_reduce_add_ps(acc[r][4]);
          sums[r][5] = _mm512_reduce_add_ps(acc[r][5]);
        }
        for (std::size_t r = 0; r < kSmallMB && m0 + r < M; ++r) {
          float* out = g.c + (m0 + r) * g.ldc + j0;
          for (std::size_t c = 0; c < cols; ++c) {
            const float base = k0 > 0 ? out[c] : (g.bias != nullptr ? g.bias[j0 + c] : 0.0f);
            out[c] = base + sums[r][c];
          }
        }
      }
    }
  }
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace

bool has_bf16_dot() {
  static const bool has = [] {
    // AVX512_BF16 is CPUID leaf 7, sub-leaf 1, EAX bit 5 (neither compiler's
    // __builtin_cpu_supports knows it in every version this project is built with).
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool bf16 = __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) != 0 && (eax & (1u << 5));
    return bf16 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl");
  }();
  return has;
}

bool bf16_dot_dispatched() { return has_bf16_dot() && avx512_dispatched(); }

void gemm_bf16(const GemmView& g) {
  if (g.m <= kSmallMMaxRows) return gemm_bf16_small_m(g);
  const std::size_t M = static_cast<std::size_t>(g.m), N = static_cast<std::size_t>(g.n),
                    K = static_cast<std::size_t>(g.k);
  const std::size_t nc_max = std::min(kNC, (N + kNR - 1) / kNR * kNR);
  const std::size_t pairs_max = (std::min(kKC, K) + 1) / 2;
  const std::size_t mc_max = std::min(kMC, (M + kMR - 1) / kMR * kMR);
  thread_local std::vector<std::uint32_t> packed;
  packed.resize(pairs_max * (nc_max + mc_max));
  std::uint32_t* packed_b = packed.data();
  std::uint32_t* packed_a = packed_b + pairs_max * nc_max;
  for (std::size_t jc = 0; jc < N; jc += kNC) {
    const std::size_t nc = std::min(kNC, N - jc);
    for (std::size_t pc = 0; pc < K; pc += kKC) {
      const std::size_t kc = std::min(kKC, K - pc), pairs = (kc + 1) / 2;
      pack_b(g, jc, pc, kc, nc, packed_b);
      for (std::size_t ic = 0; ic < M; ic += kMC) {
        const std::size_t mc = std::min(kMC, M - ic);
        pack_a(g.a + ic * g.lda + pc, g.lda, mc, kc, packed_a);
        for (std::size_t jr = 0; jr < nc; jr += kNR) {
          const float* bias = g.bias != nullptr ? g.bias + jc + jr : nullptr;
          for (std::size_t ir = 0; ir < mc; ir += kMR) {
            micro_kernel(pairs, packed_a + ir * pairs, packed_b + jr * pairs,
                         g.c + (ic + ir) * g.ldc + jc + jr, g.ldc, std::min(kMR, mc - ir),
                         std::min(kNR, nc - jr), pc == 0, bias);
          }
        }
      }
    }
  }
}

}  // namespace aigc::simd
