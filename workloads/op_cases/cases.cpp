// The one list of op cases, in reporting order: an op's case is its file under op_cases/ and its
// line here.
#include "workloads/op_cases/cases.hpp"

namespace aigc {

const OpCase& attention_case();
const OpCase& layernorm_case();
const OpCase& rmsnorm_case();
const OpCase& add_case();
const OpCase& gelu_tanh_case();
const OpCase& silu_mul_case();
const OpCase& gelu_tanh_mul_case();
const OpCase& rope_case();
const OpCase& split_heads_case();
const OpCase& merge_heads_case();

std::vector<const OpCase*> all_op_cases() {
  std::vector<const OpCase*> cases{&matmul_case()};
  for (const WeightFormat f : kAllWeightFormats) {
    if (f != WeightFormat::f32) cases.push_back(&matmul_case(f));
  }
  for (const OpCase* c : {&attention_case(), &layernorm_case(), &rmsnorm_case(), &add_case(),
                          &gelu_tanh_case(), &silu_mul_case(), &gelu_tanh_mul_case(), &rope_case(),
                          &split_heads_case(), &merge_heads_case()}) {
    cases.push_back(c);
  }
  return cases;
}

}  // namespace aigc
