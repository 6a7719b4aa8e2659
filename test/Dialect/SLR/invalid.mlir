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
