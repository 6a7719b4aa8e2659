// RUN: slr-opt %s -split-input-file -verify-diagnostics

// expected-error @below {{N:M sparsity requires 0 < n < m, got 4:4}}
func.func @nm_n_not_below_m(%w: tensor<4x16xf32>) attributes {p = #slr.nm<4, 4>} {
  return
}

// -----

// expected-error @below {{N:M sparsity requires 0 < n < m, got 0:4}}
func.func @nm_zero_n() attributes {p = #slr.nm<0, 4>} {
  return
}

// -----

// expected-error @below {{N:M sparsity supports m <= 64, got m = 128}}
func.func @nm_m_too_large() attributes {p = #slr.nm<2, 128>} {
  return
}

// -----

func.func @pack_k_not_multiple(%w: tensor<4x18xf32>) {
  // expected-error @below {{'slr.pack' op requires the reduction dimension K = 18 to be a multiple of m = 4 for #slr.nm<2, 4>}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x18xf32> -> tensor<4x9xf32>, tensor<4x4xi8>
  return
}

// -----

func.func @pack_dense_rank(%w: tensor<2x4x16xf32>) {
  // expected-error @below {{'slr.pack' op requires a statically shaped rank-2 dense matrix, got 'tensor<2x4x16xf32>'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<2x4x16xf32> -> tensor<4x8xf32>, tensor<4x4xi8>
  return
}

// -----

func.func @pack_dense_dynamic(%w: tensor<?x16xf32>) {
  // expected-error @below {{'slr.pack' op requires a statically shaped rank-2 dense matrix, got 'tensor<?x16xf32>'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<?x16xf32> -> tensor<4x8xf32>, tensor<4x4xi8>
  return
}

// -----

func.func @pack_element_type_mismatch(%w: tensor<4x16xf32>) {
  // expected-error @below {{'slr.pack' op requires dense matrix and values to have the same element type, got 'f32' and 'bf16'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xbf16>, tensor<4x4xi8>
  return
}

// -----

func.func @pack_values_shape(%w: tensor<4x16xf32>) {
  // expected-error @below {{'slr.pack' op expects values of shape [4, 8] (N x K*n/m), got 'tensor<4x16xf32>'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x16xf32>, tensor<4x4xi8>
  return
}

// -----

func.func @pack_values_rank(%w: tensor<4x16xf32>) {
  // expected-error @below {{'slr.pack' op requires statically shaped rank-2 values, got 'tensor<32xf32>'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<32xf32>, tensor<4x4xi8>
  return
}

// -----

func.func @pack_positions_shape(%w: tensor<4x16xf32>) {
  // expected-error @below {{'slr.pack' op expects positions of shape [4, 4] (N x K/m), got 'tensor<4x8xi8>'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xf32>, tensor<4x8xi8>
  return
}

// -----

func.func @pack_positions_dynamic(%w: tensor<4x16xf32>) {
  // expected-error @below {{'slr.pack' op requires statically shaped rank-2 positions, got 'tensor<?x4xi8>'}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xf32>, tensor<?x4xi8>
  return
}

// -----

func.func @pack_positions_too_narrow(%w: tensor<4x16xf32>) {
  // expected-error @below {{'slr.pack' op positions element type 'i2' is too narrow: #slr.nm<2, 4> needs 4 bits per group}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf32> -> tensor<4x8xf32>, tensor<4x4xi2>
  return
}

// -----

func.func @pack_f64(%w: tensor<4x16xf64>) {
  // expected-error @below {{'slr.pack' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values}}
  %v, %p = slr.pack %w {pattern = #slr.nm<2, 4>} : tensor<4x16xf64> -> tensor<4x8xf64>, tensor<4x4xi8>
  return
}

// -----

func.func @unpack_dense_shape(%v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.unpack' op expects values of shape [4, 10] (N x K*n/m), got 'tensor<4x8xf32>'}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x8xf32>, tensor<4x4xi8> -> tensor<4x20xf32>
  return
}

// -----

func.func @unpack_element_type(%v: tensor<4x8xf16>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.unpack' op requires dense matrix and values to have the same element type, got 'f32' and 'f16'}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x8xf16>, tensor<4x4xi8> -> tensor<4x16xf32>
  return
}

// -----

func.func @unpack_positions_float(%v: tensor<4x8xf32>, %p: tensor<4x4xf32>) {
  // expected-error @below {{'slr.unpack' op operand #1 must be ranked tensor of signless integer values}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x8xf32>, tensor<4x4xf32> -> tensor<4x16xf32>
  return
}

// -----

func.func @linear_input_rank0(%x: tensor<f32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires an input of rank >= 1, got 'tensor<f32>'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<f32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<4xf32>
  return
}

// -----

func.func @linear_k_dynamic(%x: tensor<2x?xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires a static reduction dimension K}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x?xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_k_not_multiple(%x: tensor<2x18xf32>, %v: tensor<4x9xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires the reduction dimension K = 18 to be a multiple of m = 4 for #slr.nm<2, 4>}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x18xf32>, tensor<4x9xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_values_k_mismatch(%x: tensor<2x32xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op expects values of shape [4, 16] (N x K*n/m), got 'tensor<4x8xf32>'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x32xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_positions_rows(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<3x4xi8>) {
  // expected-error @below {{'slr.linear' op expects positions of shape [4, 4] (N x K/m), got 'tensor<3x4xi8>'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<3x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_values_element_type(%x: tensor<2x16xf32>, %v: tensor<4x8xbf16>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires values element type 'bf16' to match the input element type 'f32'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xbf16>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_result_element_type(%x: tensor<2x16xf16>, %v: tensor<4x8xf16>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires result element type 'f32' to match the input element type 'f16'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x16xf16>, tensor<4x8xf16>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_u_element_type(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<4x2xf16>, %w: tensor<2x16xf32>) {
  // expected-error @below {{'slr.linear' op requires U element type 'f16' to match the input element type 'f32'}}
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x2xf16>, tensor<2x16xf32>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_v_element_type(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<4x2xf32>, %w: tensor<2x16xbf16>) {
  // expected-error @below {{'slr.linear' op requires V element type 'bf16' to match the input element type 'f32'}}
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x2xf32>, tensor<2x16xbf16>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_bias_element_type(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %b: tensor<4xf16>) {
  // expected-error @below {{'slr.linear' op requires bias element type 'f16' to match the input element type 'f32'}}
  %y = slr.linear %x, %v, %p bias(%b : tensor<4xf16>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_u_without_v(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<4x2xf32>) {
  // expected-error @below {{'slr.linear' op requires both low-rank factors U and V or neither}}
  %y = "slr.linear"(%x, %v, %p, %u) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0>, pattern = #slr.nm<2, 4>}> : (tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8>, tensor<4x2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_u_dynamic(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<4x?xf32>, %w: tensor<2x16xf32>) {
  // expected-error @below {{'slr.linear' op requires statically shaped rank-2 U and V}}
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x?xf32>, tensor<2x16xf32>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_u_rows(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<5x2xf32>, %w: tensor<2x16xf32>) {
  // expected-error @below {{'slr.linear' op expects U with 4 rows (N), got 'tensor<5x2xf32>'}}
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<5x2xf32>, tensor<2x16xf32>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_v_columns(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<4x2xf32>, %w: tensor<2x12xf32>) {
  // expected-error @below {{'slr.linear' op expects V with 16 columns (K), got 'tensor<2x12xf32>'}}
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x2xf32>, tensor<2x12xf32>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_rank_mismatch(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %u: tensor<4x2xf32>, %w: tensor<3x16xf32>) {
  // expected-error @below {{'slr.linear' op requires the rank of U (2) and V (3) to agree}}
  %y = slr.linear %x, %v, %p lowrank(%u, %w : tensor<4x2xf32>, tensor<3x16xf32>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_bias_shape(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>, %b: tensor<8xf32>) {
  // expected-error @below {{'slr.linear' op expects a bias of shape [4], got 'tensor<8xf32>'}}
  %y = slr.linear %x, %v, %p bias(%b : tensor<8xf32>) {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_result_rank(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires the result rank to equal the input rank (2), got 'tensor<1x2x4xf32>'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<1x2x4xf32>
  return
}

// -----

func.func @linear_result_features(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op expects the result's last dimension to be N = 4, got 'tensor<2x5xf32>'}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x5xf32>
  return
}

// -----

func.func @linear_batch_mismatch(%x: tensor<3x2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op result batch dimension 1 (5) does not match the input (2)}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<3x2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<3x5x4xf32>
  return
}

// -----

func.func @linear_missing_pattern(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) {
  // expected-error @below {{'slr.linear' op requires attribute 'pattern'}}
  %y = slr.linear %x, %v, %p : tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8> -> tensor<2x4xf32>
  return
}

// -----

// A group's positions are one 64-bit word: 13:32 needs 13 x 5 = 65 bits.
// expected-error @below {{N:M sparsity 13:32 needs 13 x 5 = 65 position bits per group, more than the 64 that fit; with m = 32 at most n = 12 fits}}
func.func @nm_positions_overflow_32() attributes {p = #slr.nm<13, 32>} {
  return
}

// -----

// expected-error @below {{N:M sparsity 11:64 needs 11 x 6 = 66 position bits per group, more than the 64 that fit; with m = 64 at most n = 10 fits}}
func.func @nm_positions_overflow_64() attributes {p = #slr.nm<11, 64>} {
  return
}

// -----

// Positions must be distinct and ascending per group (slr.pack's layout); a
// duplicate would silently drop a value.
func.func @unpack_duplicate_positions() -> tensor<2x8xf32> {
  %v = arith.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]> : tensor<2x4xf32>
  // 1 | 1<<2 = 5
  %p = arith.constant dense<[[9, 12], [4, 5]]> : tensor<2x2xi8>
  // expected-error @below {{'slr.unpack' op constant positions of row 1, group 1 are not in the packed layout of #slr.nm<2, 4>: word 5 holds positions 1, 1, but positions must be distinct and ascending}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x4xf32>, tensor<2x2xi8> -> tensor<2x8xf32>
  return %d : tensor<2x8xf32>
}

// -----

func.func @unpack_descending_positions() -> tensor<1x4xf32> {
  %v = arith.constant dense<[[1.0, 2.0]]> : tensor<1x2xf32>
  // 3 | 1<<2 = 7
  %p = arith.constant dense<7> : tensor<1x1xi8>
  // expected-error @below {{'slr.unpack' op constant positions of row 0, group 0 are not in the packed layout of #slr.nm<2, 4>: word 7 holds positions 3, 1, but positions must be distinct and ascending}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<1x2xf32>, tensor<1x1xi8> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

func.func @unpack_position_out_of_group(%v: tensor<1x2xf32>) -> tensor<1x5xf32> {
  // 2:5 takes 3 bits per position: 1 | 6<<3 = 49, and 6 >= m.
  %p = arith.constant dense<49> : tensor<1x1xi8>
  // expected-error @below {{'slr.unpack' op constant positions of row 0, group 0 are not in the packed layout of #slr.nm<2, 5>: word 49 holds positions 1, 6, but positions must be below m = 5}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 5>} : tensor<1x2xf32>, tensor<1x1xi8> -> tensor<1x5xf32>
  return %d : tensor<1x5xf32>
}

// -----

func.func @unpack_stray_high_bits(%v: tensor<1x2xf32>) -> tensor<1x4xf32> {
  // 1 | 3<<2 | 1<<4 = 29: bit 4 is not a position bit of 2:4.
  %p = arith.constant dense<29> : tensor<1x1xi8>
  // expected-error @below {{'slr.unpack' op constant positions of row 0, group 0 are not in the packed layout of #slr.nm<2, 4>: word 29 has bits set above the 4 that hold its positions}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<1x2xf32>, tensor<1x1xi8> -> tensor<1x4xf32>
  return %d : tensor<1x4xf32>
}

// -----

func.func @linear_duplicate_positions(%x: tensor<2x4xf32>, %v: tensor<1x2xf32>) -> tensor<2x1xf32> {
  %p = arith.constant dense<0> : tensor<1x1xi8>
  // expected-error @below {{'slr.linear' op constant positions of row 0, group 0 are not in the packed layout of #slr.nm<2, 4>: word 0 holds positions 0, 0, but positions must be distinct and ascending}}
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<2x4xf32>, tensor<1x2xf32>, tensor<1x1xi8> -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

// operandSegmentSizes must give each required operand exactly one value:
// here positions would take two and the second would be dropped.
func.func @linear_segment_extra_operand(%x: tensor<2x16xf32>, %v: tensor<4x8xf32>, %p: tensor<4x4xi8>) -> tensor<2x4xf32> {
  // expected-error @below {{'slr.linear' op operandSegmentSizes gives positions 2 operands; it takes exactly 1}}
  %y = "slr.linear"(%x, %v, %p, %p) <{operandSegmentSizes = array<i32: 1, 1, 2, 0, 0, 0>, pattern = #slr.nm<2, 4>}> : (tensor<2x16xf32>, tensor<4x8xf32>, tensor<4x4xi8>, tensor<4x4xi8>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

func.func @linear_segment_missing_operand(%x: tensor<2x16xf32>, %p: tensor<4x4xi8>, %b: tensor<4xf32>) -> tensor<2x4xf32> {
  // expected-error @below {{'slr.linear' op operandSegmentSizes gives values 0 operands; it takes exactly 1}}
  %y = "slr.linear"(%x, %p, %b) <{operandSegmentSizes = array<i32: 1, 0, 1, 0, 0, 1>, pattern = #slr.nm<2, 4>}> : (tensor<2x16xf32>, tensor<4x4xi8>, tensor<4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// The same check reads positions kept as a resource blob (what
// --slr-compress writes for large layers).
func.func @unpack_duplicate_positions_resource(%v: tensor<1x4xf32>) -> tensor<1x8xf32> {
  %p = arith.constant dense_resource<dup_positions> : tensor<1x2xi8>
  // expected-error @below {{'slr.unpack' op constant positions of row 0, group 1 are not in the packed layout of #slr.nm<2, 4>: word 10 holds positions 2, 2, but positions must be distinct and ascending}}
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<1x4xf32>, tensor<1x2xi8> -> tensor<1x8xf32>
  return %d : tensor<1x8xf32>
}

{-#
  dialect_resources: {
    builtin: {
      dup_positions: "0x010000000D0A"
    }
  }
#-}
