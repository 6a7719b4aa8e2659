// RUN: slr-opt %s -split-input-file -slr-outline-kernels | FileCheck %s

// Two ops that differ only in their buffers share one noinline kernel; a
// different body gets its own. Scalar constants are cloned into the kernel,
// other values used from above become arguments.
// CHECK-LABEL: func.func @layers
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>, %[[C:.*]]: memref<4x8xf32>, %[[S:.*]]: f32)
// CHECK-NEXT: arith.constant
// CHECK-NEXT: call @slr_kernel(%[[A]], %[[B]])
// CHECK-NEXT: call @slr_kernel(%[[B]], %[[C]])
// CHECK-NEXT: call @slr_kernel_0(%[[C]], %[[A]], %[[S]])
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @slr_kernel(%{{.*}}: memref<4x8xf32>, %{{.*}}: memref<4x8xf32>) attributes {passthrough = ["noinline"]}
// CHECK: arith.constant 2.000000e+00 : f32
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK-LABEL: func.func private @slr_kernel_0(%{{.*}}: memref<4x8xf32>, %{{.*}}: memref<4x8xf32>, %{{.*}}: f32) attributes {passthrough = ["noinline"]}
// CHECK: arith.addf
#map = affine_map<(d0, d1) -> (d0, d1)>
func.func @layers(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<4x8xf32>, %s: f32) {
  %two = arith.constant 2.0 : f32
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x8xf32>) outs(%b : memref<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %two : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%b : memref<4x8xf32>) outs(%c : memref<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.mulf %in, %two : f32
    linalg.yield %0 : f32
  }
  linalg.generic {indexing_maps = [#map, #map], iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<4x8xf32>) outs(%a : memref<4x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %0 = arith.addf %in, %s : f32
    linalg.yield %0 : f32
  }
  return
}

// -----

// Other shapes are other kernels; a fill's constant scalar goes in with it.
// CHECK-LABEL: func.func @shapes
// CHECK: call @slr_kernel(%{{.*}}) : (memref<?x8xf32>) -> ()
// CHECK: call @slr_kernel_0(%{{.*}}) : (memref<4x16xf32>) -> ()
// CHECK-LABEL: func.func private @slr_kernel(%{{.*}}: memref<?x8xf32>)
// CHECK: arith.constant 0.000000e+00 : f32
// CHECK: linalg.fill
// CHECK-LABEL: func.func private @slr_kernel_0(%{{.*}}: memref<4x16xf32>)
func.func @shapes(%a: memref<?x8xf32>, %b: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%a : memref<?x8xf32>)
  linalg.fill ins(%zero : f32) outs(%b : memref<4x16xf32>)
  return
}

// -----

// Ops on tensors (not bufferized) are left alone.
// CHECK-LABEL: func.func @tensors
// CHECK-NOT: call
// CHECK: linalg.fill
func.func @tensors(%t: tensor<4xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  %0 = linalg.fill ins(%zero : f32) outs(%t : tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
