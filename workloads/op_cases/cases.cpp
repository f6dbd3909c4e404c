#include "workloads/op_cases/cases.hpp"

namespace aigc {

std::vector<const OpCase*> all_op_cases() {
  return {&layernorm_case(), &rmsnorm_case(),     &add_case(),
          &gelu_tanh_case(), &split_heads_case(), &merge_heads_case()};
}

}  // namespace aigc
