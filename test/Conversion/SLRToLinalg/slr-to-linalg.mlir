// RUN: slr-opt %s -split-input-file -convert-slr-to-linalg | FileCheck %s

// CHECK-LABEL: func @unpack
// CHECK-SAME: (%[[V:.*]]: tensor<4x8xbf16>, %[[P:.*]]: tensor<4x4xi8>)
// CHECK: %[[GROUPED:.*]] = tensor.expand_shape %[[V]] {{\[}}[0], [1, 2]] output_shape [4, 4, 2]
// CHECK: %[[DENSE:.*]] = linalg.generic {{.*}} ins(%[[P]] : tensor<4x4xi8>) outs(%{{.*}} : tensor<4x4x4xbf16>)
// CHECK:   %[[ROW:.*]] = linalg.index 0
// CHECK:   %[[GROUP:.*]] = linalg.index 1
// CHECK:   %[[COL:.*]] = linalg.index 2
// CHECK:   arith.shrui
// CHECK:   arith.andi
// CHECK:   arith.cmpi eq
// CHECK:   tensor.extract %[[GROUPED]][%[[ROW]], %[[GROUP]], %c0]
// CHECK:   arith.select
// CHECK:   tensor.extract %[[GROUPED]][%[[ROW]], %[[GROUP]], %c1]
// CHECK:   arith.select
// CHECK: tensor.collapse_shape %[[DENSE]] {{\[}}[0], [1, 2]] : tensor<4x4x4xbf16> into tensor<4x16xbf16>
// CHECK-NOT: slr.
func.func @unpack(%v: tensor<4x8xbf16>, %p: tensor<4x4xi8>) -> tensor<4x16xbf16> {
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x8xbf16>, tensor<4x4xi8> -> tensor<4x16xbf16>
  return %d : tensor<4x16xbf16>
}

// -----

// CHECK-LABEL: func @pack
// CHECK: %[[G:.*]]:3 = linalg.generic {{.*}} outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x4xf32>, tensor<4x4xf32>, tensor<4x4xi8>)
// CHECK-COUNT-4: arith.cmpf une
// CHECK: linalg.yield
// CHECK: %[[S0:.*]] = tensor.insert_slice %[[G]]#0 into %{{.*}}[0, 0, 0] [4, 4, 1] [1, 1, 1] : tensor<4x4xf32> into tensor<4x4x2xf32>
// CHECK: %[[S1:.*]] = tensor.insert_slice %[[G]]#1 into %[[S0]][0, 0, 1] [4, 4, 1] [1, 1, 1]
// CHECK: %[[VALUES:.*]] = tensor.collapse_shape %[[S1]] {{\[}}[0], [1, 2]] : tensor<4x4x2xf32> into tensor<4x8xf32>
// CHECK: return %[[VALUES]], %[[G]]#2
func.func @pack(%w: tensor<4x16xf32>) -> (tensor<4x8xf32>, tensor<4x4xi8>) {
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xf32>, tensor<4x4xi8>
  return %v, %p : tensor<4x8xf32>, tensor<4x4xi8>
}

// -----

// Batched bf16 input with every term: f32 accumulator seeded with the bias,
// x*S^T, then (x*V^T)*U^T into the same accumulator, then truncation.
// CHECK-DAG: #[[LHS:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[RHS_T:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @linear
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x16xbf16>, %[[V:.*]]: tensor<8x8xbf16>, %[[P:.*]]: tensor<8x4xi8>, %[[U:.*]]: tensor<8x2xbf16>, %[[VT:.*]]: tensor<2x16xbf16>, %[[B:.*]]: tensor<8xbf16>)
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x3x16xbf16> into tensor<?x16xbf16>
// CHECK: %[[BIAS:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<8xbf16>) outs(%{{.*}} : tensor<?x8xf32>)
// CHECK:   arith.extf
// CHECK: %[[S:.*]] = tensor.collapse_shape {{.*}} into tensor<8x16xbf16>
// CHECK: %[[ACC:.*]] = linalg.generic {indexing_maps = [#[[LHS]], #[[RHS_T]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X2]], %[[S]] : tensor<?x16xbf16>, tensor<8x16xbf16>) outs(%[[BIAS]] : tensor<?x8xf32>)
// CHECK: %[[FILL:.*]] = linalg.fill {{.*}} -> tensor<?x2xf32>
// CHECK: %[[T:.*]] = linalg.generic {{.*}} ins(%[[X2]], %[[VT]] : tensor<?x16xbf16>, tensor<2x16xbf16>) outs(%[[FILL]] : tensor<?x2xf32>)
// CHECK: %[[ACC2:.*]] = linalg.generic {{.*}} ins(%[[T]], %[[U]] : tensor<?x2xf32>, tensor<8x2xbf16>) outs(%[[ACC]] : tensor<?x8xf32>)
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[ACC2]] : tensor<?x8xf32>) outs(%{{.*}} : tensor<?x8xbf16>)
// CHECK:   arith.truncf
// CHECK: %[[DIM:.*]] = tensor.dim %[[X]], %c0
// CHECK: tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2]] output_shape [%[[DIM]], 3, 8] : tensor<?x8xbf16> into tensor<?x3x8xbf16>
func.func @linear(%x: tensor<?x3x16xbf16>, %v: tensor<8x8xbf16>, %p: tensor<8x4xi8>,
                  %u: tensor<8x2xbf16>, %w: tensor<2x16xbf16>, %b: tensor<8xbf16>) -> tensor<?x3x8xbf16> {
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<8x2xbf16>, tensor<2x16xbf16>) bias(%b : tensor<8xbf16>)
         {pattern = #slr.nm<2, 4>}
         : tensor<?x3x16xbf16>, tensor<8x8xbf16>, tensor<8x4xi8> -> tensor<?x3x8xbf16>
  return %y : tensor<?x3x8xbf16>
}

// -----

// Rank-1 input: [K] -> [1, K] -> [1, N] -> [N]; f32 needs no conversions.
// CHECK-LABEL: func @linear_vector
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0, 1]] output_shape [1, 16] : tensor<16xf32> into tensor<1x16xf32>
// CHECK: linalg.fill
// CHECK-NOT: arith.truncf
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<1x4xf32> into tensor<4xf32>
func.func @linear_vector(%x: tensor<16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) -> tensor<4xf32> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<4xf32>
  return %y : tensor<4xf32>
}
