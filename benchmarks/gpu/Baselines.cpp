//===- Baselines.cpp - cuBLAS and cuSPARSELt, loaded at run time ----------===//

#include "Baselines.h"

#include <dlfcn.h>
#include <glob.h>

#include <cstdlib>
#include <cstring>

using namespace slr::bench;
using namespace slr::cuda;

void *slr::bench::openFirstLibrary(const std::vector<std::string> &candidates,
                                   std::string &tried) {
  for (const std::string &candidate : candidates) {
    // A wheel's library needs its siblings (libcublasLt next to libcublas):
    // load those of the same folder first.
    size_t slash = candidate.rfind('/');
    if (slash != std::string::npos &&
        candidate.find("libcublas.so") != std::string::npos) {
      std::string lt = candidate.substr(0, slash + 1) + "libcublasLt" +
                       candidate.substr(candidate.find(".so"));
      dlopen(lt.c_str(), RTLD_NOW | RTLD_GLOBAL);
    }
    if (void *library = dlopen(candidate.c_str(), RTLD_NOW | RTLD_LOCAL))
      return library;
    tried += (tried.empty() ? "" : ", ") + candidate;
  }
  return nullptr;
}

std::vector<std::string>
slr::bench::libraryCandidates(const char *envVar,
                              const std::vector<std::string> &sonames,
                              const std::string &file) {
  std::vector<std::string> out;
  if (const char *path = std::getenv(envVar))
    out.push_back(path);
  out.insert(out.end(), sonames.begin(), sonames.end());
  std::vector<std::string> roots = {"/usr/local/lib", "/usr/lib",
                                    "/opt/conda/lib"};
  for (const char *prefix : {"HOME", "VIRTUAL_ENV", "CONDA_PREFIX"})
    if (const char *value = std::getenv(prefix))
      roots.push_back(std::string(value) + (std::strcmp(prefix, "HOME") == 0
                                                ? "/.local/lib"
                                                : "/lib"));
  roots.push_back("/root/.pyenv/versions/*/lib");
  for (const std::string &root : roots)
    for (const char *packages : {"site-packages", "dist-packages"})
      for (const char *folder : {"nvidia/cu1*/lib", "nvidia/*/lib"}) {
        std::string pattern =
            root + "/python3*/" + packages + "/" + folder + "/" + file;
        glob_t found;
        if (glob(pattern.c_str(), 0, nullptr, &found) == 0)
          for (size_t i = 0; i < found.gl_pathc; ++i)
            out.push_back(found.gl_pathv[i]);
        globfree(&found);
      }
  return out;
}

//===----------------------------------------------------------------------===//
// cuBLAS
//===----------------------------------------------------------------------===//

namespace {
constexpr int kOpN = 0, kOpT = 1, kCompute32F = 68, kGemmDefault = -1;

template <typename F> bool bind(void *library, const char *name, F &f) {
  f = reinterpret_cast<F>(dlsym(library, name));
  return f != nullptr;
}
} // namespace

bool CuBLAS::load(std::string &error) {
  std::string tried;
  std::vector<std::string> candidates = libraryCandidates(
      "SLR_CUBLAS", {"libcublas.so.13", "libcublas.so.12"}, "libcublas.so.1*");
  void *library = openFirstLibrary(candidates, tried);
  if (!library) {
    error = "cannot load cuBLAS (tried " + tried +
            "; set SLR_CUBLAS to libcublas.so.*)";
    return false;
  }
  for (const std::string &c : candidates)
    if (dlopen(c.c_str(), RTLD_NOW | RTLD_NOLOAD) == library) {
      path = c;
      break;
    }
  if (!bind(library, "cublasCreate_v2", create) ||
      !bind(library, "cublasSetStream_v2", setStream) ||
      !bind(library, "cublasGemmEx", gemmEx)) {
    error = "the cuBLAS library lacks cublasGemmEx & co.";
    return false;
  }
  if (create(&handle) != 0) {
    error = "cublasCreate failed";
    return false;
  }
  return true;
}

void CuBLAS::gemm(CUstream stream, bool transA, bool transB, int m, int n,
                  int k, CUdeviceptr a, int lda, CUdeviceptr b, int ldb,
                  float beta, CUdeviceptr c, int ldc, int dataType) {
  const float one = 1.0f;
  setStream(handle, stream);
  int status = gemmEx(handle, transA ? kOpT : kOpN, transB ? kOpT : kOpN, m, n,
                      k, &one, reinterpret_cast<void *>(a), dataType, lda,
                      reinterpret_cast<void *>(b), dataType, ldb, &beta,
                      reinterpret_cast<void *>(c), dataType, ldc, kCompute32F,
                      kGemmDefault);
  if (status != 0)
    exitWithError("slr-bench-gpu: error: ",
                  "cublasGemmEx failed with status " + std::to_string(status));
}

void CuBLAS::linear(CUstream stream, int m, int n, int k, CUdeviceptr x,
                    CUdeviceptr w, CUdeviceptr y, int dataType) {
  // Column-major: y^T [N, M] = op_T(W as K x N) * (x^T as K x M).
  gemm(stream, true, false, n, m, k, w, k, x, k, 0.0f, y, n, dataType);
}

//===----------------------------------------------------------------------===//
// cuSPARSELt
//===----------------------------------------------------------------------===//

namespace {
struct alignas(16) Opaque {
  uint8_t data[512];
};
// Enumerators of cusparseLt.h / cusparse.h.
constexpr int kOrderRow = 2, kSparsity50 = 0, kComputeLt32F = 2,
              kAlgDefault = 0;
} // namespace

struct CuSparseLt::API {
  int (*init)(Opaque *);
  int (*dense)(const Opaque *, Opaque *, int64_t, int64_t, int64_t, uint32_t,
               int, int);
  int (*structured)(const Opaque *, Opaque *, int64_t, int64_t, int64_t,
                    uint32_t, int, int, int);
  int (*matmulDescriptor)(const Opaque *, Opaque *, int, int, const Opaque *,
                          const Opaque *, const Opaque *, const Opaque *, int);
  int (*algSelection)(const Opaque *, Opaque *, const Opaque *, int);
  int (*planInit)(const Opaque *, Opaque *, const Opaque *, const Opaque *);
  int (*planDestroy)(const Opaque *);
  int (*workspace)(const Opaque *, const Opaque *, size_t *);
  int (*compressedSize)(const Opaque *, const Opaque *, size_t *, size_t *);
  int (*compress)(const Opaque *, const Opaque *, int, int, const void *,
                  void *, void *, CUstream);
  int (*matmul)(const Opaque *, const Opaque *, const void *, const void *,
                const void *, const void *, const void *, void *, void *,
                CUstream *, int32_t);
  const char *(*errorString)(int);
  Opaque handle;
};

struct CuSparseLt::Plan {
  std::shared_ptr<API> api;
  Opaque matA, matB, matC, matmul, alg, plan;
  CUdeviceptr compressed = 0, compressBuffer = 0, workspace = 0;
  CUdeviceptr x = 0, d = 0;
};

bool CuSparseLt::load(std::string &error) {
  std::string tried;
  std::vector<std::string> candidates = libraryCandidates(
      "SLR_CUSPARSELT", {"libcusparseLt.so.0"}, "libcusparseLt.so.0");
  void *library = openFirstLibrary(candidates, tried);
  if (!library) {
    error = "cannot load cuSPARSELt (tried " + tried +
            "; set SLR_CUSPARSELT to libcusparseLt.so.0)";
    return false;
  }
  for (const std::string &c : candidates)
    if (dlopen(c.c_str(), RTLD_NOW | RTLD_NOLOAD) == library) {
      path = c;
      break;
    }
  auto a = std::make_shared<API>();
  bool ok =
      bind(library, "cusparseLtInit", a->init) &&
      bind(library, "cusparseLtDenseDescriptorInit", a->dense) &&
      bind(library, "cusparseLtStructuredDescriptorInit", a->structured) &&
      bind(library, "cusparseLtMatmulDescriptorInit", a->matmulDescriptor) &&
      bind(library, "cusparseLtMatmulAlgSelectionInit", a->algSelection) &&
      bind(library, "cusparseLtMatmulPlanInit", a->planInit) &&
      bind(library, "cusparseLtMatmulPlanDestroy", a->planDestroy) &&
      bind(library, "cusparseLtMatmulGetWorkspace", a->workspace) &&
      bind(library, "cusparseLtSpMMACompressedSize2", a->compressedSize) &&
      bind(library, "cusparseLtSpMMACompress2", a->compress) &&
      bind(library, "cusparseLtMatmul", a->matmul) &&
      bind(library, "cusparseLtGetErrorString", a->errorString);
  if (!ok) {
    error =
        "the cuSPARSELt library lacks the 0.5+ API (cusparseLtSpMMACompress2 "
        "& co.)";
    return false;
  }
  if (int status = a->init(&a->handle)) {
    error = "cusparseLtInit failed: " + std::string(a->errorString(status));
    return false;
  }
  api = a;
  return true;
}

std::unique_ptr<CuSparseLt::Plan, void (*)(CuSparseLt::Plan *)>
CuSparseLt::prepare(CUstream stream, int m, int n, int k, CUdeviceptr denseS,
                    CUdeviceptr x, CUdeviceptr d, int dataType,
                    std::string &error) {
  auto destroy = [](Plan *p) {
    const DriverAPI *driver = getDriver();
    if (p->api)
      p->api->planDestroy(&p->plan);
    if (driver)
      for (CUdeviceptr buffer :
           {p->compressed, p->compressBuffer, p->workspace})
        if (buffer)
          driver->cuMemFree(buffer);
    delete p;
  };
  std::unique_ptr<Plan, void (*)(Plan *)> plan(new Plan, destroy);
  plan->api = api;
  plan->x = x;
  plan->d = d;
  const API &a = *api;
  const Opaque *h = &a.handle;
  auto failed = [&](const char *call, int status) {
    error = std::string(call) + ": " + a.errorString(status);
    return std::unique_ptr<Plan, void (*)(Plan *)>(nullptr, destroy);
  };
  // A = S [N, K] (structured), B = x [M, K] used transposed, C = D [N, M].
  if (int s = a.structured(h, &plan->matA, n, k, k, 16, dataType, kOrderRow,
                           kSparsity50))
    return failed("cusparseLtStructuredDescriptorInit", s);
  if (int s = a.dense(h, &plan->matB, m, k, k, 16, dataType, kOrderRow))
    return failed("cusparseLtDenseDescriptorInit(x)", s);
  if (int s = a.dense(h, &plan->matC, n, m, m, 16, dataType, kOrderRow))
    return failed("cusparseLtDenseDescriptorInit(D)", s);
  if (int s = a.matmulDescriptor(h, &plan->matmul, kOpN, kOpT, &plan->matA,
                                 &plan->matB, &plan->matC, &plan->matC,
                                 kComputeLt32F))
    return failed("cusparseLtMatmulDescriptorInit", s);
  if (int s = a.algSelection(h, &plan->alg, &plan->matmul, kAlgDefault))
    return failed("cusparseLtMatmulAlgSelectionInit", s);
  if (int s = a.planInit(h, &plan->plan, &plan->matmul, &plan->alg))
    return failed("cusparseLtMatmulPlanInit", s);
  const DriverAPI &driver = requireDriver("slr-bench-gpu: error: ");
  size_t compressedBytes = 0, bufferBytes = 0, workspaceBytes = 0;
  if (int s = a.compressedSize(h, &plan->matA, &compressedBytes, &bufferBytes))
    return failed("cusparseLtSpMMACompressedSize2", s);
  requireSuccess(driver.cuMemAlloc(&plan->compressed,
                                   std::max<size_t>(compressedBytes, 1)),
                 "cuMemAlloc", "slr-bench-gpu: error: ");
  requireSuccess(driver.cuMemAlloc(&plan->compressBuffer,
                                   std::max<size_t>(bufferBytes, 1)),
                 "cuMemAlloc", "slr-bench-gpu: error: ");
  if (int s =
          a.compress(h, &plan->matA, 1, kOpN, reinterpret_cast<void *>(denseS),
                     reinterpret_cast<void *>(plan->compressed),
                     reinterpret_cast<void *>(plan->compressBuffer), stream))
    return failed("cusparseLtSpMMACompress2", s);
  if (int s = a.workspace(h, &plan->plan, &workspaceBytes))
    return failed("cusparseLtMatmulGetWorkspace", s);
  requireSuccess(
      driver.cuMemAlloc(&plan->workspace, std::max<size_t>(workspaceBytes, 1)),
      "cuMemAlloc", "slr-bench-gpu: error: ");
  return plan;
}

bool CuSparseLt::run(Plan &plan, CUstream stream, std::string &error) {
  const API &a = *api;
  const float one = 1.0f, zero = 0.0f;
  CUstream streams[] = {stream};
  int status = a.matmul(
      &a.handle, &plan.plan, &one, reinterpret_cast<void *>(plan.compressed),
      reinterpret_cast<void *>(plan.x), &zero, reinterpret_cast<void *>(plan.d),
      reinterpret_cast<void *>(plan.d),
      reinterpret_cast<void *>(plan.workspace), streams, 1);
  if (status)
    error = std::string("cusparseLtMatmul: ") + a.errorString(status);
  return status == 0;
}
