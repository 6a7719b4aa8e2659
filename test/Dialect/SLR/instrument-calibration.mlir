// RUN: slr-opt %s -split-input-file -slr-instrument-calibration | FileCheck %s
// RUN: slr-opt %s -split-input-file -slr-instrument-calibration="layers=ffn" | FileCheck %s --check-prefix=FILTER
// RUN: slr-opt %s -split-input-file -slr-instrument-calibration -verify-diagnostics -o /dev/null

// Every constant-weight linear gets a hook call on its (flattened) input, in
// walk order; the ids index the module's slr.calibration_layers.
// CHECK-LABEL: module attributes {slr.calibration_layers = ["blk.0.attn_q", "blk.0.ffn_up"]}
// CHECK: func.func private @slr_rt_record_activation(i64, tensor<?x?xf32>) attributes {llvm.emit_c_interface}
// CHECK-LABEL: func @two_layers
// CHECK-SAME: (%[[X:.*]]: tensor<5x8xf32>)
// CHECK: %[[CAST0:.*]] = tensor.cast %[[X]] : tensor<5x8xf32> to tensor<?x?xf32>
// CHECK: %[[ID0:.*]] = arith.constant 0 : i64
// CHECK: call @slr_rt_record_activation(%[[ID0]], %[[CAST0]])
// CHECK: %[[Q:.*]] = linalg.matmul {{.*}}slr.name = "blk.0.attn_q"
// CHECK: %[[CAST1:.*]] = tensor.cast %[[Q]] : tensor<5x8xf32> to tensor<?x?xf32>
// CHECK: %[[ID1:.*]] = arith.constant 1 : i64
// CHECK: call @slr_rt_record_activation(%[[ID1]], %[[CAST1]])
// CHECK: linalg.matmul {{.*}}slr.name = "blk.0.ffn_up"
// FILTER-LABEL: module attributes {slr.calibration_layers = ["blk.0.ffn_up"]}
// FILTER-COUNT-1: call @slr_rt_record_activation
func.func @two_layers(%x: tensor<5x8xf32>) -> tensor<5x4xf32> {
  %wq = arith.constant dense<1.0> : tensor<8x8xf32>
  %wu = arith.constant dense<2.0> : tensor<4x8xf32>
  %z8 = arith.constant dense<0.0> : tensor<5x8xf32>
  %z4 = arith.constant dense<0.0> : tensor<5x4xf32>
  %q = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"} ins(%x, %wq : tensor<5x8xf32>, tensor<8x8xf32>) outs(%z8 : tensor<5x8xf32>) -> tensor<5x8xf32>
  %u = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.ffn_up"} ins(%q, %wu : tensor<5x8xf32>, tensor<4x8xf32>) outs(%z4 : tensor<5x4xf32>) -> tensor<5x4xf32>
  return %u : tensor<5x4xf32>
}

// -----

// Batched inputs are flattened to [rows, K]; unnamed layers get
// <function>.linear<i>; activation x activation products are not layers.
// CHECK-LABEL: module attributes {slr.calibration_layers = ["batched.linear0"]}
// CHECK-LABEL: func @batched
// CHECK: %[[FLAT:.*]] = tensor.collapse_shape %{{.*}} {{\[}}[0, 1], [2]] : tensor<2x3x8xf32> into tensor<6x8xf32>
// CHECK: tensor.cast %[[FLAT]] : tensor<6x8xf32> to tensor<?x?xf32>
// CHECK-COUNT-1: call @slr_rt_record_activation
// CHECK: linalg.batch_matmul {{.*}}slr.name = "batched.linear0"
func.func @batched(%x: tensor<2x3x8xf32>, %a: tensor<3x8xf32>, %b: tensor<8x4xf32>) -> (tensor<2x3x4xf32>, tensor<3x4xf32>) {
  %w = arith.constant dense<1.0> : tensor<8x4xf32>
  %zero = arith.constant dense<0.0> : tensor<2x3x4xf32>
  %y = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
         ins(%x, %w : tensor<2x3x8xf32>, tensor<8x4xf32>) outs(%zero : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %z = arith.constant dense<0.0> : tensor<3x4xf32>
  %p = linalg.matmul ins(%a, %b : tensor<3x8xf32>, tensor<8x4xf32>) outs(%z : tensor<3x4xf32>) -> tensor<3x4xf32>
  return %y, %p : tensor<2x3x4xf32>, tensor<3x4xf32>
}

// -----

// Only f32 inputs can be recorded.
// CHECK-LABEL: module attributes {slr.calibration_layers = []}
func.func @bf16_layer(%x: tensor<3x8xbf16>) -> tensor<3x4xbf16> {
  %w = arith.constant dense<1.0> : tensor<8x4xbf16>
  %z = arith.constant dense<0.0> : tensor<3x4xbf16>
  // expected-warning @below {{slr-instrument-calibration: 'bf16_layer.linear0' has a non-f32 input; not recorded}}
  %y = linalg.matmul ins(%x, %w : tensor<3x8xbf16>, tensor<8x4xbf16>) outs(%z : tensor<3x4xbf16>) -> tensor<3x4xbf16>
  return %y : tensor<3x4xbf16>
}
