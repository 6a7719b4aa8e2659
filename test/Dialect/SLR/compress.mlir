// Recognised forms and refusals of --slr-compress. Magnitude pruning needs no
// calibration, so the packed constants below are exact: per aligned group of
// 4 it keeps the two largest |w|.
// RUN: slr-opt %s -split-input-file -slr-compress="method=magnitude quiet=1 explain-skipped=1" -verify-diagnostics | FileCheck %s
//
// The default method (slr) with calibration adds the low-rank part (rank 2
// here); HASSLE-free (by name) writes its per-layer report.
// RUN: %python %S/Inputs/make-calibration.py %t.safetensors blk.0.attn_q:8 matmul_plain.linear0:8 batch_matmul_broadcast_weight.linear0:8 blk.1.ffn_up:8 shared_weight.linear0:8 k_not_multiple_of_4.linear1:8
// RUN: slr-opt %s -split-input-file -slr-compress="calibration=%t.safetensors rank=2 iterations=5 quiet=1" | FileCheck %s --check-prefix=HF
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.safetensors method=hassle-free rank=2 iterations=5 report=%t.json" 2> %t.stderr
// RUN: FileCheck %s --check-prefix=REPORT < %t.json
// RUN: FileCheck %s --check-prefix=TABLE < %t.stderr
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.safetensors rank=2 quiet=1 report=%t.default.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=DEFAULT < %t.default.json
// Below full rank the mask search runs (at least one round, then its
// restarts); mask-search-rounds=0 turns it off.
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.safetensors method=hassle-free rank=1 iterations=5 quiet=1 report=%t.rank1.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=SEARCH < %t.rank1.json
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.safetensors method=hassle-free rank=1 iterations=5 mask-search-rounds=0 quiet=1 report=%t.nosearch.json" -o /dev/null
// RUN: FileCheck %s --check-prefix=NOSEARCH < %t.nosearch.json
// HF-LABEL: func @matmul_transposed_b
// HF: slr.linear %{{.*}}, %{{.*}}, %{{.*}} lowrank(%{{.*}}, %{{.*}} : tensor<2x2xf32>, tensor<2x8xf32>) {pattern = #slr.nm<2, 4>, slr.name = "blk.0.attn_q"}
// HF-LABEL: func @batch_matmul_broadcast_weight
// HF: slr.linear {{.*}} lowrank({{.*}} : tensor<2x2xbf16>, tensor<2x8xbf16>)
// REPORT: "method": "hassle-free"
// DEFAULT: "method": "slr"
// DEFAULT: "name": "blk.0.attn_q"
// DEFAULT: "rank": 2
// REPORT: "warm_start_rounds": 40
// REPORT-NEXT: "max_warm_start_rounds": 1000
// REPORT-NEXT: "mask_search_rounds": 100
// REPORT: "name": "blk.0.attn_q"
// REPORT-NEXT: "N": 2
// REPORT-NEXT: "K": 8
// REPORT-NEXT: "rank": 2
// REPORT-NEXT: "relative_objective":
// REPORT-NEXT: "pruning_only_relative_objective":
// REPORT-NEXT: "dead_inputs": 0
// At full rank the relaxation is exact from its first round: it stops at the
// minimum.
// REPORT-NEXT: "warm_start_rounds_run": 40
// ... and there are no masks to search: L alone fits W.
// REPORT-NEXT: "mask_search_rounds_run": 0
// SEARCH: "mask_search_rounds": 100
// SEARCH: "rank": 1
// SEARCH: "mask_search_rounds_run": {{[1-9][0-9]*}}
// NOSEARCH: "mask_search_rounds": 0
// NOSEARCH: "mask_search_rounds_run": 0
// TABLE: [1/1] blk.0.attn_q (2x8) ... rel.obj
// TABLE: slr-compress: 1 layers compressed, 0 left dense (method hassle-free, 2:4)
// TABLE: layer N K rank rel.obj prune-only time[s]
// TABLE: blk.0.attn_q

// W (N=2 x K=8) = [[1, -5, 2, 0.5, 3, 3.5, -4, 1], [0.25, 0.5, -0.75, 1, 8, 1, 1, 9]]
// keeps (1,2) (1,2) / (2,3) (0,3): positions 1|2<<2 = 9, 9 / 14, 12.
// CHECK-LABEL: func @matmul_transposed_b
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>)
// The dense weight is gone with the matmul.
// CHECK-NOT: tensor<2x8xf32>
// CHECK-DAG: %[[V:.*]] = arith.constant dense<{{\[}}[-5.000000e+00, 2.000000e+00, 3.500000e+00, -4.000000e+00], [-7.500000e-01, 1.000000e+00, 8.000000e+00, 9.000000e+00]]> : tensor<2x4xf32>
// CHECK-DAG: %[[P:.*]] = arith.constant dense<{{\[}}[9, 9], [14, 12]]> : tensor<2x2xi8>
// CHECK: %[[Y:.*]] = slr.linear %[[X]], %[[V]], %[[P]] {pattern = #slr.nm<2, 4>, slr.name = "blk.0.attn_q"} : tensor<3x8xf32>, tensor<2x4xf32>, tensor<2x2xi8> -> tensor<3x2xf32>
// CHECK-NOT: linalg.matmul
// CHECK: return %[[Y]]
func.func @matmul_transposed_b(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -5.0, 2.0, 0.5, 3.0, 3.5, -4.0, 1.0],
                             [0.25, 0.5, -0.75, 1.0, 8.0, 1.0, 1.0, 9.0]]> : tensor<2x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// The same W stored transposed ([K, N]) under a plain matmul; no slr.name, so
// the layer is named after its function. A non-zero accumulator is added back.
// CHECK-LABEL: func @matmul_plain
// CHECK-SAME: (%[[X:.*]]: tensor<3x8xf32>, %[[ACC:.*]]: tensor<3x2xf32>)
// CHECK-DAG: arith.constant dense<{{\[}}[-5.000000e+00, 2.000000e+00, 3.500000e+00, -4.000000e+00], [-7.500000e-01, 1.000000e+00, 8.000000e+00, 9.000000e+00]]> : tensor<2x4xf32>
// CHECK-DAG: arith.constant dense<{{\[}}[9, 9], [14, 12]]> : tensor<2x2xi8>
// CHECK: %[[Y:.*]] = slr.linear %[[X]], {{.*}} slr.name = "matmul_plain.linear0"
// CHECK: %[[SUM:.*]] = arith.addf %[[Y]], %[[ACC]] : tensor<3x2xf32>
// CHECK: return %[[SUM]]
func.func @matmul_plain(%x: tensor<3x8xf32>, %acc: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 0.25], [-5.0, 0.5], [2.0, -0.75], [0.5, 1.0],
                             [3.0, 8.0], [3.5, 1.0], [-4.0, 1.0], [1.0, 9.0]]> : tensor<8x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%acc : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// batch_matmul whose weight is broadcast over the batch.
// CHECK-LABEL: func @batch_matmul_broadcast_weight
// CHECK: slr.linear %{{.*}}, %{{.*}}, %{{.*}} {pattern = #slr.nm<2, 4>, slr.name = "batch_matmul_broadcast_weight.linear0"} : tensor<2x3x8xbf16>, tensor<2x4xbf16>, tensor<2x2xi8> -> tensor<2x3x2xbf16>
// CHECK-NOT: linalg.batch_matmul
func.func @batch_matmul_broadcast_weight(%x: tensor<2x3x8xbf16>) -> tensor<2x3x2xbf16> {
  %w = arith.constant dense<[[1.0, 0.25], [-5.0, 0.5], [2.0, -0.75], [0.5, 1.0],
                             [3.0, 8.0], [3.5, 1.0], [-4.0, 1.0], [1.0, 9.0]]> : tensor<8x2xbf16>
  %zero = arith.constant dense<0.0> : tensor<2x3x2xbf16>
  %y = linalg.batch_matmul
         indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
         ins(%x, %w : tensor<2x3x8xbf16>, tensor<8x2xbf16>) outs(%zero : tensor<2x3x2xbf16>) -> tensor<2x3x2xbf16>
  return %y : tensor<2x3x2xbf16>
}

// -----

// A matmul-shaped linalg.generic with the weight first and a dense_resource
// constant.
// CHECK-LABEL: func @generic_contraction_resource
// CHECK-DAG: arith.constant dense<{{\[}}[-5.000000e+00, 2.000000e+00, 3.500000e+00, -4.000000e+00], [-7.500000e-01, 1.000000e+00, 8.000000e+00, 9.000000e+00]]> : tensor<2x4xf32>
// CHECK: slr.linear {{.*}} slr.name = "blk.1.ffn_up"
// CHECK-NOT: linalg.generic
func.func @generic_contraction_resource(%x: tensor<5x8xf32>) -> tensor<5x2xf32> {
  %w = arith.constant dense_resource<weight> : tensor<2x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x2xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<5x2xf32>) -> tensor<5x2xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (m, n)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%w, %x : tensor<2x8xf32>, tensor<5x8xf32>) outs(%i : tensor<5x2xf32>) attrs = {slr.name = "blk.1.ffn_up"} {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      // 4-byte alignment, then the 16 floats of W row-major.
      weight: "0x040000000000803F0000A0C0000000400000003F0000404000006040000080C00000803F0000803E0000003F000040BF0000803F000000410000803F0000803F00001041"
    }
  }
#-}

// -----

// Refusals leave the matmul untouched and say why.
func.func @non_constant_weight(%x: tensor<3x8xf32>, %w: tensor<8x2xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  // expected-remark @below {{slr-compress: left 'non_constant_weight.linear0' dense: weight operand is not a constant}}
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A layer the pattern cannot apply to is left dense with a warning (not
// only under explain-skipped); the others are compressed.
// CHECK-LABEL: func @k_not_multiple_of_4
// CHECK: linalg.matmul ins(%{{.*}} : tensor<3x6xf32>, tensor<6x2xf32>)
// CHECK: slr.linear {{.*}} {pattern = #slr.nm<2, 4>, slr.name = "k_not_multiple_of_4.linear1"}
func.func @k_not_multiple_of_4(%x: tensor<3x6xf32>, %x8: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %w = arith.constant dense<1.0> : tensor<6x2xf32>
  // expected-warning @below {{slr-compress: left 'k_not_multiple_of_4.linear0' dense: K = 6 is not a multiple of M = 4 (sparsity 2:4)}}
  %y = linalg.matmul ins(%x, %w : tensor<3x6xf32>, tensor<6x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  %w8 = arith.constant dense<1.0> : tensor<8x2xf32>
  %y8 = linalg.matmul ins(%x8, %w8 : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y, %y8 : tensor<3x2xf32>, tensor<3x2xf32>
}

// -----

// slr.linear takes K from x and N from its result, so both must be static
// even when the weight is (it used to build an slr.linear that does not
// verify).
func.func @dynamic_k(%x: tensor<3x?xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x8xf32>
  // expected-remark @below {{slr-compress: left 'dynamic_k.linear0' dense: the activation's K dimension is dynamic (tensor<3x?xf32>); slr.linear needs a static K}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<3x?xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @dynamic_n(%x: tensor<3x8xf32>, %i: tensor<3x?xf32>) -> tensor<3x?xf32> {
  %w = arith.constant dense<1.0> : tensor<8x2xf32>
  // expected-remark @below {{slr-compress: left 'dynamic_n.linear0' dense: the result's N dimension is dynamic (tensor<3x?xf32>); slr.linear needs a static N}}
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x?xf32>) -> tensor<3x?xf32>
  return %y : tensor<3x?xf32>
}

// -----

func.func @mixed_element_types(%x: tensor<3x8xf16>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<8x2xf16>
  // expected-remark @below {{slr-compress: left 'mixed_element_types.linear0' dense: element types must all be one of f32, f16, bf16}}
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf16>, tensor<8x2xf16>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// Two activations (x * y^T, e.g. attention scores) are not a linear layer:
// not visited at all. A batch matmul with a per-batch weight is refused.
// CHECK-LABEL: func @activation_times_activation
// CHECK: linalg.matmul
// CHECK: linalg.batch_matmul
func.func @activation_times_activation(%x: tensor<3x8xf32>, %w: tensor<8x2xf32>, %i: tensor<3x2xf32>,
                                       %a: tensor<2x3x8xf32>, %b: tensor<2x8x4xf32>, %j: tensor<2x3x4xf32>) -> (tensor<3x2xf32>, tensor<2x3x4xf32>) {
  // expected-remark @below {{slr-compress: left 'activation_times_activation.linear0' dense: weight operand is not a constant}}
  %y = linalg.matmul ins(%x, %w : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  // expected-remark @below {{slr-compress: left 'activation_times_activation.linear1' dense: both operands carry batch dimensions, so neither is a shared weight}}
  %z = linalg.batch_matmul ins(%a, %b : tensor<2x3x8xf32>, tensor<2x8x4xf32>) outs(%j : tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %y, %z : tensor<3x2xf32>, tensor<2x3x4xf32>
}

// -----

// A weight that something else still reads stays beside the compressed layer.
// CHECK-LABEL: func @shared_weight
// CHECK: %[[W:.*]] = arith.constant dense<{{.*}}> : tensor<2x8xf32>
// CHECK: slr.linear
// CHECK: return %{{.*}}, %[[W]]
func.func @shared_weight(%x: tensor<3x8xf32>) -> (tensor<3x2xf32>, tensor<2x8xf32>) {
  %w = arith.constant dense<[[1.0, -5.0, 2.0, 0.5, 3.0, 3.5, -4.0, 1.0],
                             [0.25, 0.5, -0.75, 1.0, 8.0, 1.0, 1.0, 9.0]]> : tensor<2x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y, %w : tensor<3x2xf32>, tensor<2x8xf32>
}
