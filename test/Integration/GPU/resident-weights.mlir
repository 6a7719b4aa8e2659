// Constant weights stay on the device: three calls of one slr.linear with
// constant S, U and V copy the weights (values 8192 B, metadata 1024 B,
// U 4096 B, V 2048 B) once and per call only x (512 B) and y (1024 B):
// 4 + 3 * 2 = 10 copies of 15360 + 3 * 1536 = 19968 bytes. The same
// program with a weight computed at run time copies all of them on every
// call: 3 * 6 = 18 copies of 3 * 16896 = 50688 bytes.
//
// REQUIRES: cuda-sim
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa" \
// RUN: | env SLR_CUDA_SIM_STATS=1 %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=RESIDENT
// RESIDENT-DAG: slr_cuda_sim: {{.*}}; {{[0-9]+}} allocations, 10 copies of 19968 bytes;
// RESIDENT-DAG: 48
// RESIDENT-DAG: 96
// RESIDENT-DAG: 144
//
// RUN: sed -e 's/arith.constant dense<1.0> : tensor<128x32xbf16>/call @ones() : () -> tensor<128x32xbf16>/' %s \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa" \
// RUN: | env SLR_CUDA_SIM_STATS=1 %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=COPIED
// COPIED-DAG: slr_cuda_sim: {{.*}}; {{[0-9]+}} allocations, 18 copies of 50688 bytes;
// COPIED-DAG: 48
// COPIED-DAG: 144

func.func private @printI64(i64)
func.func private @printNewline()

func.func @ones() -> tensor<128x32xbf16> {
  %e = tensor.empty() : tensor<128x32xbf16>
  %one = arith.constant 1.0 : bf16
  %f = linalg.fill ins(%one : bf16) outs(%e : tensor<128x32xbf16>) -> tensor<128x32xbf16>
  return %f : tensor<128x32xbf16>
}

// Call c (1, 2, 3): x = c everywhere; S keeps positions 0 and 1 of each
// group with value 1 (x S^T = 32 c); t = x V^T = 64 c per rank, and
// t U^T = 16 * 64 c / 64 = 16 c: y = 48 c.
func.func @main() {
  %v = arith.constant dense<1.0> : tensor<128x32xbf16>
  %p = arith.constant dense<4> : tensor<128x16xi8>
  %u = arith.constant dense<0.015625> : tensor<128x16xbf16>
  %vt = arith.constant dense<1.0> : tensor<16x64xbf16>
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  scf.for %i = %c1 to %c4 step %c1 {
    %ii = arith.index_cast %i : index to i64
    %c = arith.sitofp %ii : i64 to bf16
    %e = tensor.empty() : tensor<4x64xbf16>
    %x = linalg.fill ins(%c : bf16) outs(%e : tensor<4x64xbf16>) -> tensor<4x64xbf16>
    %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<128x16xbf16>, tensor<16x64xbf16>) {pattern = #slr.nm<2, 4>} : tensor<4x64xbf16>, tensor<128x32xbf16>, tensor<128x16xi8> -> tensor<4x128xbf16>
    %c127 = arith.constant 127 : index
    %r = tensor.extract %y[%c3, %c127] : tensor<4x128xbf16>
    %ri = arith.fptosi %r : bf16 to i64
    func.call @printI64(%ri) : (i64) -> ()
    func.call @printNewline() : () -> ()
  }
  return
}
