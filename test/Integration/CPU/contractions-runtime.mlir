// The BLAS runtime path computes what the loop path computes, for every
// contraction form models use (plain, transposed weight, batched attention,
// broadcast weight, weight-first generic). Integer data keeps sums exact.
// RUN: slr-opt %s -slr-cpu-reference-pipeline \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s
// RUN: slr-opt %s -slr-cpu-fast-pipeline \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%mlir_runner_utils,%mlir_c_runner_utils,%slr_cpu_runtime | FileCheck %s
// RUN: slr-opt %s -slr-cpu-fast-pipeline | FileCheck %s --check-prefix=CALLS

// CALLS-COUNT-5: llvm.call @slr_rt_sgemm(
// CALLS-NOT: llvm.call @slr_rt_sgemm(

func.func private @printMemrefF32(tensor<*xf32>)

func.func @print2(%t: tensor<2x3xf32>) {
  %u = tensor.cast %t : tensor<2x3xf32> to tensor<*xf32>
  call @printMemrefF32(%u) : (tensor<*xf32>) -> ()
  return
}

func.func @main() {
  %x = arith.constant dense<[[1.0, 2.0, -1.0, 0.0], [3.0, -2.0, 1.0, 2.0]]> : tensor<2x4xf32>
  // W as [N, K] and as [K, N].
  %w = arith.constant dense<[[1.0, 0.0, 2.0, 1.0], [-1.0, 3.0, 0.0, 2.0], [2.0, 1.0, 1.0, -3.0]]> : tensor<3x4xf32>
  %wt = arith.constant dense<[[1.0, -1.0, 2.0], [0.0, 3.0, 1.0], [2.0, 0.0, 1.0], [1.0, 2.0, -3.0]]> : tensor<4x3xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %acc = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>

  // x * W^T = [[-1, 5, 3], [7, -5, -1]]
  // CHECK: {{\[}}[-1,   5,   3],
  // CHECK-NEXT: [7,   -5,   -1]]
  %y0 = linalg.matmul ins(%x, %wt : tensor<2x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<2x3xf32>) -> tensor<2x3xf32>
  call @print2(%y0) : (tensor<2x3xf32>) -> ()
  // CHECK: {{\[}}[-1,   5,   3],
  // CHECK-NEXT: [7,   -5,   -1]]
  %y1 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
          ins(%x, %w : tensor<2x4xf32>, tensor<3x4xf32>) outs(%acc : tensor<2x3xf32>) -> tensor<2x3xf32>
  call @print2(%y1) : (tensor<2x3xf32>) -> ()
  // Weight first in a generic, accumulating onto y1: 2 * y.
  // CHECK: {{\[}}[-2,   10,   6],
  // CHECK-NEXT: [14,   -10,   -2]]
  %y2 = linalg.generic {
      indexing_maps = [affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (m, n)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%w, %x : tensor<3x4xf32>, tensor<2x4xf32>) outs(%y1 : tensor<2x3xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %c, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  call @print2(%y2) : (tensor<2x3xf32>) -> ()

  // Broadcast weight over a batch of 2 (batch 1 is -x): second slice = -y.
  %x3 = tensor.expand_shape %x [[0, 1], [2]] output_shape [1, 2, 4] : tensor<2x4xf32> into tensor<1x2x4xf32>
  %neg = arith.negf %x3 : tensor<1x2x4xf32>
  %xx = tensor.concat dim(0) %x3, %neg : (tensor<1x2x4xf32>, tensor<1x2x4xf32>) -> tensor<2x2x4xf32>
  %e3 = tensor.empty() : tensor<2x2x3xf32>
  %acc3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %y3 = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>]
          ins(%xx, %wt : tensor<2x2x4xf32>, tensor<4x3xf32>) outs(%acc3 : tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  // CHECK: {{\[}}[1,   -5,   -3],
  // CHECK-NEXT: [-7,   5,   1]]
  %s1 = tensor.extract_slice %y3[1, 0, 0] [1, 2, 3] [1, 1, 1] : tensor<2x2x3xf32> to tensor<2x3xf32>
  call @print2(%s1) : (tensor<2x3xf32>) -> ()

  // Attention-style batched x * x^T per batch: [[6, -2], [-2, 18]] twice.
  %e4 = tensor.empty() : tensor<2x2x2xf32>
  %acc4 = linalg.fill ins(%zero : f32) outs(%e4 : tensor<2x2x2xf32>) -> tensor<2x2x2xf32>
  %y4 = linalg.batch_matmul indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>]
          ins(%xx, %xx : tensor<2x2x4xf32>, tensor<2x2x4xf32>) outs(%acc4 : tensor<2x2x2xf32>) -> tensor<2x2x2xf32>
  %u4 = tensor.cast %y4 : tensor<2x2x2xf32> to tensor<*xf32>
  // CHECK: {{\[}}{{\[}}[6,     -2],
  // CHECK-NEXT: [-2,     18]],
  // CHECK: {{\[}}[6,     -2],
  // CHECK-NEXT: [-2,     18]]]
  call @printMemrefF32(%u4) : (tensor<*xf32>) -> ()
  return
}
