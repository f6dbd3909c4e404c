#pragma once
// The op cases, one file each under workloads/op_cases/ (each defines its accessor, a
// `const OpCase& <name>_case()`); cases.cpp lists them.
#include <vector>

#include "workloads/op_case.hpp"

namespace aigc {

// "matmul" (fp32 B) or "matmul_<format>" (B stored in that weight format).
const OpCase& matmul_case(WeightFormat format = WeightFormat::f32);

std::vector<const OpCase*> all_op_cases();

}  // namespace aigc
