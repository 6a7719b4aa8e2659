//===- ProgramSupport.cpp - What lowered GPU test programs call -----------===//
//
// The few host functions the lowered integration programs of
// test/Integration/GPU call besides the mgpu* runtime, for running them as
// standalone executables on a machine without LLVM/MLIR (the GPU machine):
// the printing helpers and memrefCopy of MLIR's runner-utils ABI, the
// float -> bf16 truncation LLVM emits a libcall for, and `main`, which
// calls the program's renamed entry function. Plain C++, no MLIR.
//
//===----------------------------------------------------------------------===//

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

extern "C" {

void slr_program_main();

void printI64(int64_t value) { std::printf("%" PRId64, value); }
void printComma() { std::fputs(", ", stdout); }
void printNewline() { std::fputs("\n", stdout); }

/// An unranked memref as lowered code passes it: the rank and a pointer to
/// the ranked descriptor {allocated, aligned, offset, sizes[rank],
/// strides[rank]}.
struct UnrankedMemRef {
  int64_t rank;
  void *descriptor;
};

/// Copies the elements of `src` into `dst` (same shape, any strides).
void memrefCopy(int64_t elementSize, UnrankedMemRef *src, UnrankedMemRef *dst) {
  const int64_t rank = src->rank;
  auto fields = [](UnrankedMemRef *m, char *&base, const int64_t *&sizes,
                   const int64_t *&strides, int64_t elementSize) {
    auto *words = static_cast<int64_t *>(m->descriptor);
    char *aligned = reinterpret_cast<char *>(words[1]);
    base = aligned + words[2] * elementSize;
    sizes = words + 3;
    strides = words + 3 + m->rank;
  };
  char *srcBase, *dstBase;
  const int64_t *sizes, *srcStrides, *dstSizes, *dstStrides;
  fields(src, srcBase, sizes, srcStrides, elementSize);
  fields(dst, dstBase, dstSizes, dstStrides, elementSize);
  int64_t total = 1;
  for (int64_t d = 0; d < rank; ++d)
    total *= sizes[d];
  if (total == 0)
    return;
  std::vector<int64_t> index(rank, 0);
  for (int64_t n = 0; n < total; ++n) {
    int64_t srcOffset = 0, dstOffset = 0;
    for (int64_t d = 0; d < rank; ++d) {
      srcOffset += index[d] * srcStrides[d];
      dstOffset += index[d] * dstStrides[d];
    }
    std::memcpy(dstBase + dstOffset * elementSize,
                srcBase + srcOffset * elementSize, elementSize);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < sizes[d])
        break;
      index[d] = 0;
    }
  }
}

/// float -> bfloat16, round to nearest even (NaN stays a quiet NaN); g++ 12's
/// libgcc lacks it. LLVM passes a bf16 result in the low half of xmm0, so the
/// bits go back as a float whose low 16 bits they are (a uint16_t result
/// would come back in eax, and the caller would read what xmm0 held).
float __truncsfbf2(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint32_t result;
  if ((bits & 0x7fffffffu) > 0x7f800000u) {
    result = (bits >> 16) | 0x40;
  } else {
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    result = (bits + rounding) >> 16;
  }
  float out;
  std::memcpy(&out, &result, 4);
  return out;
}

} // extern "C"

int main() {
  slr_program_main();
  std::fflush(stdout);
  return 0;
}
