// The compression does not depend on the scale of H: H * 2^-996 gives the
// very same model as H (it used to fail in LAPACK, "dsyevr info = -6", once
// products of H underflowed), and H * 1e-300 compresses too.
// RUN: %python %S/Inputs/make-calibration.py %t.h.safetensors blk.0.attn_q:8
// RUN: %python %S/Inputs/make-calibration.py %t.pow2.safetensors blk.0.attn_q:8:gram*0x1p-996
// RUN: %python %S/Inputs/make-calibration.py %t.tiny.safetensors blk.0.attn_q:8:gram*1e-300
// RUN: %python %S/Inputs/make-calibration.py %t.huge.safetensors blk.0.attn_q:8:gram*1e300
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.h.safetensors rank=1 iterations=3 quiet=1" -o %t.h.mlir
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.pow2.safetensors rank=1 iterations=3 quiet=1" -o %t.pow2.mlir
// RUN: diff %t.h.mlir %t.pow2.mlir
// RUN: FileCheck %s < %t.h.mlir
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.tiny.safetensors rank=1 iterations=3 quiet=1" | FileCheck %s
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.huge.safetensors rank=1 iterations=3 quiet=1" | FileCheck %s
// RUN: slr-opt %S/Inputs/one-layer.mlir -slr-compress="calibration=%t.tiny.safetensors method=sparsegpt quiet=1" | FileCheck %s --check-prefix=PRUNE
// CHECK: slr.linear {{.*}} lowrank({{.*}} : tensor<2x1xf32>, tensor<1x8xf32>) {pattern = #slr.nm<2, 4>, slr.name = "blk.0.attn_q"}
// PRUNE: slr.linear {{.*}} {pattern = #slr.nm<2, 4>, slr.name = "blk.0.attn_q"}
