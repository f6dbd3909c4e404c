#pragma once
// The scalar backend's kernel table, filled by the op files beside this one (<op>.cpp, each ending
// in its AIGC_REGISTER_KERNEL): the backend offers what they register.
#include "core/kernel_table.hpp"

namespace aigc::scalar {

KernelTable& kernels();

}  // namespace aigc::scalar
