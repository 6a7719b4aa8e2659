// RUN: slr-opt %s -split-input-file -convert-slr-to-cpu-runtime | FileCheck %s

// Batch dims collapse to rows; every operand goes over as a dynamic strided
// memref, y is a fresh buffer returned as a tensor.
// CHECK: func.func private @slr_rt_sparse_linear_f32_i8(memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xi8, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?xf32, strided<[?, ?], offset: ?>>, i64, i64) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func.func @full
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x16xf32>, %[[VAL:.*]]: tensor<8x8xf32>, %[[POS:.*]]: tensor<8x4xi8>, %[[U:.*]]: tensor<8x2xf32>, %[[V:.*]]: tensor<2x16xf32>, %[[B:.*]]: tensor<8xf32>)
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]]
// CHECK: %[[XB:.*]] = bufferization.to_buffer %[[X2]] read_only : tensor<?x16xf32> to memref<?x16xf32>
// CHECK: %[[XC:.*]] = memref.cast %[[XB]]
// CHECK: bufferization.to_buffer %[[VAL]] read_only
// CHECK: bufferization.to_buffer %[[POS]] read_only
// CHECK: bufferization.to_buffer %[[U]] read_only
// CHECK: bufferization.to_buffer %[[V]] read_only
// CHECK: bufferization.to_buffer %[[B]] read_only
// CHECK: %[[ROWS:.*]] = tensor.dim %[[X2]]
// CHECK: %[[Y:.*]] = memref.alloc(%[[ROWS]]) : memref<?x8xf32>
// CHECK-DAG: %[[N:.*]] = arith.constant 2 : i64
// CHECK-DAG: %[[M:.*]] = arith.constant 4 : i64
// CHECK: call @slr_rt_sparse_linear_f32_i8(%[[XC]], {{.*}}, %[[N]], %[[M]])
// CHECK: %[[YT:.*]] = bufferization.to_tensor %[[Y]] restrict writable : memref<?x8xf32> to tensor<?x8xf32>
// CHECK: %[[E:.*]] = tensor.expand_shape %[[YT]] {{\[}}[0, 1], [2]]
// CHECK: return %[[E]]
// CHECK-NOT: slr.linear
func.func @full(%x: tensor<?x3x16xf32>, %v: tensor<8x8xf32>, %p: tensor<8x4xi8>,
                %u: tensor<8x2xf32>, %w: tensor<2x16xf32>, %b: tensor<8xf32>)
    -> tensor<?x3x8xf32> {
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<8x2xf32>, tensor<2x16xf32>)
         bias(%b : tensor<8xf32>) {pattern = #slr.nm<2, 4>}
         : tensor<?x3x16xf32>, tensor<8x8xf32>, tensor<8x4xi8> -> tensor<?x3x8xf32>
  return %y : tensor<?x3x8xf32>
}

// -----

// No low-rank part and no bias: empty constants stand in. Two ops share one
// declaration; constant weights are passed as they are (no unpacking).
// CHECK-COUNT-1: func.func private @slr_rt_sparse_linear_f32_i8
// CHECK-LABEL: func.func @bare
// CHECK-DAG: %[[VALS:.*]] = arith.constant dense<{{.*}}> : tensor<4x4xf32>
// CHECK-DAG: %[[E2:.*]] = arith.constant dense<> : tensor<0x0xf32>
// CHECK-DAG: %[[E1:.*]] = arith.constant dense<> : tensor<0xf32>
// CHECK-DAG: bufferization.to_buffer %[[VALS]] read_only : tensor<4x4xf32> to memref<4x4xf32>
// CHECK-DAG: bufferization.to_buffer %[[E2]] read_only : tensor<0x0xf32> to memref<0x0xf32>
// CHECK-DAG: bufferization.to_buffer %[[E1]] read_only : tensor<0xf32> to memref<0xf32>
// CHECK: memref.alloc() : memref<2x4xf32>
// CHECK: call @slr_rt_sparse_linear_f32_i8
// CHECK: call @slr_rt_sparse_linear_f32_i8
// CHECK-NOT: slr.linear
func.func @bare(%x: tensor<2x8xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>) {
  %v = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0],
                             [1.5, 2.5, 3.5, 4.5], [0.5, 0.25, 0.125, 2.0]]> : tensor<4x4xf32>
  %p = arith.constant dense<[[4, 9], [12, 13], [8, 4], [9, 14]]> : tensor<4x2xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>}
         : tensor<2x8xf32>, tensor<4x4xf32>, tensor<4x2xi8> -> tensor<2x4xf32>
  %z = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>}
         : tensor<2x8xf32>, tensor<4x4xf32>, tensor<4x2xi8> -> tensor<2x4xf32>
  return %y, %z : tensor<2x4xf32>, tensor<2x4xf32>
}

// -----

// bf16 with 16-bit positions and a general pattern; a vector input becomes
// one row.
// CHECK: func.func private @slr_rt_sparse_linear_bf16_i16(memref<?x?xbf16, {{.*}}>, memref<?x?xbf16, {{.*}}>, memref<?x?xi16, {{.*}}>
// CHECK-LABEL: func.func @bf16
// CHECK: tensor.expand_shape {{.*}} : tensor<16xbf16> into tensor<1x16xbf16>
// CHECK-DAG: arith.constant 3 : i64
// CHECK-DAG: arith.constant 8 : i64
// CHECK: call @slr_rt_sparse_linear_bf16_i16
// CHECK: tensor.collapse_shape {{.*}} : tensor<1x4xbf16> into tensor<4xbf16>
func.func @bf16(%x: tensor<16xbf16>, %v: tensor<4x6xbf16>, %p: tensor<4x2xi16>)
    -> tensor<4xbf16> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<3, 8>}
         : tensor<16xbf16>, tensor<4x6xbf16>, tensor<4x2xi16> -> tensor<4xbf16>
  return %y : tensor<4xbf16>
}

// -----

// Positions the kernel does not read (4-bit integers) stay for the reference
// lowering.
// CHECK-LABEL: func.func @narrow_positions
// CHECK: slr.linear
// CHECK-NOT: call
func.func @narrow_positions(%x: tensor<2x8xf32>, %v: tensor<4x4xf32>,
                            %p: tensor<4x2xi4>) -> tensor<2x4xf32> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>}
         : tensor<2x8xf32>, tensor<4x4xf32>, tensor<4x2xi4> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}
