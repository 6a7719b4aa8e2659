// Activations on the device move nothing: with x given as device memory
// (a tensor over a managed-memory buffer) and y materialized into device
// memory, three calls of one slr.linear with constant weights copy only the
// weights, once (values 8192 B, metadata 1024 B, U 4096 B, V 2048 B):
// 4 copies of 15360 bytes (resident-weights.mlir, the same calls on host
// activations: 10 copies).
//
// REQUIRES: cuda-sim
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa" \
// RUN: | env SLR_CUDA_SIM_STATS=1 %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils > %t 2>&1
// RUN: FileCheck %s < %t
// RUN: FileCheck %s --check-prefix=STATS < %t
// CHECK: 48
// CHECK-NEXT: 96
// CHECK-NEXT: 144
// M = 4 takes the one-launch decode kernel: three calls, three launches;
// allocations: the program's x and y, the four resident weights and the
// kernel's workspace and counters per call (no staging buffers).
// STATS: slr_cuda_sim: 3 launches, {{.*}}; 12 allocations, 4 copies of 15360 bytes;

func.func private @printI64(i64)
func.func private @printNewline()

// A rows x cols bf16 buffer of managed memory (device memory the host can
// read and write), as a memref descriptor. Written in the LLVM dialect: the
// buffer deallocation of the pipeline takes no gpu host ops in func.func.
llvm.func @mgpuMemAlloc(i64, !llvm.ptr, i8) -> !llvm.ptr
llvm.func @managed(%rows: i64, %cols: i64) -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> {
  %elements = llvm.mul %rows, %cols : i64
  %two = llvm.mlir.constant(2 : i64) : i64
  %bytes = llvm.mul %elements, %two : i64
  %null = llvm.mlir.zero : !llvm.ptr
  %shared = llvm.mlir.constant(1 : i8) : i8
  %p = llvm.call @mgpuMemAlloc(%bytes, %null, %shared) : (i64, !llvm.ptr, i8) -> !llvm.ptr
  %zero = llvm.mlir.constant(0 : i64) : i64
  %one = llvm.mlir.constant(1 : i64) : i64
  %d0 = llvm.mlir.poison : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d1 = llvm.insertvalue %p, %d0[0] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d2 = llvm.insertvalue %p, %d1[1] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d3 = llvm.insertvalue %zero, %d2[2] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d4 = llvm.insertvalue %rows, %d3[3, 0] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d5 = llvm.insertvalue %cols, %d4[3, 1] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d6 = llvm.insertvalue %cols, %d5[4, 0] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %d7 = llvm.insertvalue %one, %d6[4, 1] : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  llvm.return %d7 : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
}

// x = c (1, 2, 3) for call c, written by the host into managed memory; each
// call computes y = linear(x) into managed memory, read by the host.
// S keeps positions 0 and 1 of each group with value 1 (x S^T = 32 c);
// t = x V^T = 64 c per rank, and t U^T = 16 * 64 c / 64 = 16 c: y = 48 c.
func.func @main() {
  %v = arith.constant dense<1.0> : tensor<128x32xbf16>
  %p = arith.constant dense<4> : tensor<128x16xi8>
  %u = arith.constant dense<0.015625> : tensor<128x16xbf16>
  %vt = arith.constant dense<1.0> : tensor<16x64xbf16>
  %rows = arith.constant 4 : i64
  %k = arith.constant 64 : i64
  %n = arith.constant 128 : i64
  %xd = llvm.call @managed(%rows, %k) : (i64, i64) -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %dx = builtin.unrealized_conversion_cast %xd : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<4x64xbf16>
  %yd = llvm.call @managed(%rows, %n) : (i64, i64) -> !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>
  %dy = builtin.unrealized_conversion_cast %yd : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<4x128xbf16>
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c127 = arith.constant 127 : index
  scf.for %i = %c1 to %c4 step %c1 {
    %ii = arith.index_cast %i : index to i64
    %cf = arith.sitofp %ii : i64 to f32
    %c = arith.truncf %cf : f32 to bf16
    linalg.fill ins(%c : bf16) outs(%dx : memref<4x64xbf16>)
    %x = bufferization.to_tensor %dx restrict : memref<4x64xbf16> to tensor<4x64xbf16>
    %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<128x16xbf16>, tensor<16x64xbf16>) {pattern = #slr.nm<2, 4>} : tensor<4x64xbf16>, tensor<128x32xbf16>, tensor<128x16xi8> -> tensor<4x128xbf16>
    bufferization.materialize_in_destination %y in restrict writable %dy : (tensor<4x128xbf16>, memref<4x128xbf16>) -> ()
    %r = memref.load %dy[%c3, %c127] : memref<4x128xbf16>
    %rf = arith.extf %r : bf16 to f32
    %ri = arith.fptosi %rf : f32 to i64
    func.call @printI64(%ri) : (i64) -> ()
    func.call @printNewline() : () -> ()
  }
  return
}
