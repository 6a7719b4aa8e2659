// RUN: slr-opt %s -split-input-file -verify-diagnostics \
// RUN:   -convert-slr-to-gpu="tile-n=16 tile-m=16 tile-k=32 warps-n=1 warps-m=1 stages=2 strict=true" \
// RUN: | FileCheck %s
// The op that cannot be lowered is an error with strict=true (below); by
// default it is left for the CPU lowering (slr-to-gpu-decline.mlir).
// RUN: not slr-opt %s -split-input-file -convert-slr-to-gpu="tile-k=48" 2>&1 >/dev/null \
// RUN: | FileCheck %s --check-prefix=TILES

// TILES: tile-k must be a positive multiple of 32 (got 48)

// bf16 with every term and constant positions. Rows 0-7 keep (0,1) in groups
// 0-3 and (1,2) in groups 4-7, rows 8-15 keep (2,3) and (0,2): metadata word
// 2g holds groups 0-3 of rows g (0x4444) and g+8 (0xEEEE), word 2g+1 groups
// 4-7 (0x9999 and 0x8888).

// CHECK-LABEL: func.func private @slr_linear_bf16_n16_k32_r16_bias_t16x16x32_w1x1_s2_launch
// CHECK-SAME: (memref<?x32xbf16>, memref<16x16xbf16>, memref<16xi32>, memref<16x16xbf16>, memref<16x32xbf16>, memref<16xbf16>, memref<?x16xbf16>)
// CHECK-SAME: slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 16, has_bias = true,
// CHECK-SAME: main = @slr_gpu_kernels::@slr_linear_bf16_n16_k32_r16_bias_t16x16x32_w1x1_s2, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = {{[0-9]+}},
// CHECK-SAME: lowrank = @slr_gpu_kernels::@slr_lowrank_bf16_r16_k32_t32_s2, lowrank_tile_n = 16, lowrank_tile_m = 64, lowrank_threads = 128, lowrank_shared_bytes = {{[0-9]+}}, k_blocks = 1>

// CHECK-LABEL: func.func @linear_bf16
// CHECK-SAME: (%[[X:.*]]: tensor<?x32xbf16>, %[[V:.*]]: tensor<16x16xbf16>, %[[U:.*]]: tensor<16x16xbf16>, %[[VT:.*]]: tensor<16x32xbf16>, %[[B:.*]]: tensor<16xbf16>)
// CHECK-DAG: %[[XB:.*]] = bufferization.to_buffer %[[X]] read_only : tensor<?x32xbf16> to memref<?x32xbf16>
// CHECK-DAG: %[[VB:.*]] = bufferization.to_buffer %[[V]] read_only
// CHECK-DAG: %[[META:.*]] = arith.constant dense<[-286374844, -2004313703, -286374844, -2004313703, -286374844, -2004313703, -286374844, -2004313703, -286374844, -2004313703, -286374844, -2004313703, -286374844, -2004313703, -286374844, -2004313703]> : tensor<16xi32>
// CHECK-DAG: %[[MB:.*]] = bufferization.to_buffer %[[META]] read_only : tensor<16xi32> to memref<16xi32>
// CHECK-DAG: %[[UB:.*]] = bufferization.to_buffer %[[U]] read_only
// CHECK-DAG: %[[VTB:.*]] = bufferization.to_buffer %[[VT]] read_only
// CHECK-DAG: %[[BB:.*]] = bufferization.to_buffer %[[B]] read_only
// CHECK: %[[M:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x32xbf16>
// CHECK: %[[Y:.*]] = memref.alloc(%[[M]]) : memref<?x16xbf16>
// CHECK: call @slr_linear_bf16_n16_k32_r16_bias_t16x16x32_w1x1_s2_launch(%[[XB]], %[[VB]], %[[MB]], %[[UB]], %[[VTB]], %[[BB]], %[[Y]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[Y]] restrict writable : memref<?x16xbf16> to tensor<?x16xbf16>
// CHECK: return %[[R]]

// CHECK: gpu.module @slr_gpu_kernels
// CHECK-LABEL: gpu.func @slr_linear_bf16_n16_k32_r16_bias_t16x16x32_w1x1_s2
// CHECK-SAME: (%{{.*}}: memref<?x32xbf16>, %{{.*}}: memref<16x16xbf16>, %{{.*}}: memref<16xi32>, %{{.*}}: memref<16x16xbf16>, %{{.*}}: memref<?x16xf32>, %{{.*}}: memref<16xbf16>, %{{.*}}: memref<?x16xbf16>) kernel
// CHECK-SAME: known_block_size = array<i32: 32, 1, 1>
// CHECK: %[[SMEM:.*]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[SX:.*]] = memref.view %[[SMEM]][%{{.*}}][] : {{.*}} to memref<2x16x40xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[SS:.*]] = memref.view %[[SMEM]][%{{.*}}][] : {{.*}} to memref<2x16x24xbf16, #gpu.address_space<workgroup>>
// CHECK-DAG: %[[SM:.*]] = memref.view %[[SMEM]][%{{.*}}][] : {{.*}} to memref<2x1x16xi32, #gpu.address_space<workgroup>>
// Stage 0 of the pipeline: x rows past M are zero-filled (src elements).
// CHECK: nvgpu.device_async_copy %arg0[{{.*}}], %[[SX]][{{.*}}], 8, %{{.*}} {bypassL1}
// CHECK: nvgpu.device_async_copy %arg1[{{.*}}], %[[SS]][{{.*}}], 8 {bypassL1}
// CHECK: nvgpu.device_async_copy %arg2[{{.*}}], %[[SM]][{{.*}}], 4 {bypassL1}
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: gpu.barrier
// CHECK: nvgpu.ldmatrix %[[SX]][{{.*}}] {numTiles = 4 : i32, transpose = false} {{.*}} -> vector<4x2xbf16>
// CHECK: nvgpu.ldmatrix %[[SS]][{{.*}}] {numTiles = 4 : i32, transpose = false} {{.*}} -> vector<4x2xbf16>
// CHECK: %[[WORD:.*]] = memref.load %[[SM]]
// CHECK: vector.bitcast %{{.*}} : vector<2xbf16> to vector<1xi32>
// CHECK: nvvm.mma.sp.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] sparseMetadata[%[[WORD]]] selector[%{{.*}}] {multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, orderedMetadata, shape = #nvvm.shape<m = 16, n = 8, k = 32>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: nvvm.mma.sp.sync
// Low-rank term: t (f32) narrowed into shared memory, U by cp.async, dense MMAs.
// CHECK: vector.load %arg4[{{.*}}] {alignment = 16 : i64} : memref<?x16xf32>, vector<4xf32>
// CHECK: arith.truncf %{{.*}} : vector<4xf32> to vector<4xbf16>
// CHECK: nvgpu.ldmatrix {{.*}} {numTiles = 2 : i32, transpose = false} {{.*}} -> vector<2x2xbf16>
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>}
// Epilogue: bias in f32, one 16-byte store per 8 outputs.
// CHECK: memref.load %arg5
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.addf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: gpu.barrier
// CHECK: vector.load {{.*}} {alignment = 16 : i64} : memref<16x24xbf16, #gpu.address_space<workgroup>>, vector<8xbf16>
// CHECK: vector.store {{.*}}, %arg6[{{.*}}] {alignment = 16 : i64} : memref<?x16xbf16>, vector<8xbf16>
// CHECK: gpu.return

// The projection t = x * V^T, split over K by grid.z, f32 atomics.
// CHECK-LABEL: gpu.func @slr_lowrank_bf16_r16_k32_t32_s2
// CHECK-SAME: (%{{.*}}: memref<?x32xbf16>, %{{.*}}: memref<16x32xbf16>, %{{.*}}: memref<?x16xf32>) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-DAG: gpu.block_id  z
// CHECK-DAG: gpu.grid_dim  z
// CHECK: scf.for
// CHECK: nvvm.mma.sync
// CHECK: memref.atomic_rmw addf %{{.*}}, %arg2[{{.*}}] : (f32, memref<?x16xf32>) -> f32
// CHECK-NOT: slr.linear
func.func @linear_bf16(%x: tensor<?x32xbf16>, %v: tensor<16x16xbf16>, %u: tensor<16x16xbf16>, %vt: tensor<16x32xbf16>, %b: tensor<16xbf16>) -> tensor<?x16xbf16> {
  %p = arith.constant dense<[[4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [4, 4, 4, 4, 9, 9, 9, 9], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8], [14, 14, 14, 14, 8, 8, 8, 8]]> : tensor<16x8xi8>
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<16x16xbf16>, tensor<16x32xbf16>) bias(%b : tensor<16xbf16>) {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

// f16, sparse part only, batched input: the MMAs take vector<2xf16> operands
// directly, no low-rank kernel, the result is expanded back to [?, 3, N].

// CHECK-LABEL: func.func private @slr_linear_f16_n32_k64_r0_t16x16x32_w1x1_s2_launch
// CHECK-SAME: (memref<?x64xf16>, memref<32x32xf16>, memref<64xi32>, memref<?x32xf16>)
// CHECK-SAME: #slr.gpu_launch<variant = mma_sp_sm80, n = 32, k = 64, rank = 0, main = @slr_gpu_kernels::@slr_linear_f16_n32_k64_r0_t16x16x32_w1x1_s2, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = {{[0-9]+}}>
// CHECK-NOT: lowrank
// CHECK-LABEL: func.func @linear_f16_batched
// CHECK-SAME: (%[[X:.*]]: tensor<?x3x64xf16>
// CHECK: %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<?x3x64xf16> into tensor<?x64xf16>
// CHECK: bufferization.to_buffer %[[X2]] read_only : tensor<?x64xf16> to memref<?x64xf16>
// CHECK: call @slr_linear_f16_n32_k64_r0_t16x16x32_w1x1_s2_launch
// CHECK: %[[R:.*]] = bufferization.to_tensor
// CHECK: %[[B0:.*]] = tensor.dim %[[X]], %{{.*}} : tensor<?x3x64xf16>
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1], [2]] output_shape [%[[B0]], 3, 32] : tensor<?x32xf16> into tensor<?x3x32xf16>
// CHECK: gpu.module @slr_gpu_kernels
// CHECK-LABEL: gpu.func @slr_linear_f16_n32_k64_r0_t16x16x32_w1x1_s2
// CHECK: scf.for
// CHECK-NOT: vector.bitcast
// CHECK: nvvm.mma.sp.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] sparseMetadata[{{.*}}] selector[{{.*}}] {orderedMetadata, shape = #nvvm.shape<m = 16, n = 8, k = 32>} : (vector<2xf16>, vector<2xf16>, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK-NOT: nvvm.mma.sync
// CHECK: vector.store {{.*}} : memref<?x32xf16>, vector<8xf16>
// CHECK-NOT: gpu.func
func.func @linear_f16_batched(%x: tensor<?x3x64xf16>, %v: tensor<32x32xf16>) -> tensor<?x3x32xf16> {
  %p = arith.constant dense<9> : tensor<32x16xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x3x64xf16>, tensor<32x32xf16>, tensor<32x16xi8> -> tensor<?x3x32xf16>
  return %y : tensor<?x3x32xf16>
}

// -----

// Positions that are not constants are reordered on the device; two ops of
// the same shape share the kernels and the launcher. Positions of another
// integer type get their own launcher and reorder kernel, not the main kernel.

// CHECK-LABEL: func.func private @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch_dynmeta_i8
// CHECK-SAME: (memref<?x32xbf16>, memref<16x16xbf16>, memref<16x8xi8>, memref<?x16xbf16>)
// CHECK-SAME: reorder = @slr_gpu_kernels::@slr_reorder_meta_n16_k32_i8
// CHECK-LABEL: func.func private @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch_dynmeta_i16
// CHECK-SAME: (memref<?x32xbf16>, memref<16x16xbf16>, memref<16x8xi16>, memref<?x16xbf16>)
// CHECK-SAME: reorder = @slr_gpu_kernels::@slr_reorder_meta_n16_k32_i16
// CHECK-LABEL: func.func @dynamic_positions
// CHECK-SAME: %[[P:[a-z0-9]*]]: tensor<16x8xi16>, %[[Q:[a-z0-9]*]]: tensor<16x8xi8>
// CHECK: %[[PB:.*]] = bufferization.to_buffer %[[P]] read_only : tensor<16x8xi16> to memref<16x8xi16>
// CHECK: call @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch_dynmeta_i16(%{{.*}}, %{{.*}}, %[[PB]], %{{.*}})
// CHECK: call @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch_dynmeta_i16(
// CHECK: %[[QB:.*]] = bufferization.to_buffer %[[Q]] read_only : tensor<16x8xi8> to memref<16x8xi8>
// CHECK: call @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch_dynmeta_i8(%{{.*}}, %{{.*}}, %[[QB]], %{{.*}})
// CHECK: gpu.module @slr_gpu_kernels
// CHECK-COUNT-1: gpu.func @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2(
// CHECK-LABEL: gpu.func @slr_reorder_meta_n16_k32_i16
// CHECK-SAME: (%{{.*}}: memref<16x8xi16>, %{{.*}}: memref<16xi32>) kernel
// CHECK-SAME: known_block_size = array<i32: 256, 1, 1>
// CHECK-COUNT-8: memref.load %arg0
// CHECK: memref.store %{{.*}}, %arg1[%{{.*}}] : memref<16xi32>
// CHECK-LABEL: gpu.func @slr_reorder_meta_n16_k32_i8
// CHECK-SAME: (%{{.*}}: memref<16x8xi8>, %{{.*}}: memref<16xi32>) kernel
// CHECK-NOT: gpu.func
func.func @dynamic_positions(%x: tensor<4x32xbf16>, %v: tensor<16x16xbf16>, %p: tensor<16x8xi16>, %q: tensor<16x8xi8>) -> (tensor<4x16xbf16>, tensor<4x16xbf16>, tensor<4x16xbf16>) {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi16> -> tensor<4x16xbf16>
  %z = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi16> -> tensor<4x16xbf16>
  %w = slr.linear %x, %v, %q {pattern = #slr.nm<2, 4>} : tensor<4x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<4x16xbf16>
  return %y, %z, %w : tensor<4x16xbf16>, tensor<4x16xbf16>, tensor<4x16xbf16>
}

// -----

func.func @n_not_multiple_of_tile(%x: tensor<?x32xbf16>, %v: tensor<24x16xbf16>, %p: tensor<24x8xi8>) -> tensor<?x24xbf16> {
  // expected-error @+1 {{'slr.linear' op cannot be lowered to the GPU: output features N = 24 must be a multiple of tile-n = 16}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<24x16xbf16>, tensor<24x8xi8> -> tensor<?x24xbf16>
  return %y : tensor<?x24xbf16>
}

// -----

func.func @k_not_multiple_of_tile(%x: tensor<?x48xbf16>, %v: tensor<16x24xbf16>, %p: tensor<16x12xi8>) -> tensor<?x16xbf16> {
  // expected-error @+1 {{'slr.linear' op cannot be lowered to the GPU: input features K = 48 must be a multiple of tile-k = 32}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x48xbf16>, tensor<16x24xbf16>, tensor<16x12xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

func.func @rank_not_multiple_of_16(%x: tensor<?x32xbf16>, %v: tensor<16x16xbf16>, %p: tensor<16x8xi8>, %u: tensor<16x8xbf16>, %vt: tensor<8x32xbf16>) -> tensor<?x16xbf16> {
  // expected-error @+1 {{'slr.linear' op cannot be lowered to the GPU: low-rank rank r = 8 must be a multiple of 16 (pad U and V with zeros)}}
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<16x8xbf16>, tensor<8x32xbf16>) {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

func.func @f32(%x: tensor<?x32xf32>, %v: tensor<16x16xf32>, %p: tensor<16x8xi8>) -> tensor<?x16xf32> {
  // expected-error @+1 {{'slr.linear' op cannot be lowered to the GPU: element type must be f16 or bf16 (tensor cores, f32 accumulation)}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xf32>, tensor<16x16xf32>, tensor<16x8xi8> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

func.func @not_2_4(%x: tensor<?x32xbf16>, %v: tensor<16x8xbf16>, %p: tensor<16x8xi8>) -> tensor<?x16xbf16> {
  // expected-error @+1 {{'slr.linear' op cannot be lowered to the GPU: only the 2:4 pattern maps to sparse tensor cores (got 1:4)}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<1, 4>} : tensor<?x32xbf16>, tensor<16x8xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

func.func @unordered_positions(%x: tensor<?x32xbf16>, %v: tensor<16x16xbf16>) -> tensor<?x16xbf16> {
  // Row 3, group 5 holds 0b0001: first kept index 1, second 0.
  %p = arith.constant dense<[[4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 1, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4], [4, 4, 4, 4, 4, 4, 4, 4]]> : tensor<16x8xi8>
  // The op verifier refuses such constant positions before any lowering.
  // expected-error @+1 {{'slr.linear' op constant positions of row 3, group 5 are not in the packed layout of #slr.nm<2, 4>: word 1 holds positions 1, 0, but positions must be distinct and ascending}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

// A result materialized into a caller's buffer right away is written there
// by the launcher (no buffer of its own, no copy).

// CHECK-LABEL: func.func @into_destination
// CHECK-SAME: (%[[X:.*]]: tensor<4x32xbf16>, %{{.*}}: tensor<16x16xbf16>, %[[DEST:.*]]: memref<4x16xbf16>)
// CHECK-NOT: memref.alloc
// CHECK: %[[Y:.*]] = memref.cast %[[DEST]] : memref<4x16xbf16> to memref<?x16xbf16>
// CHECK: call @slr_linear_{{.*}}(%{{.*}}, %[[Y]])
// CHECK-NOT: bufferization.materialize_in_destination
// CHECK: return
func.func @into_destination(%x: tensor<4x32xbf16>, %v: tensor<16x16xbf16>, %dest: memref<4x16xbf16>) {
  %p = arith.constant dense<4> : tensor<16x8xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<4x16xbf16>
  bufferization.materialize_in_destination %y in restrict writable %dest : (tensor<4x16xbf16>, memref<4x16xbf16>) -> ()
  return
}

// -----

// Something that may touch memory in between: the launcher writes its own
// buffer and the materialization stays (it copies).

// CHECK-LABEL: func.func @destination_after_a_store
// CHECK: %[[Y:.*]] = memref.alloc
// CHECK: call @slr_linear_{{.*}}(%{{.*}}, %[[Y]])
// CHECK: memref.store
// CHECK: bufferization.materialize_in_destination
func.func @destination_after_a_store(%x: tensor<4x32xbf16>, %v: tensor<16x16xbf16>, %dest: memref<4x16xbf16>, %s: bf16) {
  %p = arith.constant dense<4> : tensor<16x8xi8>
  %c0 = arith.constant 0 : index
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<4x16xbf16>
  memref.store %s, %dest[%c0, %c0] : memref<4x16xbf16>
  bufferization.materialize_in_destination %y in restrict writable %dest : (tensor<4x16xbf16>, memref<4x16xbf16>) -> ()
  return
}
