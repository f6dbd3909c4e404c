#pragma once
// Whether a probe's figures can be trusted: a probe measured while something else held a core
// (a build beside it) gets a 2-thread FMA peak equal to the 1-thread one, and every row held
// against it lands far above its roofline. Two guards, both pure functions over measurements so
// the tests can hold them to figures:
//   - while probing: other processes' CPU time and the hypervisor's steal time over the probe
//     (/proc/stat), and the FMA sweep's scaling across threads;
//   - before a run trusts a cached probe: a spot measurement of a few of its figures.
#include <optional>
#include <string>
#include <vector>

namespace aigc {

// The machine's CPU time so far, in seconds: all cores together, split as /proc/stat does,
// and this process's own (getrusage), so the others' share can be told apart.
struct CpuTimes {
  double busy_s = 0, idle_s = 0, steal_s = 0;  // every core, since boot
  double own_s = 0;                            // this process, user + system
  bool valid = false;                          // false where /proc/stat cannot be read
};
CpuTimes read_cpu_times();

// What took cores from the probe between two readings. Thresholds: others busy more than 10% of
// the cores' time, steal over 5%.
struct LoadDuringProbe {
  double others_busy = 0;  // fraction of all cores' time spent by other processes
  double steal = 0;        // fraction taken by the hypervisor
};
LoadDuringProbe load_between(const CpuTimes& before, const CpuTimes& after);

// Why a probe's figures are not the machine's own: the load above, or an FMA rate that did not
// scale with threads (all cores below 80% of cores x one core's rate: FMA units are per core,
// so nothing but contention keeps them from scaling). Empty: a clean probe.
std::vector<std::string> contention_reasons(const LoadDuringProbe& load, double fma_one_thread,
                                            double fma_all_threads, int cores);

// One figure of a cached probe measured again.
struct SpotFigure {
  std::string name;     // "FMA 2 threads", "triad 256MiB 2 threads"
  double cached = 0;    // the cache's figure
  double measured = 0;  // now
  double noise = 0;     // the larger relative spread of the rounds, cached or now
};
// The bound a spot figure may stray from its cached one: twice the rounds' noise, and never
// below 25% (a VM's DRAM bandwidth moves by up to 20% between quiet runs; the poisoned probes
// seen were off by 2x, and two VMs with one CPU id by 2.4x).
double spot_tolerance(const SpotFigure& f);
// The figure furthest off its bound, when any is: then the cache is measured again.
std::optional<SpotFigure> figure_off(const std::vector<SpotFigure>& figures);
// "FMA 2 threads 344.1 G vs 175.0 G cached (+97%, bound 15%)".
std::string describe(const SpotFigure& f);

}  // namespace aigc
