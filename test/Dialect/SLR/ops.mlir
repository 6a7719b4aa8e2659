// Round trip through the custom form, the generic form and bytecode.
// RUN: slr-opt %s -split-input-file | slr-opt -split-input-file | FileCheck %s
// RUN: slr-opt %s -split-input-file -mlir-print-op-generic | slr-opt -split-input-file | FileCheck %s
// The separators are plain comments, so the whole file is also one module.
// RUN: slr-opt %s -emit-bytecode | slr-opt | FileCheck %s

// CHECK-LABEL: func @linear_full
// CHECK: slr.linear %{{.*}}, %{{.*}}, %{{.*}} lowrank(%{{.*}}, %{{.*}} : tensor<64x8xf32>, tensor<8x128xf32>) bias(%{{.*}} : tensor<64xf32>) {pattern = #slr.nm<2, 4>, slr.name = "blk.0.ffn_up"} : tensor<4x128xf32>, tensor<64x64xf32>, tensor<64x32xi8> -> tensor<4x64xf32>
func.func @linear_full(%x: tensor<4x128xf32>, %v: tensor<64x64xf32>,
                       %p: tensor<64x32xi8>, %u: tensor<64x8xf32>,
                       %w: tensor<8x128xf32>, %b: tensor<64xf32>)
    -> tensor<4x64xf32> {
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<64x8xf32>, tensor<8x128xf32>)
         bias(%b : tensor<64xf32>) {pattern = #slr.nm<2, 4>, slr.name = "blk.0.ffn_up"}
         : tensor<4x128xf32>, tensor<64x64xf32>, tensor<64x32xi8> -> tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// CHECK-LABEL: func @linear_sparse_only_bf16_batched
// CHECK: slr.linear %{{.*}}, %{{.*}}, %{{.*}} {pattern = #slr.nm<2, 4>} : tensor<?x7x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x7x16xbf16>
func.func @linear_sparse_only_bf16_batched(%x: tensor<?x7x32xbf16>,
    %v: tensor<16x16xbf16>, %p: tensor<16x8xi8>) -> tensor<?x7x16xbf16> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>}
         : tensor<?x7x32xbf16>, tensor<16x16xbf16>, tensor<16x8xi8> -> tensor<?x7x16xbf16>
  return %y : tensor<?x7x16xbf16>
}

// -----

// CHECK-LABEL: func @linear_vector_f16_bias
// CHECK: slr.linear %{{.*}}, %{{.*}}, %{{.*}} bias(%{{.*}} : tensor<8xf16>) {pattern = #slr.nm<2, 4>} : tensor<8xf16>, tensor<8x4xf16>, tensor<8x2xi8> -> tensor<8xf16>
func.func @linear_vector_f16_bias(%x: tensor<8xf16>, %v: tensor<8x4xf16>,
    %p: tensor<8x2xi8>, %b: tensor<8xf16>) -> tensor<8xf16> {
  %y = slr.linear %x, %v, %p bias(%b : tensor<8xf16>) {pattern = #slr.nm<2, 4>}
         : tensor<8xf16>, tensor<8x4xf16>, tensor<8x2xi8> -> tensor<8xf16>
  return %y : tensor<8xf16>
}

// -----

// CHECK-LABEL: func @pack_unpack
// CHECK: %[[V:.*]], %[[P:.*]] = slr.pack %{{.*}} {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xf32>, tensor<4x4xi8>
// CHECK: slr.unpack %[[V]], %[[P]] {pattern = #slr.nm<2, 4>} : tensor<4x8xf32>, tensor<4x4xi8> -> tensor<4x16xf32>
func.func @pack_unpack(%w: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xf32>, tensor<4x4xi8>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x8xf32>, tensor<4x4xi8> -> tensor<4x16xf32>
  return %d : tensor<4x16xf32>
}

// -----

// Other N:M patterns fit the same attribute: 1:4 needs 2 bits, 2:8 six.
// CHECK-LABEL: func @other_patterns
// CHECK: slr.pack %{{.*}} {pattern = #slr.nm<1, 4>} : tensor<2x8xf32> -> tensor<2x2xf32>, tensor<2x2xi8>
// CHECK: slr.pack %{{.*}} {pattern = #slr.nm<2, 8>} : tensor<2x16xf16> -> tensor<2x4xf16>, tensor<2x2xi8>
func.func @other_patterns(%a: tensor<2x8xf32>, %b: tensor<2x16xf16>) {
  %v, %p = slr.pack %a {pattern = #slr.nm<1, 4>} : tensor<2x8xf32> -> tensor<2x2xf32>, tensor<2x2xi8>
  %v2, %p2 = slr.pack %b {pattern = #slr.nm<2, 8>} : tensor<2x16xf16> -> tensor<2x4xf16>, tensor<2x2xi8>
  return
}
