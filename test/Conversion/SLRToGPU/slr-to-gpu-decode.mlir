// RUN: slr-opt %s -split-input-file -convert-slr-to-gpu="tile-k=32 strict=true" \
// RUN: | FileCheck %s
// RUN: slr-opt %s -split-input-file -convert-slr-to-gpu="tile-k=32 strict=true" \
// RUN:   -slr-gpu-materialize-launchers | FileCheck %s --check-prefix=LAUNCH

// The variant choice (chooseKernelVariant): a static M of at most 16 selects
// decode_sm80, one kernel with the low-rank term fused (no lowrank kernel),
// its K slices in k_blocks; M = 17 and a dynamic M keep mma_sp_sm80.

// CHECK-LABEL: func.func private @slr_decode_bf16_n256_k4096_r64_bias_m1_w8_ks128_launch
// CHECK-SAME: (memref<?x4096xbf16>, memref<256x2048xbf16>, memref<32768xi32>, memref<256x64xbf16>, memref<64x4096xbf16>, memref<256xbf16>, memref<?x256xbf16>)
// CHECK-SAME: #slr.gpu_launch<variant = decode_sm80, n = 256, k = 4096, rank = 64, has_bias = true, resident = true, main = @slr_gpu_kernels::@slr_decode_bf16_n256_k4096_r64_bias_m1_w8_ks128, tile_n = 128, tile_m = 1, threads = 256, shared_bytes = {{[0-9]+}}, k_blocks = 32>
// CHECK-LABEL: func.func @decode_m1
// CHECK: call @slr_decode_bf16_n256_k4096_r64_bias_m1_w8_ks128_launch
// CHECK-LABEL: gpu.func @slr_decode_bf16_n256_k4096_r64_bias_m1_w8_ks128
// CHECK-SAME: (%{{.*}}: memref<?x4096xbf16>, %{{.*}}: memref<256x2048xbf16>, %{{.*}}: memref<32768xi32>, %{{.*}}: memref<256x64xbf16>, %{{.*}}: memref<64x4096xbf16>, %{{.*}}: memref<256xbf16>, %{{.*}}: memref<?x256xf32>, %{{.*}}: memref<?xi32>, %{{.*}}: memref<?x256xbf16>) kernel
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK: memref.atomic_rmw addf
// CHECK: gpu.shuffle xor
// CHECK: memref.atomic_rmw addf
// CHECK: nvvm.memory.barrier <gpu>
// CHECK: memref.atomic_rmw addi
// CHECK: memref.atomic_rmw assign
// CHECK-NOT: nvvm.mma

// LAUNCH-LABEL: func.func private @slr_decode_bf16_n256_k4096_r64_bias_m1_w8_ks128_launch
// LAUNCH: %[[M:.*]] = memref.dim
// LAUNCH: %[[MT:.*]] = arith.ceildivui %[[M]], %c1
// LAUNCH: %[[WS:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] (%[[M]]) : memref<?x256xf32>
// LAUNCH: gpu.memset async [%{{.*}}] %[[WS]], %{{.*}} : memref<?x256xf32>, f32
// LAUNCH: %[[NC:.*]] = arith.muli %[[MT]], %c2
// LAUNCH: %[[CNT:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] (%[[NC]]) : memref<?xi32>
// LAUNCH: gpu.memset async [%{{.*}}] %[[CNT]], %{{.*}} : memref<?xi32>, i32
// LAUNCH: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_decode_bf16_n256_k4096_r64_bias_m1_w8_ks128 blocks in (%c2, %c32, %[[MT]]) threads in (%c256, %c1, %c1)
// LAUNCH-SAME: %[[WS]] : memref<?x256xf32>, %[[CNT]] : memref<?xi32>, %{{.*}} : memref<?x256xbf16>)
// LAUNCH-NOT: gpu.launch_func
// LAUNCH: gpu.memcpy
func.func @decode_m1(%x: tensor<1x4096xbf16>) -> tensor<1x256xbf16> {
  %v = arith.constant dense<1.0> : tensor<256x2048xbf16>
  %p = arith.constant dense<4> : tensor<256x1024xi8>
  %u = arith.constant dense<1.0> : tensor<256x64xbf16>
  %vt = arith.constant dense<1.0> : tensor<64x4096xbf16>
  %b = arith.constant dense<1.0> : tensor<256xbf16>
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<256x64xbf16>, tensor<64x4096xbf16>) bias(%b : tensor<256xbf16>) {pattern = #slr.nm<2, 4>} : tensor<1x4096xbf16>, tensor<256x2048xbf16>, tensor<256x1024xi8> -> tensor<1x256xbf16>
  return %y : tensor<1x256xbf16>
}

// -----

// M = 2 x 8 = 16 rows (a batch dimension): a 16-row tile. N = 48 takes CTAs
// of one warp, K = 192 slices of 64.

// CHECK-LABEL: func.func private @slr_decode_f16_n48_k192_r0_m16_w1_ks64_launch
// CHECK-SAME: #slr.gpu_launch<variant = decode_sm80, n = 48, k = 192, rank = 0, main = @slr_gpu_kernels::@slr_decode_f16_n48_k192_r0_m16_w1_ks64, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = {{[0-9]+}}, k_blocks = 3>
// CHECK-LABEL: func.func @decode_batched_m16
// CHECK-LABEL: gpu.func @slr_decode_f16_n48_k192_r0_m16_w1_ks64
// CHECK-SAME: memref<?x48xf32>, %{{.*}}: memref<?xi32>, %{{.*}}: memref<?x48xf16>) kernel
func.func @decode_batched_m16(%x: tensor<2x8x192xf16>, %v: tensor<48x96xf16>) -> tensor<2x8x48xf16> {
  %p = arith.constant dense<9> : tensor<48x48xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x8x192xf16>, tensor<48x96xf16>, tensor<48x48xi8> -> tensor<2x8x48xf16>
  return %y : tensor<2x8x48xf16>
}

// -----

// M = 5 rounds up to an 8-row tile; M = 17 and a dynamic M keep the
// tensor-core kernels.

// CHECK-LABEL: func.func private @slr_linear_f16_n128_k64_r0_t128x64x32_w2x2_s3_launch
// CHECK-SAME: variant = mma_sp_sm80
// CHECK-LABEL: func.func private @slr_decode_f16_n128_k64_r0_m8_w8_ks64_launch
// CHECK-SAME: variant = decode_sm80
// CHECK-LABEL: func.func @three_sizes
// CHECK: call @slr_decode_f16_n128_k64_r0_m8_w8_ks64_launch
// CHECK: call @slr_linear_f16_n128_k64_r0_t128x64x32_w2x2_s3_launch
// CHECK: call @slr_linear_f16_n128_k64_r0_t128x64x32_w2x2_s3_launch
func.func @three_sizes(%x5: tensor<5x64xf16>, %x17: tensor<17x64xf16>, %xd: tensor<?x64xf16>, %v: tensor<128x32xf16>) -> (tensor<5x128xf16>, tensor<17x128xf16>, tensor<?x128xf16>) {
  %p = arith.constant dense<9> : tensor<128x16xi8>
  %y5 = slr.linear %x5, %v, %p {pattern = #slr.nm<2, 4>} : tensor<5x64xf16>, tensor<128x32xf16>, tensor<128x16xi8> -> tensor<5x128xf16>
  %y17 = slr.linear %x17, %v, %p {pattern = #slr.nm<2, 4>} : tensor<17x64xf16>, tensor<128x32xf16>, tensor<128x16xi8> -> tensor<17x128xf16>
  %yd = slr.linear %xd, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x64xf16>, tensor<128x32xf16>, tensor<128x16xi8> -> tensor<?x128xf16>
  return %y5, %y17, %yd : tensor<5x128xf16>, tensor<17x128xf16>, tensor<?x128xf16>
}

// -----

// K = 96 is not a multiple of 64, which the decode kernel needs: the op keeps
// the tensor-core kernels even with M = 1.

// CHECK-LABEL: func.func private @slr_linear_bf16_n128_k96_r0_t128x64x32_w2x2_s3_launch
// CHECK-SAME: variant = mma_sp_sm80
// CHECK-LABEL: func.func @decode_declined
// CHECK-NOT: slr_decode
func.func @decode_declined(%x: tensor<1x96xbf16>, %v: tensor<128x48xbf16>) -> tensor<1x128xbf16> {
  %p = arith.constant dense<9> : tensor<128x24xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<1x96xbf16>, tensor<128x48xbf16>, tensor<128x24xi8> -> tensor<1x128xbf16>
  return %y : tensor<1x128xbf16>
}
