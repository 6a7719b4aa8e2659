// RUN: slr-opt %s -split-input-file -convert-contractions-to-slr-runtime | FileCheck %s

// CHECK-LABEL: func.func private @slr_rt_sgemm(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func @matmul
// CHECK-SAME: (%[[A:.*]]: memref<3x8xf32>, %[[B:.*]]: memref<8x4xf32>, %[[C:.*]]: memref<3x4xf32>)
// CHECK: %[[AV:.*]] = memref.cast %[[A]] : memref<3x8xf32> to memref<?x?xf32, strided<[?, ?], offset: ?>>
// CHECK: %[[BV:.*]] = memref.cast %[[B]]
// CHECK: %[[CV:.*]] = memref.cast %[[C]]
// CHECK: call @slr_rt_sgemm(%[[AV]], %[[BV]], %[[CV]])
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<3x8xf32>, %b: memref<8x4xf32>, %c: memref<3x4xf32>) {
  linalg.matmul ins(%a, %b : memref<3x8xf32>, memref<8x4xf32>) outs(%c : memref<3x4xf32>)
  return
}

// -----

// A weight stored [N, K] becomes a transposed view of B.
// CHECK-LABEL: func @matmul_transposed_b
// CHECK-SAME: (%[[A:.*]]: memref<3x8xf32>, %[[W:.*]]: memref<4x8xf32>, %[[C:.*]]: memref<3x4xf32>)
// CHECK: %[[T:.*]] = memref.transpose %[[W]] (d0, d1) -> (d1, d0)
// CHECK: %[[BV:.*]] = memref.cast %[[T]]
// CHECK: call @slr_rt_sgemm(%{{.*}}, %[[BV]], %{{.*}})
func.func @matmul_transposed_b(%a: memref<3x8xf32>, %w: memref<4x8xf32>, %c: memref<3x4xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%a, %w : memref<3x8xf32>, memref<4x8xf32>) outs(%c : memref<3x4xf32>)
  return
}

// -----

// A batch becomes a loop over rank-reducing subviews; a broadcast operand is
// passed whole.
// CHECK-LABEL: func @batch_matmul_broadcast
// CHECK-SAME: (%[[A:.*]]: memref<2x3x8xf32>, %[[W:.*]]: memref<8x4xf32>, %[[C:.*]]: memref<2x3x4xf32>)
// CHECK: %[[N:.*]] = memref.dim %[[C]], %c0
// CHECK: scf.for %[[I:.*]] = %c0{{.*}} to %[[N]]
// CHECK:   %[[AS:.*]] = memref.subview %[[A]][%[[I]], 0, 0] [1, %{{.*}}, %{{.*}}] [1, 1, 1]
// CHECK:   %[[AV:.*]] = memref.cast %[[AS]]
// CHECK:   %[[WV:.*]] = memref.cast %[[W]]
// CHECK:   %[[CS:.*]] = memref.subview %[[C]][%[[I]], 0, 0]
// CHECK:   call @slr_rt_sgemm(%[[AV]], %[[WV]], %{{.*}})
func.func @batch_matmul_broadcast(%a: memref<2x3x8xf32>, %w: memref<8x4xf32>, %c: memref<2x3x4xf32>) {
  linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
    ins(%a, %w : memref<2x3x8xf32>, memref<8x4xf32>) outs(%c : memref<2x3x4xf32>)
  return
}

// -----

// Not f32, or not a contraction: untouched.
// CHECK-LABEL: func @untouched
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : memref<3x8xbf16>, memref<8x4xbf16>)
// CHECK: linalg.generic
// CHECK-NOT: call @slr_rt_sgemm
func.func @untouched(%a: memref<3x8xbf16>, %b: memref<8x4xbf16>, %c: memref<3x4xbf16>, %x: memref<4xf32>, %y: memref<4xf32>) {
  linalg.matmul ins(%a, %b : memref<3x8xbf16>, memref<8x4xbf16>) outs(%c : memref<3x4xbf16>)
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
    ins(%x : memref<4xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}
