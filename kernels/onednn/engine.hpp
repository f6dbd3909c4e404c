#pragma once
// One oneDNN CPU engine and stream for the process; primitives are built against them.
#include <string>

#include <oneapi/dnnl/dnnl.hpp>

namespace aigc::onednn {

// The names every primitive's memory descriptors use.
using dt = dnnl::memory::data_type;
using tag = dnnl::memory::format_tag;

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();
// The instruction set oneDNN dispatches to on this CPU, e.g. "avx512_core_amx".
std::string effective_isa();

}  // namespace aigc::onednn
