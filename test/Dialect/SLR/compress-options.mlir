// How --slr-compress reports bad options and module-level problems: one
// error line (no dump of the model, no llvm::cl message before an empty
// "error:"), a non-zero exit and no output file.
// RUN: %python %S/Inputs/make-calibration.py %t.h.safetensors blk.0.attn_q:8
//
// RUN: rm -f %t.out && not slr-opt %s -slr-compress="method=magnitude rank=abc" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=RANK < %t.err && count 1 < %t.err && not test -e %t.out
// RANK: error: slr-compress: rank must be an integer, got 'abc'
//
// RUN: not slr-opt %s -slr-compress="method=magnitude seed=-1" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=SEED < %t.err && count 1 < %t.err && not test -e %t.out
// SEED: error: slr-compress: seed must be a non-negative integer, got '-1'
//
// RUN: not slr-opt %s -slr-compress="method=magnitude quiet=maybe" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=BOOL < %t.err && count 1 < %t.err && not test -e %t.out
// BOOL: error: slr-compress: quiet must be true or false (or 1 or 0), got 'maybe'
//
// RUN: not slr-opt %s "-slr-compress=method=magnitude percdamp=0.5x" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=DOUBLE < %t.err && count 1 < %t.err && not test -e %t.out
// DOUBLE: error: slr-compress: percdamp must be a number, got '0.5x'
//
// RUN: not slr-opt %s -slr-compress="method=magnitude percdamp=inf" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=INF < %t.err && count 1 < %t.err && not test -e %t.out
// INF: error: slr-compress: percdamp must be a finite number >= 0
//
// RUN: not slr-opt %s -slr-compress="method=oats compression-ratio=nan calibration=%t.h.safetensors" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=RATIO < %t.err && count 1 < %t.err && not test -e %t.out
// RATIO: error: slr-compress: compression-ratio must be a finite number
//
// RUN: not slr-opt %s -slr-compress="method=magnitude rank=-1" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=NEGRANK < %t.err && count 1 < %t.err && not test -e %t.out
// NEGRANK: error: slr-compress: rank must be >= 0
//
// Positions of one group are one 64-bit word: 13:32 needs 65 bits.
// RUN: not slr-opt %s -slr-compress="method=magnitude sparsity=13:32" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=WIDE < %t.err && count 1 < %t.err && not test -e %t.out
// WIDE: error: slr-compress: sparsity 13:32 needs 65 bits for the positions of a group, more than the 64 that fit; with M = 32 at most N = 12
// RUN: not slr-opt %s -slr-compress="method=magnitude sparsity=31:32" -o %t.out 2>&1 | FileCheck %s --check-prefix=WIDER
// WIDER: error: slr-compress: sparsity 31:32 needs 155 bits
//
// Module-level problems: one line at the module's location, no dump.
// RUN: not slr-opt %s -slr-compress="calibration=%t.missing.safetensors" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=NOFILE < %t.err && count 1 < %t.err && not test -e %t.out
// NOFILE: compress-options.mlir:0:0: error: slr-compress: calibration file '{{.*}}missing.safetensors': {{.*}}
//
// Layer-level problems: at the layer's op, without a dump of it.
// RUN: %python %S/Inputs/make-calibration.py %t.k12.safetensors blk.0.attn_q:12
// RUN: not slr-opt %s -slr-compress="calibration=%t.k12.safetensors" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=LAYER < %t.err && not test -e %t.out
// LAYER: compress-options.mlir:{{[0-9]+}}:8: error: slr-compress: calibration matrix for 'blk.0.attn_q' is 12x12 but the layer has K = 8 input features
// LAYER-NOT: see current operation
//
// A layers regex that selects nothing, or a pattern that divides no K,
// compresses nothing: an error, not exit 0.
// RUN: not slr-opt %s -slr-compress="method=magnitude layers=^blk\.9" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=NOLAYER < %t.err && count 1 < %t.err && not test -e %t.out
// NOLAYER: error: slr-compress: layers='^blk\.9' selects no layer (compressible: 1, e.g. 'blk.0.attn_q')
// RUN: not slr-opt %s -slr-compress="method=magnitude sparsity=2:3" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=NOFIT < %t.err && not test -e %t.out
// NOFIT: warning: slr-compress: left 'blk.0.attn_q' dense: K = 8 is not a multiple of M = 3 (sparsity 2:3)
// NOFIT: error: slr-compress: sparsity 2:3 compresses no layer: K is not a multiple of M = 3 in any of the 1 selected
// NOFIT-NOT: see current operation
//
// A rank above min(N, K) is clamped with a warning, and the report says so.
// RUN: slr-opt %s -slr-compress="calibration=%t.h.safetensors rank=100 iterations=2 quiet=1 report=%t.json" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=CLAMP < %t.err && FileCheck %s --check-prefix=CLAMPREPORT < %t.json
// CLAMP: warning: slr-compress: rank 100 exceeds min(N, K) of layer 'blk.0.attn_q' (2x8); it gets rank 2
// CLAMPREPORT: "rank": 2,
// CLAMPREPORT-NEXT: "rank_requested": 100,
// Layers left dense are in the report with the reason.
// CLAMPREPORT: "left_dense": [
// CLAMPREPORT-NEXT: {
// CLAMPREPORT-NEXT: "name": "one_layer.linear1",
// CLAMPREPORT-NEXT: "reason": "weight operand is not a constant"

func.func @one_layer(%x: tensor<3x8xf32>, %wt: tensor<8x2xf32>) -> (tensor<3x2xf32>, tensor<3x2xf32>) {
  %w = arith.constant dense<[[1.0, -5.0, 2.0, 0.5, 3.0, 3.5, -4.0, 1.0],
                             [0.25, 0.5, -0.75, 1.0, 8.0, 1.0, 1.0, 9.0]]> : tensor<2x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  %z = linalg.matmul ins(%x, %wt : tensor<3x8xf32>, tensor<8x2xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y, %z : tensor<3x2xf32>, tensor<3x2xf32>
}
