// --slr-compress on layers that feed each other: the second layer's input or
// accumulator is the first layer's result, which the pass replaces (and
// erases) before it rewrites the second (it used to read a stale Value
// there: use after free).
// RUN: slr-opt %s -split-input-file -slr-compress="method=magnitude quiet=1" | FileCheck %s
// RUN: %python %S/Inputs/make-calibration.py %t.safetensors first:4 second:4 first_acc:4 second_acc:4
// RUN: slr-opt %s -split-input-file -slr-compress="calibration=%t.safetensors rank=1 iterations=2 quiet=1" | FileCheck %s --check-prefix=HF

#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>

// Magnitude keeps the two largest |w| of each group of 4: W0 keeps (2,3),
// (0,1), (1,2) and, from a row with one non-zero, (1) topped up with the
// first zero (0): positions 2|3<<2 = 14, 4, 9, 4. W1: 12, 9, 4, 12.
// CHECK-LABEL: func @chain_through_input
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// CHECK-DAG: %[[V0:.*]] = arith.constant dense<{{\[}}[3.000000e+00, 4.000000e+00], [4.000000e+00, 3.000000e+00], [-5.000000e+00, 2.000000e+00], [0.000000e+00, 1.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[P0:.*]] = arith.constant dense<{{\[}}[14], [4], [9], [4]]> : tensor<4x1xi8>
// CHECK: %[[Y0:.*]] = slr.linear %[[X]], %[[V0]], %[[P0]] {pattern = #slr.nm<2, 4>, slr.name = "first"}
// CHECK-DAG: %[[V1:.*]] = arith.constant dense<{{\[}}[9.000000e+00, 8.000000e+00], [7.000000e+00, 6.000000e+00], [-3.000000e+00, 1.000000e+00], [1.000000e+00, 2.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[P1:.*]] = arith.constant dense<{{\[}}[12], [9], [4], [12]]> : tensor<4x1xi8>
// CHECK: %[[Y1:.*]] = slr.linear %[[Y0]], %[[V1]], %[[P1]] {pattern = #slr.nm<2, 4>, slr.name = "second"}
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y1]]
// HF-LABEL: func @chain_through_input
// HF: %[[Y0:.*]] = slr.linear %{{.*}} lowrank({{.*}}) {pattern = #slr.nm<2, 4>, slr.name = "first"}
// HF: slr.linear %[[Y0]], {{.*}} lowrank({{.*}}) {pattern = #slr.nm<2, 4>, slr.name = "second"}
func.func @chain_through_input(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %w0 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], [1.0, -5.0, 2.0, 0.5], [0.0, 1.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %w1 = arith.constant dense<[[9.0, 1.0, 1.0, 8.0], [1.0, 7.0, 6.0, 1.0], [-3.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 2.0]]> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  %y0 = linalg.matmul indexing_maps = [#x, #w, #y] {slr.name = "first"}
         ins(%x, %w0 : tensor<3x4xf32>, tensor<4x4xf32>) outs(%i : tensor<3x4xf32>) -> tensor<3x4xf32>
  %y1 = linalg.matmul indexing_maps = [#x, #w, #y] {slr.name = "second"}
         ins(%y0, %w1 : tensor<3x4xf32>, tensor<4x4xf32>) outs(%i : tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y1 : tensor<3x4xf32>
}

// -----

#x = affine_map<(m, n, k) -> (m, k)>
#w = affine_map<(m, n, k) -> (n, k)>
#y = affine_map<(m, n, k) -> (m, n)>

// y1 = y0 + x * W1^T: the second layer is its slr.linear plus the first's.
// CHECK-LABEL: func @chain_through_accumulator
// CHECK-SAME: (%[[X:.*]]: tensor<3x4xf32>)
// CHECK-DAG: %[[V0:.*]] = arith.constant dense<{{\[}}[3.000000e+00, 4.000000e+00], [4.000000e+00, 3.000000e+00], [-5.000000e+00, 2.000000e+00], [0.000000e+00, 1.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[P0:.*]] = arith.constant dense<{{\[}}[14], [4], [9], [4]]> : tensor<4x1xi8>
// CHECK: %[[Y0:.*]] = slr.linear %[[X]], %[[V0]], %[[P0]] {pattern = #slr.nm<2, 4>, slr.name = "first_acc"}
// CHECK-DAG: %[[V1:.*]] = arith.constant dense<{{\[}}[9.000000e+00, 8.000000e+00], [7.000000e+00, 6.000000e+00], [-3.000000e+00, 1.000000e+00], [1.000000e+00, 2.000000e+00]]> : tensor<4x2xf32>
// CHECK-DAG: %[[P1:.*]] = arith.constant dense<{{\[}}[12], [9], [4], [12]]> : tensor<4x1xi8>
// CHECK: %[[S1:.*]] = slr.linear %[[X]], %[[V1]], %[[P1]] {pattern = #slr.nm<2, 4>, slr.name = "second_acc"}
// CHECK: %[[Y1:.*]] = arith.addf %[[S1]], %[[Y0]] : tensor<3x4xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y1]]
// HF-LABEL: func @chain_through_accumulator
// HF: %[[Y0:.*]] = slr.linear {{.*}} {pattern = #slr.nm<2, 4>, slr.name = "first_acc"}
// HF: %[[S1:.*]] = slr.linear {{.*}} {pattern = #slr.nm<2, 4>, slr.name = "second_acc"}
// HF: arith.addf %[[S1]], %[[Y0]]
func.func @chain_through_accumulator(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %w0 = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [4.0, 3.0, 2.0, 1.0], [1.0, -5.0, 2.0, 0.5], [0.0, 1.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %w1 = arith.constant dense<[[9.0, 1.0, 1.0, 8.0], [1.0, 7.0, 6.0, 1.0], [-3.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 2.0]]> : tensor<4x4xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  %y0 = linalg.matmul indexing_maps = [#x, #w, #y] {slr.name = "first_acc"}
         ins(%x, %w0 : tensor<3x4xf32>, tensor<4x4xf32>) outs(%i : tensor<3x4xf32>) -> tensor<3x4xf32>
  %y1 = linalg.matmul indexing_maps = [#x, #w, #y] {slr.name = "second_acc"}
         ins(%x, %w1 : tensor<3x4xf32>, tensor<4x4xf32>) outs(%y0 : tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y1 : tensor<3x4xf32>
}
