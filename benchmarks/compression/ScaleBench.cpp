//===- ScaleBench.cpp - Compression time and memory at LLM layer shapes ---===//
//
// slr-bench-compression-scale: compresses synthetic-but-realistic layers of
// the shapes of real models (up to Llama-3-8B's 4096 x 14336 and
// 14336 x 4096) and prints, per shape and method, the wall time, the peak
// resident memory and the relative objective, then the growth of the time
// in N and K (least-squares exponents over the shapes).
//
// The inputs: H is the population Gram matrix of activations
// x = D (G z + sigma e) (z, e standard normal; G K x p with power-law
// column scales, so H has p decaying eigenvalues above a flat floor, as
// LLM activation spectra do; sigma^2 a fraction --floor of a channel's
// factor variance, chosen so that objectives land where real layers' do), D a
// log-normal channel scale with a few outlier channels about --outlier-scale
// times larger (the outlier features of LLMs), times a token count T: H = T D
// (G G^T + sigma^2 I) D. W is Gaussian with per-row scales plus a small
// low-rank part.
//
// Each compression runs in a child process of its own, so its peak memory
// is its own (inputs included: W in f32 and H in f64 are the floor).
//
//===----------------------------------------------------------------------===//

#include "slr/Compression/Compression.h"
#include "slr/Compression/MethodRegistry.h"
#include "slr/Support/Blas.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <cblas.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

using namespace llvm;
namespace cmp = slr::compression;

static cl::OptionCategory
    benchmarkCategory("slr-bench-compression-scale options");
static cl::list<std::string>
    shapeList("shapes", cl::CommaSeparated,
              cl::desc("layer shapes NxK (N outputs, K inputs); default: "
                       "SmolLM2-135M's and Llama-3-8B's"),
              cl::cat(benchmarkCategory));
static cl::list<std::string> methods("method", cl::CommaSeparated,
                                     cl::desc("methods (default hassle-free)"),
                                     cl::cat(benchmarkCategory));
static cl::opt<std::string> sparsity("sparsity", cl::init("2:4"),
                                     cl::desc("sparsity pattern"),
                                     cl::cat(benchmarkCategory));
static cl::opt<int64_t> rankOption("rank", cl::init(64),
                                   cl::desc("rank of the low-rank part"),
                                   cl::cat(benchmarkCategory));
static cl::opt<int> iterations("iterations", cl::init(20),
                               cl::desc("alternating rounds"),
                               cl::cat(benchmarkCategory));
static cl::opt<int64_t> factors("factors", cl::init(256),
                                cl::desc("p, the activations' latent factors"),
                                cl::cat(benchmarkCategory));
static cl::opt<double> floorFraction(
    "floor", cl::init(1.0),
    cl::desc("sigma^2 as a fraction of a channel's factor variance"),
    cl::cat(benchmarkCategory));
static cl::opt<double> outlierScale(
    "outlier-scale", cl::init(10.0),
    cl::desc("outlier channels' activation scale (x the typical; 0: none)"),
    cl::cat(benchmarkCategory));
static cl::opt<std::string> reportPath("report",
                                       cl::desc("also write the table as "
                                                "Markdown to this file"),
                                       cl::cat(benchmarkCategory));

namespace {

struct Shape {
  int64_t n = 0, k = 0;
};

struct Measurement {
  double seconds = 0, relativeObjective = 0;
  double peakMiB = 0, inputMiB = 0;
  bool ok = false;
};

int fail(const Twine &message) {
  WithColor::error(errs(), "slr-bench-compression-scale") << message << "\n";
  return 1;
}

/// H = T D (G G^T + sigma^2 I) D, row-major K x K.
std::vector<double> makeHessian(int64_t k, int64_t p, std::mt19937_64 &rng) {
  std::normal_distribution<double> normal;
  std::vector<double> g(k * p);
  double factorVariance = 0;
  for (int64_t j = 0; j < p; ++j) {
    // Power-law factor strengths: eigenvalues fall as j^-1.2.
    double scale = std::pow(1.0 + j, -0.6);
    factorVariance += scale * scale;
    for (int64_t i = 0; i < k; ++i)
      g[i * p + j] = scale * normal(rng);
  }
  std::vector<double> h(k * k, 0.0);
  cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, k, p, 1.0, g.data(), p,
              0.0, h.data(), k);
  std::vector<double> d(k);
  std::lognormal_distribution<double> channel(0.0, 0.5);
  for (double &v : d)
    v = channel(rng);
  // A few outlier channels (about one in 500).
  std::uniform_int_distribution<int64_t> pick(0, k - 1);
  std::uniform_real_distribution<double> outlier(0.5 * outlierScale,
                                                 1.5 * outlierScale);
  if (outlierScale > 0)
    for (int64_t o = 0; o < std::max<int64_t>(1, k / 500); ++o)
      d[pick(rng)] *= outlier(rng);
  const double tokens = 4096.0, sigma2 = floorFraction * factorVariance;
  for (int64_t i = 0; i < k; ++i) {
    h[i * k + i] += sigma2;
    for (int64_t j = i; j < k; ++j) {
      double v = tokens * d[i] * d[j] * h[i * k + j];
      h[i * k + j] = v;
      h[j * k + i] = v;
    }
  }
  return h;
}

/// Gaussian rows with log-normal scales plus a rank-16 part.
std::vector<float> makeWeights(int64_t n, int64_t k, std::mt19937_64 &rng) {
  std::normal_distribution<double> normal;
  std::lognormal_distribution<double> rowScale(0.0, 0.3);
  const int64_t r = 16;
  std::vector<double> a(n * r), b(r * k);
  for (double &v : a)
    v = normal(rng);
  for (double &v : b)
    v = normal(rng);
  std::vector<double> low(n * k, 0.0);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, k, r,
              0.3 / std::sqrt(double(k * r)), a.data(), r, b.data(), k, 0.0,
              low.data(), k);
  std::vector<float> w(n * k);
  for (int64_t i = 0; i < n; ++i) {
    double scale = rowScale(rng) / std::sqrt(double(k));
    for (int64_t j = 0; j < k; ++j)
      w[i * k + j] = static_cast<float>(scale * normal(rng) + low[i * k + j]);
  }
  return w;
}

double peakMiBOfSelf() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0; // KiB on Linux
}

/// One compression in a child process; its figures come back over a pipe.
Measurement measure(const Shape &shape, cmp::Method method,
                    const cmp::SparsityPattern &pattern, uint64_t seed) {
  Measurement m;
  int fds[2];
  if (pipe(fds) != 0)
    return m;
  pid_t child = fork();
  if (child < 0)
    return m;
  if (child == 0) {
    close(fds[0]);
    std::mt19937_64 rng(seed);
    std::vector<double> h = makeHessian(shape.k, factors, rng);
    std::vector<float> w = makeWeights(shape.n, shape.k, rng);
    Measurement r;
    r.inputMiB = (h.size() * 8.0 + w.size() * 4.0) / (1024.0 * 1024.0);
    cmp::Options options;
    options.method = method;
    options.pattern = pattern;
    options.rank = rankOption;
    options.iterations = iterations;
    cmp::Result result;
    auto begin = std::chrono::steady_clock::now();
    cmp::Status status = cmp::compress(w, shape.n, shape.k, h, options, result);
    r.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin)
            .count();
    r.ok = static_cast<bool>(status);
    if (!status)
      errs() << "slr-bench-compression-scale: " << status.message << "\n";
    r.relativeObjective = result.relativeObjective;
    r.peakMiB = peakMiBOfSelf();
    ssize_t written = write(fds[1], &r, sizeof(r));
    _exit(written == sizeof(r) ? 0 : 1);
  }
  close(fds[1]);
  Measurement r;
  ssize_t got = read(fds[0], &r, sizeof(r));
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  if (got == sizeof(r) && WIFEXITED(status) && WEXITSTATUS(status) == 0)
    m = r;
  return m;
}

/// Least-squares fit of log t = c + a log N + b log K; false when the shapes
/// do not vary in both.
bool fitExponents(const std::vector<Shape> &shapes,
                  const std::vector<double> &seconds, double &a, double &b) {
  // Normal equations of the 3-parameter fit.
  double s[3][3] = {}, rhs[3] = {};
  for (size_t i = 0; i < shapes.size(); ++i) {
    double x[3] = {1.0, std::log(double(shapes[i].n)),
                   std::log(double(shapes[i].k))};
    double y = std::log(seconds[i]);
    for (int r = 0; r < 3; ++r) {
      rhs[r] += x[r] * y;
      for (int c = 0; c < 3; ++c)
        s[r][c] += x[r] * x[c];
    }
  }
  // Gaussian elimination with partial pivoting.
  for (int col = 0; col < 3; ++col) {
    int best = col;
    for (int r = col + 1; r < 3; ++r)
      if (std::fabs(s[r][col]) > std::fabs(s[best][col]))
        best = r;
    std::swap(s[col], s[best]);
    std::swap(rhs[col], rhs[best]);
    if (std::fabs(s[col][col]) < 1e-9)
      return false;
    for (int r = col + 1; r < 3; ++r) {
      double f = s[r][col] / s[col][col];
      for (int c = col; c < 3; ++c)
        s[r][c] -= f * s[col][c];
      rhs[r] -= f * rhs[col];
    }
  }
  double coef[3];
  for (int r = 2; r >= 0; --r) {
    double v = rhs[r];
    for (int c = r + 1; c < 3; ++c)
      v -= s[r][c] * coef[c];
    coef[r] = v / s[r][r];
  }
  a = coef[1];
  b = coef[2];
  return true;
}

} // namespace

int main(int argc, char **argv) {
  slr::selectBlasKernelsForHost(argv);
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(benchmarkCategory);
  cl::ParseCommandLineOptions(
      argc, argv, "slr compression at LLM layer shapes: time and memory\n");

  std::vector<Shape> shapes;
  SmallVector<std::string> shapeTexts(shapeList.begin(), shapeList.end());
  if (shapeTexts.empty())
    shapeTexts = {"576x576",   "192x576",   "1536x576",   "576x1536",
                  "2048x2048", "4096x4096", "14336x4096", "4096x14336"};
  for (const std::string &text : shapeTexts) {
    auto [left, right] = StringRef(text).split('x');
    Shape shape;
    if (left.getAsInteger(10, shape.n) || right.getAsInteger(10, shape.k) ||
        shape.n <= 0 || shape.k <= 0)
      return fail("--shapes: '" + text + "' is not NxK");
    shapes.push_back(shape);
  }
  std::optional<cmp::SparsityPattern> pattern =
      cmp::parseSparsityPattern(sparsity);
  if (!pattern)
    return fail("bad --sparsity " + sparsity);
  SmallVector<cmp::Method> selected;
  for (const std::string &name : methods) {
    const cmp::CompressionMethodInfo *info = cmp::findCompressionMethod(name);
    if (!info)
      return fail("--method: " +
                  cmp::unknownMethodMessage(name, cmp::MethodSelection::All));
    selected.push_back(info->method);
  }
  if (selected.empty())
    selected.push_back(cmp::Method::HassleFree);

  struct Row {
    Shape shape;
    cmp::Method method;
    Measurement m;
  };
  std::vector<Row> rows;
  for (const Shape &shape : shapes)
    for (cmp::Method method : selected) {
      errs() << llvm::format("[%zu/%zu] %lld x %lld %s ...\n", rows.size() + 1,
                             shapes.size() * selected.size(),
                             (long long)shape.n, (long long)shape.k,
                             cmp::methodName(method));
      Measurement m = measure(shape, method, *pattern,
                              /*seed=*/shape.n * 1000003 + shape.k);
      if (!m.ok)
        return fail(
            llvm::formatv("{0} x {1}: the compression failed", shape.n, shape.k)
                .str());
      errs() << llvm::format("      %.1f s, peak %.0f MiB\n", m.seconds,
                             m.peakMiB);
      rows.push_back({shape, method, m});
    }

  std::string table;
  raw_string_ostream os(table);
  os << llvm::format("| %-6s | %-6s | %-12s | %10s | %10s | %12s | %8s |\n",
                     "N", "K", "method", "time [s]", "peak [MiB]", "W+H [MiB]",
                     "rel.obj");
  os << "|--------|--------|--------------|------------|------------|"
        "--------------|----------|\n";
  for (const Row &row : rows)
    os << llvm::format(
        "| %6lld | %6lld | %-12s | %10.1f | %10.0f | %12.0f | %8.4f |\n",
        (long long)row.shape.n, (long long)row.shape.k,
        cmp::methodName(row.method), row.m.seconds, row.m.peakMiB,
        row.m.inputMiB, row.m.relativeObjective);
  for (cmp::Method method : selected) {
    std::vector<Shape> fitShapes;
    std::vector<double> seconds;
    for (const Row &row : rows)
      if (row.method == method && row.m.seconds > 0) {
        fitShapes.push_back(row.shape);
        seconds.push_back(row.m.seconds);
      }
    double a = 0, b = 0;
    if (fitShapes.size() >= 3 && fitExponents(fitShapes, seconds, a, b))
      os << llvm::format("\n%s: time ~ N^%.2f K^%.2f (least squares over %zu "
                         "shapes)\n",
                         cmp::methodName(method), a, b, fitShapes.size());
  }
  os.flush();
  outs() << table;
  if (!reportPath.empty()) {
    std::error_code ec;
    raw_fd_ostream report(reportPath, ec, sys::fs::OF_Text);
    if (ec)
      return fail("cannot write " + reportPath + ": " + ec.message());
    report << table;
  }
  return 0;
}
