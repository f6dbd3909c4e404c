#pragma once
// The emulation's stand-in for the toolkit's WMMA API (mma.h), for 16x16x16 fragments of bf16
// operands and float accumulators. A real fragment is spread over the warp's 32 lanes in an
// unspecified layout; here every lane holds the whole 16x16 tile and computes the whole
// product (redundantly), which gives the same values at every element. The collective
// operations synchronize the warp as the real ones require all lanes to take part.
#include <cstddef>

#include "cuda_bf16.h"
#include "emulator.hpp"

namespace nvcuda::wmma {

struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <typename Use, int M, int N, int K, typename T, typename Layout = void>
struct fragment {
  static_assert(M == 16 && N == 16 && K == 16, "the emulation has 16x16x16 fragments only");
  float x[16][16];  // element [row][column] of the tile
};

template <typename Use, typename T, typename Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout>& f, const __nv_bfloat16* p,
                      unsigned ld) {
  ::cuda_emulation::sync_warp(0xffffffffu);
  constexpr bool kColMajor = std::is_same_v<Layout, col_major>;
  for (int r = 0; r < 16; ++r) {
    for (int c = 0; c < 16; ++c)
      f.x[r][c] = __bfloat162float(kColMajor ? p[c * ld + r] : p[r * ld + c]);
  }
  ::cuda_emulation::sync_warp(0xffffffffu);
}

template <typename T>
void fill_fragment(fragment<accumulator, 16, 16, 16, T>& f, float v) {
  for (auto& row : f.x) {
    for (float& e : row) e = v;
  }
}

template <typename TA, typename LA, typename TB, typename LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float>& d,
              const fragment<matrix_a, 16, 16, 16, TA, LA>& a,
              const fragment<matrix_b, 16, 16, 16, TB, LB>& b,
              const fragment<accumulator, 16, 16, 16, float>& c) {
  ::cuda_emulation::sync_warp(0xffffffffu);
  float out[16][16];
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) {
      float acc = c.x[i][j];
      for (int k = 0; k < 16; ++k) acc += a.x[i][k] * b.x[k][j];
      out[i][j] = acc;
    }
  }
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) d.x[i][j] = out[i][j];
  }
}

inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 16, float>& f,
                              unsigned ld, layout_t layout) {
  ::cuda_emulation::sync_warp(0xffffffffu);
  for (int r = 0; r < 16; ++r) {
    for (int c = 0; c < 16; ++c)
      (layout == mem_row_major ? p[r * ld + c] : p[c * ld + r]) = f.x[r][c];
  }
  ::cuda_emulation::sync_warp(0xffffffffu);
}

}  // namespace nvcuda::wmma
