//===- SparseLinearBench.cpp - packed slr.linear vs dense sgemm -----------===//
//
// Times the CPU runtime's packed slr.linear kernel (2:4 + rank r, weights in
// f32 and bf16) against OpenBLAS sgemm on the dense W of the same shape,
// y = x·Wᵀ, over layer shapes of SmolLM2-135M and Llama-3-8B and rows of x.
// Prints a table (median of repeats, ratio = sgemm time / slr time, so > 1
// means slr is faster). Weights larger than the cache budget are evicted
// before every timed call, so both sides stream them from memory.
//
//===----------------------------------------------------------------------===//

#include "slr/Runtime/SparseLinear.h"
#include "slr/Sparsity/NMLayout.h"
#include "slr/Support/Blas.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <ctime>
#include <random>
#include <vector>

using namespace llvm;
using namespace slr::runtime;

static cl::list<std::string>
    shapes("shapes",
           cl::desc("NxK layer shapes (default: SmolLM2-135M and "
                    "Llama-3-8B linears)"),
           cl::CommaSeparated);
static cl::list<int64_t> rowCounts("m",
                                   cl::desc("rows of x (default 1,16,128,512)"),
                                   cl::CommaSeparated);
static cl::list<unsigned> threadCounts("thread-counts",
                                       cl::desc("thread counts (default 1,2)"),
                                       cl::CommaSeparated);
static cl::opt<int64_t> lowRank("rank", cl::desc("low-rank r"), cl::init(64));
static cl::opt<unsigned> repeats("repeats", cl::desc("timed samples per cell"),
                                 cl::init(5));
static cl::opt<std::string>
    pathName("path",
             cl::desc("kernel path (scalar, avx2, avx512; default: "
                      "the best this CPU runs)"),
             cl::init(""));
static cl::opt<SparseStrategy> strategy(
    "strategy", cl::desc("how slr multiplies by S"),
    cl::init(SparseStrategy::Auto),
    cl::values(clEnumValN(SparseStrategy::Auto, "auto",
                          "dense tiles where prefersDenseTiles says so"),
               clEnumValN(SparseStrategy::Packed, "packed", "packed kernels"),
               clEnumValN(SparseStrategy::DenseTiles, "dense-tiles",
                          "S decoded tile by tile, sgemm per tile")));
static cl::opt<int64_t> evictAbove(
    "evict-above-mib",
    cl::desc("evict the caches before each call when the dense W exceeds "
             "this many MiB"),
    cl::init(16));

namespace {

using Clock = std::chrono::steady_clock;

uint16_t bfloatBits(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits += 0x7fffu + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}

/// Writes a buffer larger than the last-level cache (260 MiB on the
/// development VM) so that the next call reads its weights from memory.
void evictCaches() {
  static std::vector<char> buffer(512u << 20);
  static char value = 0;
  ++value;
  std::memset(buffer.data(), value, buffer.size());
}

/// CPU time of the process (all threads), seconds.
double processSeconds() {
  timespec now;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return now.tv_sec + 1e-9 * now.tv_nsec;
}

struct Timing {
  double wall, cpu; // medians per call, seconds
};

/// Median wall and process CPU seconds of one call; short calls are
/// repeated within a sample (at least 20 ms each) and averaged. On a shared
/// machine the CPU time is the steadier figure (it leaves out the time the
/// process waited for a core).
template <typename Fn> Timing medianTime(Fn &&call, bool evict) {
  call(); // warm up: threads, page faults
  std::vector<double> walls, cpus;
  for (unsigned s = 0; s < repeats; ++s) {
    if (evict)
      evictCaches();
    int64_t calls = 0;
    auto start = Clock::now();
    double cpuStart = processSeconds();
    double elapsed = 0;
    do {
      call();
      ++calls;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (!evict && elapsed < 0.02);
    walls.push_back(elapsed / calls);
    cpus.push_back((processSeconds() - cpuStart) / calls);
  }
  std::sort(walls.begin(), walls.end());
  std::sort(cpus.begin(), cpus.end());
  return {walls[walls.size() / 2], cpus[cpus.size() / 2]};
}

struct Layer {
  int64_t n, k;
  std::vector<float> dense, values, u, v;
  std::vector<uint8_t> positions;
  std::vector<uint16_t> values16, u16, v16;
};

Layer makeLayer(int64_t n, int64_t k, std::mt19937 &rng) {
  Layer layer{n, k, {}, {}, {}, {}, {}, {}, {}, {}};
  std::normal_distribution<float> dist(0.0f, 0.02f);
  layer.dense.assign(n * k, 0.0f);
  std::uniform_int_distribution<int> pick(0, 5);
  static const int pairs[6][2] = {{0, 1}, {0, 2}, {0, 3},
                                  {1, 2}, {1, 3}, {2, 3}};
  for (int64_t i = 0; i < n; ++i)
    for (int64_t g = 0; g < k / 4; ++g) {
      const int *pair = pairs[pick(rng)];
      layer.dense[i * k + 4 * g + pair[0]] = dist(rng);
      layer.dense[i * k + 4 * g + pair[1]] = dist(rng);
    }
  layer.values.resize(n * k / 2);
  layer.positions.resize(n * k / 4);
  slr::packNM(layer.dense.data(), n, k, 2, 4, layer.values.data(),
              layer.positions.data());
  layer.u.resize(n * lowRank);
  layer.v.resize(lowRank * k);
  for (float &x : layer.u)
    x = dist(rng);
  for (float &x : layer.v)
    x = dist(rng);
  for (const std::vector<float> *from : {&layer.values, &layer.u, &layer.v}) {
    std::vector<uint16_t> &to = from == &layer.values ? layer.values16
                                : from == &layer.u    ? layer.u16
                                                      : layer.v16;
    to.resize(from->size());
    for (size_t i = 0; i < from->size(); ++i)
      to[i] = bfloatBits((*from)[i]);
  }
  return layer;
}

bool parseShape(StringRef text, int64_t &n, int64_t &k) {
  auto [left, right] = text.split('x');
  return !left.getAsInteger(10, n) && !right.getAsInteger(10, k) && n > 0 &&
         k > 0 && k % 4 == 0;
}

} // namespace

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "packed slr.linear kernel vs dense sgemm\n");
  KernelPath path = defaultKernelPath();
  if (!pathName.empty()) {
    std::optional<KernelPath> parsed = parseKernelPath(pathName);
    if (!parsed || !isKernelPathSupported(*parsed)) {
      errs() << "slr-bench-cpu: error: --path=" << pathName
             << " is not a path this CPU runs\n";
      return 1;
    }
    path = *parsed;
  }
  SmallVector<std::pair<int64_t, int64_t>> layerShapes;
  if (shapes.empty())
    layerShapes = {{576, 576},   {1536, 576},   {576, 1536},
                   {4096, 4096}, {14336, 4096}, {4096, 14336}};
  for (const std::string &text : shapes) {
    int64_t n, k;
    if (!parseShape(text, n, k)) {
      errs() << "slr-bench-cpu: error: bad shape '" << text
             << "' (want NxK, K a multiple of 4)\n";
      return 1;
    }
    layerShapes.push_back({n, k});
  }
  SmallVector<int64_t> ms(rowCounts.begin(), rowCounts.end());
  if (ms.empty())
    ms = {1, 16, 128, 512};
  SmallVector<unsigned> threads(threadCounts.begin(), threadCounts.end());
  if (threads.empty())
    threads = {1, 2};
  if (lowRank < 0 || repeats == 0 ||
      llvm::any_of(ms, [](int64_t m) { return m <= 0; }) ||
      llvm::any_of(threads, [](unsigned t) { return t == 0; })) {
    errs() << "slr-bench-cpu: error: --rank >= 0, --repeats, --m and "
              "--thread-counts > 0\n";
    return 1;
  }

  static const char *strategyNames[] = {"packed", "dense-tiles", "auto"};
  outs() << "# slr packed 2:4 + rank " << lowRank << " kernel (path "
         << kernelPathName(path) << ", strategy "
         << strategyNames[static_cast<int>(strategy.getValue())]
         << ") vs OpenBLAS sgemm on the dense W (" << slr::getBlasKernelFamily()
         << "), y = x*W^T, median of " << repeats
         << "; ratio = sgemm time / slr time (wall; cpu: process CPU "
            "time)\n";
  outs() << "| N x K | M | threads | sgemm dense [ms] | slr f32 [ms] | ratio "
            "| slr bf16 [ms] | ratio | cpu ratio f32 | cpu ratio bf16 |\n";
  outs() << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  std::mt19937 rng(1);
  for (auto [n, k] : layerShapes) {
    Layer layer = makeLayer(n, k, rng);
    bool evict = n * k * 4 > (evictAbove << 20);
    int64_t maxM = *std::max_element(ms.begin(), ms.end());
    std::vector<float> x(maxM * k), y(maxM * n);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    for (float &value : x)
      value = dist(rng);
    for (int64_t m : ms)
      for (unsigned t : threads) {
        slr::setBlasThreadCount(static_cast<int>(t));
        Timing dense = medianTime(
            [&] {
              cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k,
                          1.0f, x.data(), k, layer.dense.data(), k, 0.0f,
                          y.data(), n);
            },
            evict);
        SparseLinearProblem p;
        p.m = m;
        p.n = n;
        p.k = k;
        p.rank = lowRank;
        p.x = x.data();
        p.ldx = k;
        p.y = y.data();
        p.ldy = n;
        p.positions = layer.positions.data();
        p.weightType = WeightType::F32;
        p.values = layer.values.data();
        p.u = layer.u.data();
        p.v = layer.v.data();
        Timing f32 =
            medianTime([&] { sparseLinear(p, path, t, strategy); }, evict);
        p.weightType = WeightType::BF16;
        p.values = layer.values16.data();
        p.u = layer.u16.data();
        p.v = layer.v16.data();
        Timing bf16 =
            medianTime([&] { sparseLinear(p, path, t, strategy); }, evict);
        outs() << format("| %lld x %lld | %lld | %u | %.3f | %.3f | %.2f | "
                         "%.3f | %.2f | %.2f | %.2f |\n",
                         static_cast<long long>(n), static_cast<long long>(k),
                         static_cast<long long>(m), t, dense.wall * 1e3,
                         f32.wall * 1e3, dense.wall / f32.wall, bf16.wall * 1e3,
                         dense.wall / bf16.wall, dense.cpu / f32.cpu,
                         dense.cpu / bf16.cpu);
        outs().flush();
      }
  }
  return 0;
}
