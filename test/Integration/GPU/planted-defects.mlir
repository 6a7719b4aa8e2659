// The generator plants a defect on request (--convert-slr-to-gpu
// test-defect=...); the PTX simulator must stop each with its own one-line
// error instead of a result: a pipeline loop without its barrier is a
// shared-memory race, waiting for one cp.async group too few reads stale
// data, and an x-tile bound check that admits row M reads past the end of
// x. Without a defect the same program prints the right result.
//
// REQUIRES: cuda-sim
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s --check-prefix=OK
// OK: 64
//
// RUN: slr-opt %s --convert-slr-to-gpu="test-defect=drop-barrier" \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa" \
// RUN: | not %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=RACE
// RACE-NOT: {{^[0-9]}}
// RACE: slr_cuda_sim: cuLaunchKernel: {{.*}}kernel 'slr_linear_bf16_n128_k128_r0_t128x64x64_w2x2_s3_defect_drop_barrier', PTX line {{[0-9]+}} (`ldmatrix{{.*}}`), thread ({{[0-9]+}}, 0, 0) of block (0, {{[01]}}, 0): shared-memory race: read of shared byte 0x{{[0-9a-f]+}} conflicts with the write by thread ({{[0-9]+}}, 0, 0) at PTX line {{[0-9]+}} (`cp.async.cg.shared.global{{.*}}`) in the same barrier interval
//
// RUN: slr-opt %s --convert-slr-to-gpu="test-defect=short-wait" \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa" \
// RUN: | not %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=STALE
// STALE-NOT: {{^[0-9]}}
// STALE: slr_cuda_sim: cuLaunchKernel: {{.*}}kernel 'slr_linear_{{.*}}_defect_short_wait', PTX line {{[0-9]+}} (`ldmatrix{{.*}}`), {{.*}}: stale read of shared byte 0x{{[0-9a-f]+}} while a cp.async of thread ({{[0-9]+}}, 0, 0) (PTX line {{[0-9]+}}) is still copying into it
//
// The sm_90a kernel (wgmma_sp_sm90a) plants short-wait as consumers that
// read a stage without waiting on its `full` mbarrier: the copies into it
// are still in flight.
// RUN: slr-opt %s --convert-slr-to-gpu="chip=sm_90a test-defect=short-wait" \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa chip=sm_90a" \
// RUN: | not %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=STALE90
// STALE90-NOT: {{^[0-9]}}
// STALE90: slr_cuda_sim: cuLaunchKernel: {{.*}}kernel 'slr_wgmma_sp_{{.*}}_defect_short_wait', PTX line {{[0-9]+}} ({{.*}}): stale read of shared byte 0x{{[0-9a-f]+}} while a cp.async.bulk of thread (0, 0, 0) (PTX line {{[0-9]+}}) is still copying into it
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa chip=sm_90a" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s --check-prefix=OK
//
// RUN: slr-opt %s --convert-slr-to-gpu="test-defect=read-past-tile" \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa" \
// RUN: | not %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=BOUNDS
// BOUNDS-NOT: {{^[0-9]}}
// BOUNDS: slr_cuda_sim: cuLaunchKernel: an illegal memory access was encountered: kernel 'slr_linear_{{.*}}_defect_read_past_tile', PTX line {{[0-9]+}} (`cp.async.cg.shared.global{{.*}}`), thread ({{[0-9]+}}, 0, 0) of block (0, 1, 0): out-of-bounds global read of 16 bytes at 0x{{[0-9a-f]+}}: {{[0-9]+}} bytes past the end of the 17920-byte device allocation
//
// RUN: not slr-opt %s --convert-slr-to-gpu="test-defect=typo" 2>&1 \
// RUN: | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: error: unknown test-defect 'typo' (none, drop-barrier, short-wait, read-past-tile)

func.func private @printI64(i64)

// x: 70 x 128 ones (70 is not a multiple of the 64-row tile), S: every
// group keeps positions 0 and 1 with values 1, so y = 2 * 32 = 64.
func.func @main() {
  %x = arith.constant dense<1.0> : tensor<70x128xbf16>
  %v = arith.constant dense<1.0> : tensor<128x64xbf16>
  %p = arith.constant dense<4> : tensor<128x32xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<70x128xbf16>, tensor<128x64xbf16>, tensor<128x32xi8> -> tensor<70x128xbf16>
  %c69 = arith.constant 69 : index
  %c127 = arith.constant 127 : index
  %e = tensor.extract %y[%c69, %c127] : tensor<70x128xbf16>
  %f = arith.fptosi %e : bf16 to i64
  call @printI64(%f) : (i64) -> ()
  return
}
