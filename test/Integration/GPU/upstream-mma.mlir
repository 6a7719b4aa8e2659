// A GPU program written with upstream ops only (gpu.launch with workgroup
// memory, gpu.barrier, gpu.shuffle, nvvm.mma.sync), lowered by upstream's
// gpu-lower-to-nvvm-pipeline to PTX and run on the PTX simulator through
// the mgpu* ABI: the simulator is not tied to slr's kernels. One warp
// stages A (16x16 f16) and B (16x8 f16) in shared memory, builds the
// m16n8k16 fragments from the PTX ISA's layout, multiplies with
// mma.sync, and adds a butterfly-shuffle sum of the lane ids (496) to
// every element. The host compares all 128 results with its own product.
//
// REQUIRES: cuda-sim
// RUN: mlir-opt %s -gpu-lower-to-nvvm-pipeline="cubin-chip=sm_80 cubin-features=+ptx80 cubin-format=isa" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
// CHECK: 0
// CHECK-NEXT: 128

func.func private @printI64(i64)
func.func private @printNewline()

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %c9 = arith.constant 9 : index
  %c16 = arith.constant 16 : index
  %c32 = arith.constant 32 : index
  %hA = memref.alloc() : memref<16x16xf16>
  %hB = memref.alloc() : memref<16x8xf16>
  %hD = memref.alloc() : memref<16x8xf32>
  // A[i][k] = (i + 2k) mod 5 - 2, B[k][j] = (3k + j) mod 7 - 3.
  scf.for %i = %c0 to %c16 step %c1 {
    scf.for %k = %c0 to %c16 step %c1 {
      %k2 = arith.muli %k, %c2 : index
      %s = arith.addi %i, %k2 : index
      %c5 = arith.constant 5 : index
      %m = arith.remui %s, %c5 : index
      %v = arith.subi %m, %c2 : index
      %vi = arith.index_cast %v : index to i32
      %vf = arith.sitofp %vi : i32 to f16
      memref.store %vf, %hA[%i, %k] : memref<16x16xf16>
    }
  }
  scf.for %k = %c0 to %c16 step %c1 {
    scf.for %j = %c0 to %c8 step %c1 {
      %c3 = arith.constant 3 : index
      %c7 = arith.constant 7 : index
      %k3 = arith.muli %k, %c3 : index
      %s = arith.addi %k3, %j : index
      %m = arith.remui %s, %c7 : index
      %v = arith.subi %m, %c3 : index
      %vi = arith.index_cast %v : index to i32
      %vf = arith.sitofp %vi : i32 to f16
      memref.store %vf, %hB[%k, %j] : memref<16x8xf16>
    }
  }
  %t0 = gpu.wait async
  %dA, %t1 = gpu.alloc async [%t0] () : memref<16x16xf16>
  %dB, %t2 = gpu.alloc async [%t1] () : memref<16x8xf16>
  %dD, %t3 = gpu.alloc async [%t2] () : memref<16x8xf32>
  %t4 = gpu.memcpy async [%t3] %dA, %hA : memref<16x16xf16>, memref<16x16xf16>
  %t5 = gpu.memcpy async [%t4] %dB, %hB : memref<16x8xf16>, memref<16x8xf16>
  %t6 = gpu.launch async [%t5] blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%lane, %ty, %tz) in (%sx = %c32, %sy = %c1, %sz = %c1)
             workgroup(%sA : memref<16x16xf16, #gpu.address_space<workgroup>>,
                       %sB : memref<16x8xf16, #gpu.address_space<workgroup>>) {
    // Each lane stages 8 elements of A and 4 of B.
    scf.for %e = %c0 to %c8 step %c1 {
      %l8 = arith.muli %lane, %c8 : index
      %idx = arith.addi %l8, %e : index
      %r = arith.divui %idx, %c16 : index
      %c = arith.remui %idx, %c16 : index
      %v = memref.load %dA[%r, %c] : memref<16x16xf16>
      memref.store %v, %sA[%r, %c] : memref<16x16xf16, #gpu.address_space<workgroup>>
    }
    scf.for %e = %c0 to %c4 step %c1 {
      %l4 = arith.muli %lane, %c4 : index
      %idx = arith.addi %l4, %e : index
      %r = arith.divui %idx, %c8 : index
      %c = arith.remui %idx, %c8 : index
      %v = memref.load %dB[%r, %c] : memref<16x8xf16>
      memref.store %v, %sB[%r, %c] : memref<16x8xf16, #gpu.address_space<workgroup>>
    }
    gpu.barrier
    %g = arith.divui %lane, %c4 : index
    %t = arith.remui %lane, %c4 : index
    %tt2 = arith.muli %t, %c2 : index
    %t21 = arith.addi %tt2, %c1 : index
    %g8 = arith.addi %g, %c8 : index
    %t28 = arith.addi %tt2, %c8 : index
    %t29 = arith.addi %tt2, %c9 : index
    // a0 = A[g][2t..2t+1], a1 = A[g+8][..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
    %a00 = memref.load %sA[%g, %tt2] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a01 = memref.load %sA[%g, %t21] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a10 = memref.load %sA[%g8, %tt2] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a11 = memref.load %sA[%g8, %t21] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a20 = memref.load %sA[%g, %t28] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a21 = memref.load %sA[%g, %t29] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a30 = memref.load %sA[%g8, %t28] : memref<16x16xf16, #gpu.address_space<workgroup>>
    %a31 = memref.load %sA[%g8, %t29] : memref<16x16xf16, #gpu.address_space<workgroup>>
    // b0 = B[2t..2t+1][g], b1 = B[2t+8..2t+9][g]
    %b00 = memref.load %sB[%tt2, %g] : memref<16x8xf16, #gpu.address_space<workgroup>>
    %b01 = memref.load %sB[%t21, %g] : memref<16x8xf16, #gpu.address_space<workgroup>>
    %b10 = memref.load %sB[%t28, %g] : memref<16x8xf16, #gpu.address_space<workgroup>>
    %b11 = memref.load %sB[%t29, %g] : memref<16x8xf16, #gpu.address_space<workgroup>>
    %a0 = vector.from_elements %a00, %a01 : vector<2xf16>
    %a1 = vector.from_elements %a10, %a11 : vector<2xf16>
    %a2 = vector.from_elements %a20, %a21 : vector<2xf16>
    %a3 = vector.from_elements %a30, %a31 : vector<2xf16>
    %b0 = vector.from_elements %b00, %b01 : vector<2xf16>
    %b1 = vector.from_elements %b10, %b11 : vector<2xf16>
    // c = the sum of all lane ids, by butterfly shuffles.
    %li = arith.index_cast %lane : index to i32
    %lf = arith.sitofp %li : i32 to f32
    %w = arith.constant 32 : i32
    %o16 = arith.constant 16 : i32
    %o8 = arith.constant 8 : i32
    %o4 = arith.constant 4 : i32
    %o2 = arith.constant 2 : i32
    %o1 = arith.constant 1 : i32
    %x16, %p16 = gpu.shuffle xor %lf, %o16, %w : f32
    %s16 = arith.addf %lf, %x16 : f32
    %x8, %p8 = gpu.shuffle xor %s16, %o8, %w : f32
    %s8 = arith.addf %s16, %x8 : f32
    %x4, %p4 = gpu.shuffle xor %s8, %o4, %w : f32
    %s4 = arith.addf %s8, %x4 : f32
    %x2, %p2 = gpu.shuffle xor %s4, %o2, %w : f32
    %s2 = arith.addf %s4, %x2 : f32
    %x1, %p1 = gpu.shuffle xor %s2, %o1, %w : f32
    %s1 = arith.addf %s2, %x1 : f32
    %d = nvvm.mma.sync A[%a0, %a1, %a2, %a3] B[%b0, %b1] C[%s1, %s1, %s1, %s1]
        {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>,
         shape = #nvvm.shape<m = 16, n = 8, k = 16>}
        : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
    %d0 = llvm.extractvalue %d[0] : !llvm.struct<(f32, f32, f32, f32)>
    %d1 = llvm.extractvalue %d[1] : !llvm.struct<(f32, f32, f32, f32)>
    %d2 = llvm.extractvalue %d[2] : !llvm.struct<(f32, f32, f32, f32)>
    %d3 = llvm.extractvalue %d[3] : !llvm.struct<(f32, f32, f32, f32)>
    memref.store %d0, %dD[%g, %tt2] : memref<16x8xf32>
    memref.store %d1, %dD[%g, %t21] : memref<16x8xf32>
    memref.store %d2, %dD[%g8, %tt2] : memref<16x8xf32>
    memref.store %d3, %dD[%g8, %t21] : memref<16x8xf32>
    gpu.terminator
  }
  %t7 = gpu.memcpy async [%t6] %hD, %dD : memref<16x8xf32>, memref<16x8xf32>
  %t8 = gpu.dealloc async [%t7] %dA : memref<16x16xf16>
  %t9 = gpu.dealloc async [%t8] %dB : memref<16x8xf16>
  %t10 = gpu.dealloc async [%t9] %dD : memref<16x8xf32>
  gpu.wait [%t10]
  // Host reference; count mismatches and compared elements.
  %zero = arith.constant 0 : i64
  %one = arith.constant 1 : i64
  %lanes = arith.constant 496.0 : f32
  %counts:2 = scf.for %i = %c0 to %c16 step %c1 iter_args(%bad = %zero, %n = %zero) -> (i64, i64) {
    %r:2 = scf.for %j = %c0 to %c8 step %c1 iter_args(%bad2 = %bad, %n2 = %n) -> (i64, i64) {
      %sum = scf.for %k = %c0 to %c16 step %c1 iter_args(%acc = %lanes) -> (f32) {
        %a = memref.load %hA[%i, %k] : memref<16x16xf16>
        %b = memref.load %hB[%k, %j] : memref<16x8xf16>
        %af = arith.extf %a : f16 to f32
        %bf = arith.extf %b : f16 to f32
        %p = arith.mulf %af, %bf : f32
        %next = arith.addf %acc, %p : f32
        scf.yield %next : f32
      }
      %got = memref.load %hD[%i, %j] : memref<16x8xf32>
      %ne = arith.cmpf une, %got, %sum : f32
      %inc = arith.extui %ne : i1 to i64
      %bad3 = arith.addi %bad2, %inc : i64
      %n3 = arith.addi %n2, %one : i64
      scf.yield %bad3, %n3 : i64, i64
    }
    scf.yield %r#0, %r#1 : i64, i64
  }
  call @printI64(%counts#0) : (i64) -> ()
  call @printNewline() : () -> ()
  call @printI64(%counts#1) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}
