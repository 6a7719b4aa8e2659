// RUN: slr-opt %s -split-input-file -verify-diagnostics \
// RUN:   -convert-slr-to-gpu="tile-n=16 tile-m=16 tile-k=32 warps-n=1 warps-m=1 stages=2" \
// RUN: | FileCheck %s
// RUN: slr-opt %s -split-input-file \
// RUN:   -convert-slr-to-gpu="tile-n=16 tile-m=16 tile-k=32 warps-n=1 warps-m=1 stages=2" \
// RUN:   -convert-slr-to-linalg 2>/dev/null \
// RUN: | FileCheck %s --check-prefix=CPU
// RUN: not slr-opt %s -split-input-file \
// RUN:   -convert-slr-to-gpu="tile-n=16 tile-m=16 tile-k=32 warps-n=1 warps-m=1 stages=2 strict=true" 2>&1 >/dev/null \
// RUN: | FileCheck %s --check-prefix=STRICT
// RUN: slr-opt %s -split-input-file \
// RUN:   -convert-slr-to-gpu="tile-n=16 tile-m=16 tile-k=32 warps-n=1 warps-m=1 stages=2 chip=sm_75" 2>&1 >/dev/null \
// RUN: | FileCheck %s --check-prefix=CHIP

// By default an slr.linear the GPU kernels cannot take is left, with a
// warning naming why, for the CPU lowering that follows in the GPU pipeline;
// the ops of the same function that can be lowered still are. With
// strict=true each such op is an error and the pass fails. A chip without a
// kernel variant leaves every op.

// CHECK-LABEL: func.func @mixed
// CHECK: call @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch
// CHECK: slr.linear {{.*}} : tensor<?x32xf32>, tensor<16x16xf32>, tensor<16x8xi8> -> tensor<?x16xf32>
// CHECK: gpu.module @slr_gpu_kernels
// CHECK-COUNT-1: gpu.func @slr_linear_
// CHECK-NOT: gpu.func @slr_linear_

// CPU-LABEL: func.func @mixed
// CPU: call @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch
// CPU-NOT: slr.linear
// CPU: linalg.fill
// CPU: linalg.generic
// CPU-NOT: slr.linear
// CPU: return
// STRICT: error: 'slr.linear' op cannot be lowered to the GPU: element type must be f16 or bf16 (tensor cores, f32 accumulation)
// CHIP-COUNT-2: warning: 'slr.linear' op left for the CPU lowering: cannot be lowered to the GPU: chip 'sm_75' is not supported: the kernels need sm_80 or newer
func.func @mixed(%x: tensor<?x32xbf16>, %v: tensor<16x16xbf16>, %xf: tensor<?x32xf32>, %vf: tensor<16x16xf32>) -> (tensor<?x16xbf16>, tensor<?x16xf32>) {
  %p = arith.constant dense<9> : tensor<16x8xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  // expected-warning @+1 {{'slr.linear' op left for the CPU lowering: cannot be lowered to the GPU: element type must be f16 or bf16 (tensor cores, f32 accumulation)}}
  %z = slr.linear %xf, %vf, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xf32>, tensor<16x16xf32>, tensor<16x8xi8> -> tensor<?x16xf32>
  return %y, %z : tensor<?x16xbf16>, tensor<?x16xf32>
}

// -----

// CHECK-LABEL: func.func @not_2_4
// CHECK: slr.linear
// CHECK-NOT: gpu.module
// STRICT: error: 'slr.linear' op cannot be lowered to the GPU: only the 2:4 pattern maps to sparse tensor cores (got 1:4)
func.func @not_2_4(%x: tensor<?x32xbf16>, %v: tensor<16x8xbf16>, %p: tensor<16x8xi8>) -> tensor<?x16xbf16> {
  // expected-warning @+1 {{'slr.linear' op left for the CPU lowering: cannot be lowered to the GPU: only the 2:4 pattern maps to sparse tensor cores (got 1:4)}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<1, 4>} : tensor<?x32xbf16>, tensor<16x8xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

// CHECK-LABEL: func.func @n_not_multiple_of_tile
// CHECK: slr.linear
// STRICT: error: 'slr.linear' op cannot be lowered to the GPU: output features N = 24 must be a multiple of tile-n = 16
func.func @n_not_multiple_of_tile(%x: tensor<?x32xbf16>, %v: tensor<24x16xbf16>, %p: tensor<24x8xi8>) -> tensor<?x24xbf16> {
  // expected-warning @+1 {{'slr.linear' op left for the CPU lowering: cannot be lowered to the GPU: output features N = 24 must be a multiple of tile-n = 16}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<24x16xbf16>, tensor<24x8xi8> -> tensor<?x24xbf16>
  return %y : tensor<?x24xbf16>
}
