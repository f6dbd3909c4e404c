#include "workloads/workload.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "workloads/attention.hpp"
#include "workloads/collectives.hpp"
#include "workloads/decoder.hpp"
#include "workloads/matmul.hpp"
#include "workloads/op_case.hpp"

namespace aigc {
namespace {

// The one list of workloads; adding one is a file pair and a line here.
const std::vector<const Workload*>& all_workloads() {
  static const MatmulWorkload matmul;
  static const AttentionWorkload attention;
  static const DecoderWorkload decoder;
  static const OpWorkload op;
  static const CollectivesWorkload collectives;
  static const std::vector<const Workload*> list{&matmul, &attention, &decoder, &op,
                                                 &collectives};
  return list;
}

}  // namespace

std::vector<std::string> workload_names() {
  std::vector<std::string> names;
  for (const Workload* w : all_workloads()) names.push_back(w->name());
  return names;
}

std::vector<const Workload*> default_workloads() {
  std::vector<const Workload*> list;
  for (const Workload* w : all_workloads()) {
    if (w->in_default_run()) list.push_back(w);
  }
  return list;
}

std::vector<std::string> default_workload_names() {
  std::vector<std::string> names;
  for (const Workload* w : all_workloads()) {
    if (w->in_default_run()) names.push_back(w->name());
  }
  return names;
}

const Workload& find_workload(const std::string& name) {
  for (const Workload* w : all_workloads()) {
    if (w->name() == name) return *w;
  }
  throw InvalidArgument("workloads", fmt::format("unknown workload '{}' (valid: {})", name,
                                                 fmt::join(workload_names(), ", ")));
}

}  // namespace aigc
