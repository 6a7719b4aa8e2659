// RUN: slr-opt %s -split-input-file -verify-diagnostics \
// RUN:   -convert-slr-to-gpu="tile-n=16 tile-m=16 tile-k=32 warps-n=1 warps-m=1 stages=2" \
// RUN:   -slr-gpu-materialize-launchers | FileCheck %s

// Every term, positions reordered on the device: x and y staged (used as
// they are when they are device memory), uploads of the weights, the reorder
// kernel, the zeroed t buffer, the low-rank kernel with its split-K factor
// computed from M, the main kernel and the frees, all on one async token
// chain; after it, y copied back if it was staged.

// CHECK-LABEL: func.func private @slr_linear_f16_n16_k32_r16_bias_t16x16x32_w1x1_s2_launch_dynmeta_i8
// CHECK-SAME: (%[[X:.*]]: memref<?x32xf16>, %[[V:.*]]: memref<16x16xf16>, %[[P:.*]]: memref<16x8xi8>, %[[U:.*]]: memref<16x16xf16>, %[[VT:.*]]: memref<16x32xf16>, %[[B:.*]]: memref<16xf16>, %[[Y:.*]]: memref<?x16xf16>)
// CHECK-NOT: slr.gpu_launcher
// CHECK: %[[M:.*]] = memref.dim %[[X]], %c0
// An empty batch launches nothing.
// CHECK: %[[EMPTY:.*]] = arith.cmpi eq, %[[M]], %c0
// CHECK: cf.cond_br %[[EMPTY]], ^[[EXIT:.*]], ^[[BODY:[a-z0-9]*]]
// CHECK: ^[[BODY]]:
// CHECK: %[[XP:.*]] = memref.extract_aligned_pointer_as_index %[[X]]
// x: 64 bytes per row.
// CHECK: %[[XI:.*]] = arith.index_cast %[[XP]] : index to i64
// CHECK: %[[XPTR:.*]] = llvm.inttoptr %[[XI]] : i64 to !llvm.ptr
// CHECK: %[[XROWS:.*]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[XBYTES:.*]] = arith.muli %c64_i64, %[[XROWS]]
// CHECK: %[[DXPTR:.*]] = call @slrGpuStageInput(%[[XPTR]], %[[XBYTES]]) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK: %[[DX:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<?x32xf16>
// CHECK: %[[T0:.*]] = gpu.wait async
// CHECK: %[[DV:.*]], %{{.*}} = gpu.alloc async [%[[T0]]]
// CHECK: gpu.memcpy async [%{{.*}}] %[[DV]], %[[V]]
// CHECK: %[[DP:.*]], %{{.*}} = gpu.alloc async
// CHECK: gpu.memcpy async [%{{.*}}] %[[DP]], %[[P]]
// CHECK: %[[DMETA:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] () : memref<16xi32>
// CHECK: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_reorder_meta_n16_k32_i8 blocks in (%c1, %c1, %c1) threads in (%c256, %c1, %c1) dynamic_shared_memory_size %{{.*}} args(%[[DP]] : memref<16x8xi8>, %[[DMETA]] : memref<16xi32>)
// CHECK: %[[DT:.*]], %{{.*}} = gpu.alloc async [%{{.*}}] (%[[M]]) : memref<?x16xf32>
// CHECK: gpu.memset async [%{{.*}}] %[[DT]], %{{.*}} : memref<?x16xf32>, f32
// CHECK: %[[DYPTR:.*]] = call @slrGpuStageOutput(%{{.*}}, %{{.*}}) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK: %[[DY:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<?x16xf16>
// splitK = min(ceil(128 / max(ceil(M / 64), 1)), K / tile-k = 1).
// CHECK: %[[MT:.*]] = arith.ceildivui %[[M]], %c64
// CHECK: %[[CTAS:.*]] = arith.maxui %[[MT]], %c1
// CHECK: %[[SPLIT0:.*]] = arith.ceildivui %c128, %[[CTAS]]
// CHECK: %[[SPLIT:.*]] = arith.minui %[[SPLIT0]], %c1
// CHECK: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_lowrank_f16_r16_k32_t32_s2 blocks in (%c1, %[[MT]], %[[SPLIT]]) threads in (%c128, %c1, %c1)
// CHECK-SAME: args(%[[DX]] : memref<?x32xf16>, %{{.*}} : memref<16x32xf16>, %[[DT]] : memref<?x16xf32>)
// CHECK: %[[MTILES:.*]] = arith.ceildivui %[[M]], %c16
// CHECK: %[[LAST:.*]] = gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_linear_f16_n16_k32_r16_bias_t16x16x32_w1x1_s2 blocks in (%c1, %[[MTILES]], %c1) threads in (%c32, %c1, %c1)
// CHECK-SAME: args(%[[DX]] : memref<?x32xf16>, %[[DV]] : memref<16x16xf16>, %[[DMETA]] : memref<16xi32>, %{{.*}} : memref<16x16xf16>, %[[DT]] : memref<?x16xf32>, %{{.*}} : memref<16xf16>, %[[DY]] : memref<?x16xf16>)
// CHECK-NOT: gpu.memcpy
// CHECK-COUNT-7: gpu.dealloc async
// CHECK: gpu.wait [%{{.*}}]
// CHECK: call @slrGpuUnstage(%{{.*}}, %[[DXPTR]], %{{.*}}, %false)
// CHECK: call @slrGpuUnstage(%{{.*}}, %[[DYPTR]], %{{.*}}, %true)
// CHECK-NEXT: return
// CHECK: ^[[EXIT]]:
// CHECK-NEXT: return
func.func @linear(%x: tensor<?x32xf16>, %v: tensor<16x16xf16>, %p: tensor<16x8xi8>, %u: tensor<16x16xf16>, %vt: tensor<16x32xf16>, %b: tensor<16xf16>) -> tensor<?x16xf16> {
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<16x16xf16>, tensor<16x32xf16>) bias(%b : tensor<16xf16>) {pattern = #slr.nm<2, 4>} : tensor<?x32xf16>, tensor<16x16xf16>, tensor<16x8xi8> -> tensor<?x16xf16>
  return %y : tensor<?x16xf16>
}

// -----

// Constant positions: the metadata words are uploaded, no reorder kernel;
// without a low-rank part there is no t buffer and one launch.

// CHECK-LABEL: func.func private @slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2_launch
// CHECK-NOT: gpu.launch_func
// CHECK-NOT: gpu.memset
// CHECK: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_linear_bf16_n16_k32_r0_t16x16x32_w1x1_s2
// CHECK-NOT: gpu.launch_func
// CHECK: return
func.func @sparse_only(%x: tensor<?x32xbf16>, %v: tensor<16x16xbf16>) -> tensor<?x16xbf16> {
  %p = arith.constant dense<9> : tensor<16x8xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

// Every weight a constant: the weights come from slrGpuResidentCopy (uploaded
// once, kept), only x and y are staged and only t is freed on the stream.

// CHECK-LABEL: func.func private @slrGpuResidentCopy(!llvm.ptr, i64) -> !llvm.ptr
// CHECK-LABEL: func.func private @slr_linear_bf16_n16_k32_r16_t16x16x32_w1x1_s2_launch_resident
// CHECK-SAME: (%[[X:.*]]: memref<?x32xbf16>, %[[V:.*]]: memref<16x16xbf16>, %[[META:.*]]: memref<16xi32>, %[[U:.*]]: memref<16x16xbf16>, %[[VT:.*]]: memref<16x32xbf16>, %[[Y:.*]]: memref<?x16xbf16>)
// CHECK: call @slrGpuStageInput
// CHECK: %[[DX:.*]] = builtin.unrealized_conversion_cast %{{.*}} to memref<?x32xbf16>
// CHECK-NOT: gpu.memcpy
// CHECK: %[[VP:.*]] = memref.extract_aligned_pointer_as_index %[[V]]
// CHECK: %[[VI:.*]] = arith.index_cast %[[VP]] : index to i64
// CHECK: %[[VPTR:.*]] = llvm.inttoptr %[[VI]] : i64 to !llvm.ptr
// CHECK: %[[VDEV:.*]] = call @slrGpuResidentCopy(%[[VPTR]], %c512_i64)
// CHECK: %[[DV:.*]] = builtin.unrealized_conversion_cast %{{.*}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<16x16xbf16>
// CHECK: call @slrGpuResidentCopy(%{{.*}}, %c64_i64)
// CHECK: call @slrGpuResidentCopy(%{{.*}}, %c512_i64{{.*}})
// CHECK: call @slrGpuResidentCopy(%{{.*}}, %c1024_i64)
// CHECK-NOT: gpu.memcpy async [%{{.*}}] %{{.*}}, %[[V]]
// CHECK: gpu.launch_func async [%{{.*}}] @slr_gpu_kernels::@slr_linear_bf16_n16_k32_r16_t16x16x32_w1x1_s2
// CHECK-SAME: args(%[[DX]] : memref<?x32xbf16>, %[[DV]] : memref<16x16xbf16>,
// CHECK-NOT: gpu.memcpy
// CHECK-COUNT-1: gpu.dealloc async
// CHECK-NOT: gpu.dealloc
// CHECK: gpu.wait
// CHECK: call @slrGpuUnstage
// CHECK: call @slrGpuUnstage
func.func @resident(%x: tensor<?x32xbf16>) -> tensor<?x16xbf16> {
  %v = arith.constant dense<1.0> : tensor<16x16xbf16>
  %p = arith.constant dense<9> : tensor<16x8xi8>
  %u = arith.constant dense<0.5> : tensor<16x16xbf16>
  %vt = arith.constant dense<0.25> : tensor<16x32xbf16>
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<16x16xbf16>, tensor<16x32xbf16>) {pattern = #slr.nm<2, 4>} : tensor<?x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x16xbf16>
  return %y : tensor<?x16xbf16>
}

// -----

// The recipe itself is checked by the slr dialect (test/Dialect/SLR/gpu-launch.mlir).

// expected-error @+1 {{'func.func' op slr.gpu_launcher function already has a body}}
func.func private @has_body(%x: memref<?x32xf16>, %v: memref<16x16xf16>, %m: memref<16xi32>, %y: memref<?x16xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, main = @slr_gpu_kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0>} {
  return
}
