// RUN: slr-opt %s -split-input-file -convert-slr-to-gpu="chip=sm_90a strict=true" \
// RUN: | FileCheck %s
// RUN: slr-opt %s -split-input-file -convert-slr-to-gpu="chip=sm_90a strict=true" \
// RUN:   -slr-gpu-materialize-launchers | FileCheck %s --check-prefix=LAUNCH
// RUN: slr-opt %s -split-input-file -convert-slr-to-gpu="chip=sm_80 strict=true" \
// RUN: | FileCheck %s --check-prefix=SM80

// The sm_90a variant (chooseKernelVariant): with chip=sm_90a, an M that is
// not statically <= 16 selects wgmma_sp_sm90a when N, K and the rank are
// multiples of 128, 64 and 64; sm_80 keeps mma_sp_sm80.

// CHECK-LABEL: func.func private @slr_wgmma_sp_bf16_n256_k256_r64_bias_t128x128x64_s4_launch_resident
// CHECK-SAME: #slr.gpu_launch<variant = wgmma_sp_sm90a, n = 256, k = 256, rank = 64, has_bias = true, resident = true, main = @slr_gpu_kernels::@slr_wgmma_sp_bf16_n256_k256_r64_bias_t128x128x64_s4, tile_n = 128, tile_m = 128, threads = 384, shared_bytes = 136256, lowrank = @slr_gpu_kernels::@slr_lowrank_bf16_r64_k256_t64_s3_store, lowrank_tile_n = 64, lowrank_tile_m = 64, lowrank_threads = 128, lowrank_shared_bytes = {{[0-9]+}}, k_blocks = 4>
// CHECK-LABEL: func.func @large_m
// CHECK: call @slr_wgmma_sp_bf16_n256_k256_r64_bias_t128x128x64_s4_launch_resident
// CHECK-LABEL: gpu.func @slr_wgmma_sp_bf16_n256_k256_r64_bias_t128x128x64_s4
// CHECK-SAME: (%{{.*}}: memref<?x256xbf16>, %{{.*}}: memref<256x128xbf16>, %{{.*}}: memref<2048xi32>, %{{.*}}: memref<256x64xbf16>, %{{.*}}: memref<?x64xbf16>, %{{.*}}: memref<256xbf16>, %{{.*}}: memref<?x256xbf16>, %{{.*}}: memref<5x16xi64>) kernel
// CHECK-SAME: known_block_size = array<i32: 384, 1, 1>
// Barriers: full (1 arrival) and empty (256 consumer threads) per stage.
// CHECK-COUNT-4: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.*}}, %c1_i32
// CHECK: fence.mbarrier_init.release.cluster
// CHECK: gpu.barrier
// The producer warpgroup gives registers away; one thread issues TMA.
// CHECK: nvvm.setmaxregister decrease 40
// CHECK: scf.for
// CHECK: mbarrier.try_wait.parity
// CHECK: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" %{{.*}}, %c25600_i32
// CHECK-COUNT-3: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// Rank block: t and U, 32 KB.
// CHECK: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" %{{.*}}, %c32768_i32
// CHECK-COUNT-2: cp.async.bulk.tensor.2d
// Consumers: two sparse k32 steps per K block, then four dense k16 steps.
// CHECK: nvvm.setmaxregister increase 232
// CHECK: scf.for
// CHECK: mbarrier.try_wait.parity
// CHECK: ld.shared.b32
// CHECK: ld.shared.b32
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-2: wgmma.mma_async.sp.sync.aligned.m64n128k32.f32.bf16.bf16
// One group in flight: wait for the previous one, release its stage.
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: scf.if
// CHECK: mbarrier.arrive.shared::cta.b64
// CHECK: nvvm.wgmma.fence.aligned
// CHECK-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// y written once, from the accumulators.
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}} : memref<?x256xbf16>
// CHECK-NOT: memref.atomic_rmw
// CHECK: gpu.return
// The projection's store mode: t written once, no atomics.
// CHECK-LABEL: gpu.func @slr_lowrank_bf16_r64_k256_t64_s3_store
// CHECK-SAME: memref<?x64xbf16>) kernel
// CHECK-NOT: memref.atomic_rmw
// CHECK: gpu.return

// LAUNCH-LABEL: func.func private @slr_wgmma_sp_bf16_n256_k256_r64_bias_t128x128x64_s4_launch_resident
// LAUNCH: %[[M:.*]] = memref.dim
// LAUNCH-NOT: gpu.memset
// LAUNCH: %[[T:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] (%[[M]]) : memref<?x64xbf16>
// LAUNCH: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_lowrank_bf16_r64_k256_t64_s3_store blocks in (%c1, %{{.*}}, %c1) threads in (%c128, %c1, %c1)
// LAUNCH: %[[MAPS:.*]] = memref.alloca() {alignment = 64 : i64} : memref<5x16xi64>
// LAUNCH-COUNT-5: call @slrGpuEncodeTensorMap2D
// LAUNCH: %[[DMAPS:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<5x16xi64>
// LAUNCH: gpu.memcpy async [%{{.*}}] %[[DMAPS]], %[[MAPS]]
// LAUNCH: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_wgmma_sp_bf16_n256_k256_r64_bias_t128x128x64_s4 blocks in (%c2, %{{.*}}, %c1) threads in (%c384, %c1, %c1) dynamic_shared_memory_size %{{.*}} args(
// LAUNCH-SAME: %[[T]] : memref<?x64xbf16>
// LAUNCH-SAME: %[[DMAPS]] : memref<5x16xi64>)
// LAUNCH-NOT: gpu.launch_func
// LAUNCH: func.func private @slrGpuEncodeTensorMap2D(!llvm.ptr, i64, !llvm.ptr, i64, i64, i64, i64, i64, i64)

// SM80-LABEL: func.func private @slr_linear_bf16_n256_k256_r64_bias_t128x64x64_w2x2_s3_launch
// SM80-SAME: variant = mma_sp_sm80
func.func @large_m(%x: tensor<?x256xbf16>) -> tensor<?x256xbf16> {
  %v = arith.constant dense<1.0> : tensor<256x128xbf16>
  %p = arith.constant dense<4> : tensor<256x64xi8>
  %u = arith.constant dense<1.0> : tensor<256x64xbf16>
  %vt = arith.constant dense<1.0> : tensor<64x256xbf16>
  %b = arith.constant dense<1.0> : tensor<256xbf16>
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<256x64xbf16>, tensor<64x256xbf16>) bias(%b : tensor<256xbf16>) {pattern = #slr.nm<2, 4>} : tensor<?x256xbf16>, tensor<256x128xbf16>, tensor<256x64xi8> -> tensor<?x256xbf16>
  return %y : tensor<?x256xbf16>
}

// -----

// Static M = 17 (beyond decode sizes), f16, no low-rank part (three tensor
// maps, six stages), positions not constant (the reorder kernel writes the
// same words: the wgmma.sp metadata of each warp is mma.sp's).

// CHECK-LABEL: func.func private @slr_wgmma_sp_f16_n128_k64_r0_t128x128x64_s6_launch_dynmeta_i8
// CHECK-SAME: #slr.gpu_launch<variant = wgmma_sp_sm90a, n = 128, k = 64, rank = 0, main = @slr_gpu_kernels::@slr_wgmma_sp_f16_n128_k64_r0_t128x128x64_s6, tile_n = 128, tile_m = 128, threads = 384, shared_bytes = {{[0-9]+}}, reorder = @slr_gpu_kernels::@slr_reorder_meta_n128_k64_i8>
// CHECK-LABEL: gpu.func @slr_wgmma_sp_f16_n128_k64_r0_t128x128x64_s6
// CHECK-SAME: memref<?x128xf16>, %{{.*}}: memref<3x16xi64>) kernel
// CHECK-COUNT-6: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.*}}, %c1_i32
// CHECK-COUNT-2: wgmma.mma_async.sp.sync.aligned.m64n128k32.f32.f16.f16
// CHECK-NOT: wgmma.mma_async.sync.aligned
// CHECK: gpu.return

// LAUNCH-LABEL: func.func private @slr_wgmma_sp_f16_n128_k64_r0_t128x128x64_s6_launch_dynmeta_i8
// LAUNCH: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_reorder_meta_n128_k64_i8
// LAUNCH-COUNT-3: call @slrGpuEncodeTensorMap2D
// LAUNCH-NOT: call @slrGpuEncodeTensorMap2D
// LAUNCH: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_wgmma_sp_f16_n128_k64_r0_t128x128x64_s6 blocks in (%c1, %{{.*}}, %c1) threads in (%c384, %c1, %c1)

// SM80-LABEL: func.func private @slr_linear_f16_n128_k64_r0_t128x64x64_w2x2_s3_launch_dynmeta_i8
func.func @m17(%x: tensor<17x64xf16>, %v: tensor<128x32xf16>, %p: tensor<128x16xi8>) -> tensor<17x128xf16> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<17x64xf16>, tensor<128x32xf16>, tensor<128x16xi8> -> tensor<17x128xf16>
  return %y : tensor<17x128xf16>
}

// -----

// Static M = 16 stays decode_sm80 on sm_90a.

// CHECK-LABEL: func.func private @slr_decode_bf16_n128_k64_r0_m16_w8_ks64_launch_resident
// CHECK-SAME: variant = decode_sm80
// SM80-LABEL: func.func private @slr_decode_bf16_n128_k64_r0_m16_w8_ks64_launch_resident
func.func @m16(%x: tensor<16x64xbf16>) -> tensor<16x128xbf16> {
  %v = arith.constant dense<1.0> : tensor<128x32xbf16>
  %p = arith.constant dense<4> : tensor<128x16xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<16x64xbf16>, tensor<128x32xbf16>, tensor<128x16xi8> -> tensor<16x128xbf16>
  return %y : tensor<16x128xbf16>
}

// -----

// A shape the wgmma kernel does not tile (rank 16, not a multiple of 64)
// keeps mma_sp_sm80 on sm_90a.

// CHECK-LABEL: func.func private @slr_linear_bf16_n128_k64_r16_t128x64x64_w2x2_s3_launch
// CHECK-SAME: variant = mma_sp_sm80
// SM80-LABEL: func.func private @slr_linear_bf16_n128_k64_r16_t128x64x64_w2x2_s3_launch
func.func @untiled(%x: tensor<?x64xbf16>, %v: tensor<128x32xbf16>, %p: tensor<128x16xi8>, %u: tensor<128x16xbf16>, %vt: tensor<16x64xbf16>) -> tensor<?x128xbf16> {
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<128x16xbf16>, tensor<16x64xbf16>) {pattern = #slr.nm<2, 4>} : tensor<?x64xbf16>, tensor<128x32xbf16>, tensor<128x16xi8> -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}
