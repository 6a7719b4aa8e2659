// --slr-gpu-pipeline end to end without a GPU: PTX from the NVPTX back end
// (always), cubins from ptxas for Ampere and Hopper (where the CUDA toolkit
// is installed), and the host side lowered to calls into the mgpu* runtime.
//
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa" | FileCheck %s --check-prefixes=HOST,PTX
// RUN: %if ptxas %{ slr-opt %s -slr-gpu-pipeline="format=bin chip=sm_80" | FileCheck %s --check-prefixes=HOST,CUBIN %}
// RUN: %if ptxas %{ slr-opt %s -slr-gpu-pipeline="format=bin chip=sm_90a" | FileCheck %s --check-prefixes=HOST,CUBIN %}

// HOST-LABEL: llvm.func @slr_linear_bf16_n128_k64_r16_t128x64x64_w2x2_s3_launch_dynmeta_i8
// x stays where it is when it is device memory, else it is staged.
// HOST: llvm.call @slrGpuStageInput
// HOST: llvm.call @mgpuStreamCreate()
// HOST: llvm.call @mgpuMemAlloc
// HOST: llvm.call @mgpuMemcpy
// HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @slr_gpu_kernels::@slr_reorder_meta_n128_k64_i8
// The low-rank buffer t starts at zero (the projection kernel accumulates).
// HOST: llvm.call @mgpuMemset32
// HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @slr_gpu_kernels::@slr_lowrank_bf16_r16_k64_t64_s3
// HOST: gpu.launch_func <%{{.*}} : !llvm.ptr> @slr_gpu_kernels::@slr_linear_bf16_n128_k64_r16_t128x64x64_w2x2_s3
// HOST: llvm.call @mgpuMemFree
// HOST: llvm.call @mgpuStreamSynchronize
// HOST: llvm.call @mgpuStreamDestroy
// y is copied back (if it was staged) after the stream finished.
// HOST: llvm.call @slrGpuUnstage
// HOST: llvm.call @slrGpuUnstage
// HOST-LABEL: llvm.func @linear
// HOST: llvm.call @slr_linear_bf16_n128_k64_r16_t128x64x64_w2x2_s3_launch_dynmeta_i8

// PTX: gpu.binary @slr_gpu_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx85">
// PTX-SAME: .version 8.5
// PTX-SAME: .target sm_80
// PTX-SAME: .visible .entry slr_linear_bf16_n128_k64_r16_t128x64x64_w2x2_s3(
// PTX-SAME: .maxntid 128, 1, 1
// PTX-SAME: cp.async.cg.shared.global
// PTX-SAME: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX-SAME: mma.sp::ordered_metadata.sync.aligned.m16n8k32.row.col.f32.bf16.bf16.f32
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME: st.global.v4.b32
// PTX-SAME: .visible .entry slr_lowrank_bf16_r16_k64_t64_s3(
// PTX-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-SAME: atom.global.add.f32
// PTX-SAME: .visible .entry slr_reorder_meta_n128_k64_i8(

// A cubin (ELF) assembled by ptxas.
// CUBIN: gpu.binary @slr_gpu_kernels [#gpu.object<#nvvm.target<O = 3, chip = "sm_{{80|90a}}", features = "+ptx85">, properties = {{.*}}, bin = "\7FELF

func.func @linear(%x: tensor<?x64xbf16>, %s: tensor<128x64xbf16>, %u: tensor<128x16xbf16>, %vt: tensor<16x64xbf16>) -> tensor<?x128xbf16> {
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<128x64xbf16> -> tensor<128x32xbf16>, tensor<128x16xi8>
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<128x16xbf16>, tensor<16x64xbf16>) {pattern = #slr.nm<2, 4>} : tensor<?x64xbf16>, tensor<128x32xbf16>, tensor<128x16xi8> -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}
