// Errors of --slr-compress: each stops the pass with a located diagnostic.
// RUN: %python %S/Inputs/make-calibration.py %t.good.safetensors blk.0.attn_q:8
// RUN: %python %S/Inputs/make-calibration.py %t.wrong-k.safetensors blk.0.attn_q:12
// RUN: %python %S/Inputs/make-calibration.py %t.nan.safetensors blk.0.attn_q:8:nan
// RUN: slr-opt %s -split-input-file -slr-compress="calibration=%t.good.safetensors quiet=1" -verify-diagnostics
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.wrong-k.safetensors quiet=1" 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.nan.safetensors quiet=1" 2>&1 | FileCheck %s --check-prefix=NANH
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.missing.safetensors quiet=1" 2>&1 | FileCheck %s --check-prefix=NOFILE
// RUN: not slr-opt %s -split-input-file -slr-compress="quiet=1" 2>&1 | FileCheck %s --check-prefix=NOCALIB
// RUN: not slr-opt %s -split-input-file -slr-compress="method=magnitude sparsity=4:4 quiet=1" 2>&1 | FileCheck %s --check-prefix=BADPATTERN
// RUN: not slr-opt %s -split-input-file -slr-compress="method=best quiet=1" 2>&1 | FileCheck %s --check-prefix=BADMETHOD
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.good.safetensors warm-start-rounds=-1 quiet=1" 2>&1 | FileCheck %s --check-prefix=BADWARM
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.good.safetensors max-warm-start-rounds=-1 quiet=1" 2>&1 | FileCheck %s --check-prefix=BADMAXWARM
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.good.safetensors mask-search-rounds=-1 quiet=1" 2>&1 | FileCheck %s --check-prefix=BADMASKSEARCH
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.good.safetensors refit-iterations=-2 quiet=1" 2>&1 | FileCheck %s --check-prefix=BADREFIT
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.good.safetensors damping-scale=max quiet=1" 2>&1 | FileCheck %s --check-prefix=BADDAMP
// RUN: printf 'not a safetensors file' > %t.corrupt.safetensors
// RUN: not slr-opt %s -split-input-file -slr-compress="calibration=%t.corrupt.safetensors quiet=1" 2>&1 | FileCheck %s --check-prefix=CORRUPT

// SHAPE: error: slr-compress: calibration matrix for 'blk.0.attn_q' is 12x12 but the layer has K = 8 input features
// NANH: error: slr-compress: calibration file '{{.*}}nan.safetensors': matrix 'blk.0.attn_q' contains NaN or Inf
// NOFILE: error: slr-compress: calibration file '{{.*}}missing.safetensors': {{.*}}
// NOCALIB: error: slr-compress: method 'slr' needs calibration=<file> (see slr-calibrate)
// BADPATTERN: error: slr-compress: sparsity 4:4 needs 0 < N < M <= 64
// BADMETHOD: error: slr-compress: unknown method 'best'; expected one of: magnitude, wanda, sparsegpt, oats, 3basil, hassle-free, slr
// BADWARM: error: slr-compress: warm-start-rounds must be >= 0
// BADMAXWARM: error: slr-compress: max-warm-start-rounds must be >= 0
// BADMASKSEARCH: error: slr-compress: mask-search-rounds must be >= 0
// BADREFIT: error: slr-compress: refit-iterations must be >= 0 (or -1: the default)
// BADDAMP: error: slr-compress: unknown damping-scale 'max' (expected median or mean)
// CORRUPT: error: slr-compress: calibration file '{{.*}}corrupt.safetensors': safetensors: header length {{[0-9]+}} exceeds the file size 22

func.func @missing_entry(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<1.0> : tensor<2x8xf32>
  // expected-error @below {{slr-compress: calibration file has no entry for layer 'blk.7.ffn_down'}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.7.ffn_down"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @nan_weight(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 0x7FC00000, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]]> : tensor<2x8xf32>
  // expected-error @below {{slr-compress: weight of layer 'blk.0.attn_q' contains NaN or Inf}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

func.func @elided_resource(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense_resource<__elided__> : tensor<2x8xf32>
  // expected-error @below {{slr-compress: weight resource '__elided__' has no data (elided or missing blob)}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// The calibrated layer itself compresses fine; with calibration a rank-r part
// appears (K = 8 clamps rank 64 to min(N, K) = 2, with a warning).
// CHECK-NOT: error
func.func @ok(%x: tensor<3x8xf32>, %i: tensor<3x2xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], [1.0, -1.0, 1.0, -1.0, 1.0, -1.0, 1.0, -1.0]]> : tensor<2x8xf32>
  // expected-warning @below {{slr-compress: rank 64 exceeds min(N, K) of layer 'blk.0.attn_q' (2x8); it gets rank 2}}
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
