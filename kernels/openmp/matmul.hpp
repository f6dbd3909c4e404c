#pragma once
#include "core/backend.hpp"

namespace aigc::openmp {

// How C is cut into one tile per thread: pm row blocks x pn column blocks.
struct TileGrid {
  int pm = 1, pn = 1;
};

// Picks pm x pn = threads (or fewer, for a C too small to share) minimizing the packing
// each tile repeats: a tile packs its rows of A and its columns of B, so the cost
// is proportional to M/pm + N/pn, scaled by K.
TileGrid choose_tile_grid(const MatmulShape& shape, int threads, std::int64_t mr, std::int64_t nr);

std::unique_ptr<MatmulKernel> make_matmul_kernel(const MatmulShape& shape, int threads);

}  // namespace aigc::openmp
