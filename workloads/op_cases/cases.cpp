#include "workloads/op_cases/cases.hpp"

namespace aigc {

std::vector<const OpCase*> all_op_cases() {
  return {&matmul_case(),   &attention_case(), &layernorm_case(), &rmsnorm_case(),
          &add_case(),      &gelu_tanh_case(), &silu_mul_case(),  &rope_case(),
          &split_heads_case(), &merge_heads_case()};
}

}  // namespace aigc
