// The collectives workload without MPI: its shapes, inputs and tolerance, and the distributed
// model applied to its rows. The MPI runs themselves are tests/mpi_collectives.sh (mpirun -np 2).
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/errors.hpp"
#include "driver/collectives_rows.hpp"
#include "workloads/collectives.hpp"

using namespace aigc;

TEST_CASE("collective shapes: canonical form, and bad ones refused by name") {
  const Workload& w = find_workload("collectives");
  CHECK(w.parse("bytes=4096,op=allreduce").text() == "op=allreduce,bytes=4096");
  CHECK(w.parse("op=pingpong,bytes=4").text() == "op=pingpong,bytes=4");
  CHECK_FALSE(w.in_default_run());
  CHECK(w.distributed());
  for (const char* bad :
       {"op=alltoall,bytes=64", "bytes=64", "op=allreduce", "op=allreduce,bytes=6",
        "op=allreduce,bytes=0", "op=allreduce,bytes=2147483648",
        "op=allreduce,op=broadcast,bytes=64", "op=allreduce,bytes=64,x=1", ""}) {
    INFO(bad);
    CHECK_THROWS_AS(w.parse(bad), InvalidArgument);
  }
  // Every preset size of every operation, 4 B up to 64 MiB in the quick preset.
  const auto quick = w.preset_shapes(Preset::quick);
  CHECK(quick.size() == 4 * 13);
  CHECK(quick.front() == "op=allreduce,bytes=4");
  CHECK(w.preset_shapes(Preset::full).size() == 4 * 27);
  CHECK(w.counts(w.parse("op=allreduce,bytes=4096")).bytes == 4096);
}

TEST_CASE(
    "collective inputs are never zero and differ by rank, and the sum has the tolerance "
    "gamma_{P-1}") {
  int equal = 0;
  for (std::int64_t i = 0; i < 100000; ++i) {
    const float a = collective_input(0, i), b = collective_input(1, i);
    REQUIRE(a != 0.0f);
    REQUIRE(std::abs(a) < 1.0f);
    equal += a == b;
  }
  CHECK(equal < 10);
  const double u = std::numeric_limits<float>::epsilon() / 2;
  CHECK(collective_tolerance(timing::Collective::allreduce, 2) == Approx(u / (1 - u)));
  CHECK(collective_tolerance(timing::Collective::allreduce, 8) == Approx(7 * u / (1 - 7 * u)));
  CHECK(collective_tolerance(timing::Collective::allgather, 8) == 0);
  CHECK(collective_tolerance(timing::Collective::pingpong, 2) == 0);
}

TEST_CASE("the collectives' rows get each operation's alpha-beta fit and the ring/tree model") {
  // Two ranks whose ping-pong is exactly 1 us + n / 5 GB/s, an allreduce exactly twice the
  // ring's cost, and one failed row that gets nothing.
  const timing::Hockney p2p{1e-6, 1.0 / 5e9};
  std::vector<ResultRow> rows;
  for (std::int64_t n = 4096; n <= (1 << 24); n *= 4) {
    for (const char* op : {"pingpong", "allreduce"}) {
      ResultRow r;
      r.workload = "collectives";
      r.shape = fmt::format("op={},bytes={}", op, n);
      r.ranks = 2;
      r.bytes = static_cast<double>(n);
      const double ring = timing::collective_time(timing::Collective::allreduce, p2p, n, 2);
      r.time_median_s = std::string(op) == "pingpong" ? p2p.time_s(n) : 2 * ring;
      rows.push_back(r);
    }
  }
  ResultRow failed;
  failed.workload = "collectives";
  failed.shape = "op=allgather,bytes=64";
  failed.ranks = 2;
  failed.bytes = 64;
  failed.status = "error: wrong result";
  rows.push_back(failed);
  ResultRow other;  // not a collective: untouched
  other.workload = "matmul";
  other.shape = "M=64,N=64,K=64";
  other.time_median_s = 1e-3;
  rows.push_back(other);

  apply_collective_models(rows);
  for (const ResultRow& r : rows) {
    INFO(r.shape);
    if (r.workload == "matmul" || r.status != "ok") {
      CHECK_FALSE(r.alpha_s);
      CHECK_FALSE(r.t_comm_fit_s);
      CHECK((r.workload == "matmul" ? !r.t_comm_model_s : r.t_comm_model_s.has_value()));
      continue;
    }
    REQUIRE(r.t_comm_fit_s);
    REQUIRE(r.t_comm_model_s);
    CHECK(*r.t_comm_fit_s == Approx(*r.time_median_s).epsilon(1e-6));
    const bool pingpong = r.shape.rfind("op=pingpong", 0) == 0;
    CHECK(*r.t_comm_model_s / *r.time_median_s == Approx(pingpong ? 1.0 : 0.5).epsilon(1e-6));
    if (pingpong) {
      CHECK(*r.alpha_s == Approx(1e-6).epsilon(1e-6));
      CHECK(*r.beta_s_per_byte == Approx(2e-10).epsilon(1e-6));
    }
  }
}
