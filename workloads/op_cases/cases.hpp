#pragma once
// The op cases, one file each under workloads/op_cases/; cases.cpp lists them.
#include <vector>

#include "workloads/op_case.hpp"

namespace aigc {

// "matmul" (fp32 B) or "matmul_<format>" (B stored in that weight format).
const OpCase& matmul_case(WeightFormat format = WeightFormat::f32);
const OpCase& attention_case();
const OpCase& layernorm_case();
const OpCase& rmsnorm_case();
const OpCase& add_case();
const OpCase& gelu_tanh_case();
const OpCase& silu_mul_case();
const OpCase& rope_case();
const OpCase& split_heads_case();
const OpCase& merge_heads_case();

std::vector<const OpCase*> all_op_cases();

}  // namespace aigc
