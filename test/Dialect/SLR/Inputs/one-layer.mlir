func.func @one_layer(%x: tensor<3x8xf32>) -> tensor<3x2xf32> {
  %w = arith.constant dense<[[1.0, -5.0, 2.0, 0.5, 3.0, 3.5, -4.0, 1.0],
                             [0.25, 0.5, -0.75, 1.0, 8.0, 1.0, 1.0, 9.0]]> : tensor<2x8xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x2xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<3x2xf32>) -> tensor<3x2xf32>
  %y = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
         {slr.name = "blk.0.attn_q"}
         ins(%x, %w : tensor<3x8xf32>, tensor<2x8xf32>) outs(%i : tensor<3x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
