// RUN: slr-opt %s -split-input-file -canonicalize | FileCheck %s

// A rank-0 low-rank part contributes nothing.
// CHECK-LABEL: func @drop_rank0_lowrank
// CHECK: slr.linear %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {pattern = #slr.nm<2, 4>, slr.name = "blk.1.attn_q"} :
// CHECK-NOT: lowrank
func.func @drop_rank0_lowrank(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>,
                              %u: tensor<4x0xf32>, %w: tensor<0x16xf32>) -> tensor<2x4xf32> {
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x0xf32>, tensor<0x16xf32>)
         {pattern = #slr.nm<2, 4>, slr.name = "blk.1.attn_q"}
         : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// A zero factor makes U*V zero; a zero bias adds nothing.
// CHECK-LABEL: func @drop_zero_terms
// CHECK: slr.linear %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} {pattern = #slr.nm<2, 4>} :
func.func @drop_zero_terms(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>,
                           %w: tensor<2x16xf32>) -> tensor<2x4xf32> {
  %u = arith.constant dense<0.0> : tensor<4x2xf32>
  %b = arith.constant dense<0.0> : tensor<4xf32>
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x2xf32>, tensor<2x16xf32>)
         bias(%b : tensor<4xf32>) {pattern = #slr.nm<2, 4>}
         : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Non-zero terms stay.
// CHECK-LABEL: func @keep_nonzero_terms
// CHECK: slr.linear {{.*}} lowrank({{.*}}) bias({{.*}})
func.func @keep_nonzero_terms(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>,
                              %w: tensor<2x16xf32>) -> tensor<2x4xf32> {
  %u = arith.constant dense<1.0> : tensor<4x2xf32>
  %b = arith.constant dense<[0.0, 0.0, 0.5, 0.0]> : tensor<4xf32>
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x2xf32>, tensor<2x16xf32>)
         bias(%b : tensor<4xf32>) {pattern = #slr.nm<2, 4>}
         : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// Packing a constant folds. Row 0: groups [0,1,0,2] -> positions 1,3
// (1 | 3<<2 = 13), [3,0,0,0] -> 0 topped up with 1 (0 | 1<<2 = 4).
// Row 1: [5,6,7,0] keeps the first two non-zeros (4), [0,0,0,-1] -> 0,3 (12).
// CHECK-LABEL: func @fold_pack
// CHECK-DAG: arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00, 0.000000e+00], [5.000000e+00, 6.000000e+00, 0.000000e+00, -1.000000e+00]]> : tensor<2x4xf32>
// CHECK-DAG: arith.constant dense<{{\[}}[13, 4], [4, 12]]> : tensor<2x2xi8>
// CHECK-NOT: slr.pack
func.func @fold_pack() -> (tensor<2x4xf32>, tensor<2x2xi8>) {
  %c = arith.constant dense<[[0.0, 1.0, 0.0, 2.0, 3.0, 0.0, 0.0, 0.0],
                             [5.0, 6.0, 7.0, 0.0, 0.0, 0.0, 0.0, -1.0]]> : tensor<2x8xf32>
  %v, %p = slr.pack %c {pattern = #slr.nm<2, 4>} : tensor<2x8xf32> -> tensor<2x4xf32>, tensor<2x2xi8>
  return %v, %p : tensor<2x4xf32>, tensor<2x2xi8>
}

// -----

// Unpacking constants folds; 2:8 uses 3 bits per position: 2 | 6<<3 = 50.
// CHECK-LABEL: func @fold_unpack_2_8
// CHECK: arith.constant dense<{{\[}}[0.000000e+00, 0.000000e+00, 1.500000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, -2.000000e+00, 0.000000e+00]]> : tensor<1x8xbf16>
// CHECK-NOT: slr.unpack
func.func @fold_unpack_2_8() -> tensor<1x8xbf16> {
  %v = arith.constant dense<[[1.5, -2.0]]> : tensor<1x2xbf16>
  %p = arith.constant dense<[[50]]> : tensor<1x1xi8>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 8>} : tensor<1x2xbf16>, tensor<1x1xi8> -> tensor<1x8xbf16>
  return %d : tensor<1x8xbf16>
}

// -----

// The largest pattern whose positions fit 64 bits, 12:32 (12 x 5 = 60 bits),
// folds exactly both ways; the last position (31) sits at bits 55-59:
// 0 | 2<<5 | 4<<10 | ... | 20<<50 | 31<<55 = 1140062110873751616.
// CHECK-LABEL: func @fold_pack_12_32
// CHECK-DAG: arith.constant dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00, 9.000000e+00, 1.000000e+01, 1.100000e+01, 1.200000e+01]]> : tensor<1x12xf32>
// CHECK-DAG: arith.constant dense<1140062110873751616> : tensor<1x1xi64>
// CHECK-NOT: slr.pack
func.func @fold_pack_12_32() -> (tensor<1x12xf32>, tensor<1x1xi64>) {
  %c = arith.constant dense<[[1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0, 0.0, 5.0, 0.0, 6.0, 0.0, 7.0, 0.0, 8.0, 0.0, 9.0, 0.0, 10.0, 0.0, 11.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 12.0]]> : tensor<1x32xf32>
  %v, %p = slr.pack %c {pattern = #slr.nm<12, 32>} : tensor<1x32xf32> -> tensor<1x12xf32>, tensor<1x1xi64>
  return %v, %p : tensor<1x12xf32>, tensor<1x1xi64>
}

// -----

// CHECK-LABEL: func @fold_unpack_12_32
// CHECK: arith.constant dense<{{\[}}[1.000000e+00, 0.000000e+00, 2.000000e+00, 0.000000e+00, 3.000000e+00, 0.000000e+00, 4.000000e+00, 0.000000e+00, 5.000000e+00, 0.000000e+00, 6.000000e+00, 0.000000e+00, 7.000000e+00, 0.000000e+00, 8.000000e+00, 0.000000e+00, 9.000000e+00, 0.000000e+00, 1.000000e+01, 0.000000e+00, 1.100000e+01, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00, 1.200000e+01]]> : tensor<1x32xf32>
// CHECK-NOT: slr.unpack
func.func @fold_unpack_12_32() -> tensor<1x32xf32> {
  %v = arith.constant dense<[[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]]> : tensor<1x12xf32>
  %p = arith.constant dense<[[1140062110873751616]]> : tensor<1x1xi64>
  %d = slr.unpack %v, %p {pattern = #slr.nm<12, 32>} : tensor<1x12xf32>, tensor<1x1xi64> -> tensor<1x32xf32>
  return %d : tensor<1x32xf32>
}
