#include "workloads/collectives.hpp"

#include <array>
#include <limits>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "workloads/shape_args.hpp"

namespace aigc {
namespace {

using timing::Collective;

constexpr std::array<Collective, 4> kOps{Collective::allreduce, Collective::allgather,
                                         Collective::broadcast, Collective::pingpong};

}  // namespace

const char* collective_name(Collective op) {
  switch (op) {
    case Collective::allreduce:
      return "allreduce";
    case Collective::allgather:
      return "allgather";
    case Collective::broadcast:
      return "broadcast";
    case Collective::pingpong:
      return "pingpong";
  }
  return "?";
}

std::string message_size(double bytes) {
  if (bytes >= (1 << 20)) return fmt::format("{:g} MiB", bytes / (1 << 20));
  if (bytes >= (1 << 10)) return fmt::format("{:g} KiB", bytes / (1 << 10));
  return fmt::format("{:g} B", bytes);
}

CollectiveShape parse_collective_shape(const std::string& text) {
  // op=NAME is the one key whose value is a word; the rest goes through parse_shape.
  std::string rest, op_name;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    if (item.rfind("op=", 0) == 0) {
      if (!op_name.empty()) {
        throw InvalidArgument("shapes", fmt::format("'{}': key 'op' given twice", text));
      }
      op_name = item.substr(3);
    } else {
      rest += (rest.empty() ? "" : ",") + item;
    }
    start = end + 1;
  }
  CollectiveShape s;
  bool known = false;
  for (const Collective op : kOps) {
    if (op_name == collective_name(op)) {
      s.op = op;
      known = true;
    }
  }
  if (!known) {
    throw InvalidArgument(
        "shapes",
        fmt::format("'{}': op must be one of allreduce, allgather, broadcast, pingpong", text));
  }
  const auto v = parse_shape(rest, {{.key = "bytes", .min = 4, .max = kMaxCollectiveBytes}});
  s.bytes = v.at("bytes");
  if (s.bytes % 4 != 0) {
    throw InvalidArgument("shapes",
                          fmt::format("'{}': bytes must be a multiple of 4 (fp32 elements)", text));
  }
  return s;
}

std::string format_collective_shape(const CollectiveShape& s) {
  return fmt::format("op={},bytes={}", collective_name(s.op), s.bytes);
}

float collective_input(int rank, std::int64_t i) {
  // splitmix64 of (rank, i): 24 bits of it give a value in (-1, 1) that is never 0.
  std::uint64_t z = (static_cast<std::uint64_t>(rank) << 40) ^ static_cast<std::uint64_t>(i);
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  const auto bits = static_cast<std::int32_t>(z >> 40);  // 0 .. 2^24 - 1
  return (static_cast<float>(bits) - 8388607.5f) / 8388608.0f;
}

double collective_tolerance(Collective op, int ranks) {
  if (op != Collective::allreduce || ranks < 2) return 0;
  const double nu = (ranks - 1) * std::numeric_limits<float>::epsilon() / 2;
  return nu / (1 - nu);
}

std::vector<std::string> CollectivesWorkload::preset_shapes(Preset preset) const {
  std::vector<std::int64_t> sizes;
  switch (preset) {
    case Preset::smoke:
      sizes = {8, 4096, 65536};
      break;
    case Preset::quick:  // 4 B .. 64 MiB by 4x: the alpha-beta target's range and its ends
    case Preset::gpu:
      for (std::int64_t n = 4; n <= (std::int64_t{64} << 20); n *= 4) sizes.push_back(n);
      break;
    case Preset::full:  // 4 B .. 256 MiB by 2x
      for (std::int64_t n = 4; n <= (std::int64_t{256} << 20); n *= 2) sizes.push_back(n);
      break;
  }
  std::vector<std::string> shapes;
  for (const Collective op : kOps) {
    for (const std::int64_t n : sizes) shapes.push_back(format_collective_shape({op, n}));
  }
  return shapes;
}

Shape CollectivesWorkload::parse(const std::string& text) const {
  const CollectiveShape s = parse_collective_shape(text);
  return Shape(format_collective_shape(s), s);
}

WorkCounts CollectivesWorkload::counts(const Shape& shape) const {
  const CollectiveShape& s = shape.as<CollectiveShape>();
  WorkCounts w;
  w.bytes = static_cast<double>(s.bytes);
  w.flops = s.op == Collective::allreduce ? static_cast<double>(s.bytes / 4) : 0.0;
  // Send and receive buffers on each rank.
  w.host_bytes = 2.0 * static_cast<double>(s.bytes);
  return w;
}

std::unique_ptr<WorkloadCase> CollectivesWorkload::make_case(Backend& backend,
                                                             const Shape& shape) const {
  throw UnsupportedOp(fmt::format(
      "collectives run on MPI ranks, not on a backend ({} on {}): aigcbench run --workloads "
      "collectives measures them",
      shape.text(), backend.name()));
}

}  // namespace aigc
