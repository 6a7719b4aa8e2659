// Compressed layers for slr-gpu-kernels --model: one the GPU kernels take
// (32 x 64, rank 8, padded to 16 on export), one whose N they refuse.
func.func @layers(%x: tensor<?x64xf32>) -> (tensor<?x32xf32>, tensor<?x24xf32>) {
  %v = arith.constant dense<0.5> : tensor<32x32xf32>
  %p = arith.constant dense<9> : tensor<32x16xi8>
  %u = arith.constant dense<0.25> : tensor<32x8xf32>
  %vt = arith.constant dense<-0.125> : tensor<8x64xf32>
  %y = slr.linear %x, %v, %p lowrank(%u, %vt : tensor<32x8xf32>, tensor<8x64xf32>) {pattern = #slr.nm<2, 4>, slr.name = "blk.0.attn_k"} : tensor<?x64xf32>, tensor<32x32xf32>, tensor<32x16xi8> -> tensor<?x32xf32>
  %v2 = arith.constant dense<0.5> : tensor<24x32xf32>
  %p2 = arith.constant dense<9> : tensor<24x16xi8>
  %z = slr.linear %x, %v2, %p2 {pattern = #slr.nm<2, 4>, slr.name = "blk.0.odd"} : tensor<?x64xf32>, tensor<24x32xf32>, tensor<24x16xi8> -> tensor<?x24xf32>
  return %y, %z : tensor<?x32xf32>, tensor<?x24xf32>
}
