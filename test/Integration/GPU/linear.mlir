// slr.linear on sparse tensor cores against a host reference, for bf16 and
// f16 and two tilings. The data are pseudo-random integers in {-1, 0, 1}
// generated here, so every product and sum is exact and the GPU result must
// equal the f32 reference bit for bit; each case also checks that its
// results (and t = x*V^T, which the kernels round to the element type) stay
// in the range where the element type holds integers exactly.
//
// Cases 1-6 have a dynamic M (mma_sp_sm80 kernels); cases 7-10 a static M
// of at most 16, which selects the decode kernel (decode_sm80: K split
// across CTAs, f32 atomics, the last CTA of a row tile writes y). Cases 11
// and 12 have a dynamic M and shapes the sm_90a kernel tiles (N, K and the
// rank multiples of 128, 64 and 64): with chip=sm_90a they, and case 3,
// run wgmma_sp_sm90a (TMA, mbarriers, warp-specialised
// wgmma.mma_async.sp); the other dynamic-M cases keep mma_sp_sm80 there.
//
// Every configuration runs on the PTX simulator (PTX, format=isa; sm_80 and
// sm_90a targets) on every machine, and on the GPU (fatbin) where there is
// one.
//
// REQUIRES: cuda-sim
// RUN: sed -e 's/ELT/bf16/g' -e 's/LIMIT/256.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
// RUN: sed -e 's/ELT/f16/g' -e 's/LIMIT/2048.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
// RUN: sed -e 's/ELT/f16/g' -e 's/LIMIT/2048.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa chip=sm_90a" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
// RUN: sed -e 's/ELT/bf16/g' -e 's/LIMIT/256.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa chip=sm_90a" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
// RUN: sed -e 's/ELT/bf16/g' -e 's/LIMIT/256.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline="format=isa tile-n=32 tile-m=16 tile-k=32 warps-n=2 warps-m=1 stages=2" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s
//
// RUN: %if cuda-gpu %{ sed -e 's/ELT/bf16/g' -e 's/LIMIT/256.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_runtime,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s %}
// RUN: %if cuda-gpu %{ sed -e 's/ELT/f16/g' -e 's/LIMIT/2048.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_runtime,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s %}
// RUN: %if cuda-gpu %{ sed -e 's/ELT/bf16/g' -e 's/LIMIT/256.0/g' %s \
// RUN: | slr-opt -slr-gpu-pipeline="tile-n=32 tile-m=16 tile-k=32 warps-n=2 warps-m=1 stages=2" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_runtime,%mlir_runner_utils,%mlir_c_runner_utils \
// RUN: | FileCheck %s %}
//
// Per case: id, mismatches against the reference, 1 if every value is in
// the exact range, number of outputs.
// CHECK: 1, 0, 1, 8960
// CHECK: 2, 0, 1, 256
// CHECK: 3, 0, 1, 768
// CHECK: 4, 0, 1, 16640
// CHECK: 5, 0, 1, 76800
// CHECK: 6, 0, 1, 0
// CHECK: 7, 0, 1, 256
// CHECK: 8, 0, 1, 960
// CHECK: 9, 0, 1, 2048
// CHECK: 10, 0, 1, 144
// CHECK: 11, 0, 1, 51200
// CHECK: 12, 0, 1, 16640

func.func private @printI64(i64)
func.func private @printComma()
func.func private @printNewline()

// A pseudo-random integer in {-1, 0, 1} from (seed, i, j): a multiplicative
// hash with xor-shift mixing, the same on every machine.
func.func @unit(%seed: i64, %i: index, %j: index) -> f32 {
  %ii = arith.index_cast %i : index to i64
  %jj = arith.index_cast %j : index to i64
  %prime = arith.constant 1000003 : i64
  %mix = arith.constant -4658895280553007687 : i64
  %c29 = arith.constant 29 : i64
  %c32 = arith.constant 32 : i64
  %c3 = arith.constant 3 : i64
  %c1 = arith.constant 1 : i64
  %h0 = arith.muli %seed, %prime : i64
  %h1 = arith.addi %h0, %ii : i64
  %h2 = arith.muli %h1, %prime : i64
  %h3 = arith.addi %h2, %jj : i64
  %s1 = arith.shrui %h3, %c29 : i64
  %h4 = arith.xori %h3, %s1 : i64
  %h5 = arith.muli %h4, %mix : i64
  %s2 = arith.shrui %h5, %c32 : i64
  %h6 = arith.xori %h5, %s2 : i64
  %r = arith.remui %h6, %c3 : i64
  %v = arith.subi %r, %c1 : i64
  %f = arith.sitofp %v : i64 to f32
  return %f : f32
}

// A rows x cols matrix of unit() values.
func.func @fill(%rows: index, %cols: index, %seed: i64) -> tensor<?x?xf32> {
  %e = tensor.empty(%rows, %cols) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %v = func.call @unit(%seed, %i, %j) : (i64, index, index) -> f32
    linalg.yield %v : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// A 2:4-sparse rows x cols matrix: every group of 4 keeps one of the six
// position pairs (chosen by a hash), with unit() values (so some groups keep
// fewer than two non-zeros).
func.func @sparse24(%rows: index, %cols: index, %seed: i64) -> tensor<?x?xf32> {
  %e = tensor.empty(%rows, %cols) : tensor<?x?xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      outs(%e : tensor<?x?xf32>) {
  ^bb0(%out: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c4 = arith.constant 4 : index
    %g = arith.divui %j, %c4 : index
    %p = arith.remui %j, %c4 : index
    // q in 0..5 indexes (0,1) (0,2) (0,3) (1,2) (1,3) (2,3).
    %u = func.call @unit(%seed, %i, %g) : (i64, index, index) -> f32
    %u2 = func.call @unit(%seed, %g, %i) : (i64, index, index) -> f32
    %one = arith.constant 1.0 : f32
    %three = arith.constant 3.0 : f32
    %a = arith.addf %u, %one : f32
    %b = arith.addf %u2, %one : f32
    %q3 = arith.mulf %a, %three : f32
    %q6 = arith.addf %q3, %b : f32
    %six = arith.constant 6.0 : f32
    %q7 = arith.remf %q6, %six : f32
    %q = arith.fptoui %q7 : f32 to i64
    %qi = arith.index_cast %q : i64 to index
    %c0i = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %c2 = arith.constant 2 : index
    %c3 = arith.constant 3 : index
    %c5 = arith.constant 5 : index
    %lt3 = arith.cmpi ult, %qi, %c3 : index
    %lt5 = arith.cmpi ult, %qi, %c5 : index
    %first1 = arith.select %lt5, %c1, %c2 : index
    %first = arith.select %lt3, %c0i, %first1 : index
    %qp1 = arith.addi %qi, %c1 : index
    %qm1 = arith.subi %qi, %c1 : index
    %second1 = arith.select %lt5, %qm1, %c3 : index
    %second = arith.select %lt3, %qp1, %second1 : index
    %isFirst = arith.cmpi eq, %p, %first : index
    %isSecond = arith.cmpi eq, %p, %second : index
    %keep = arith.ori %isFirst, %isSecond : i1
    %seed1 = arith.constant 7919 : i64
    %vs = arith.addi %seed, %seed1 : i64
    %v = func.call @unit(%vs, %i, %j) : (i64, index, index) -> f32
    %zero = arith.constant 0.0 : f32
    %r0 = arith.select %keep, %v, %zero : f32
    linalg.yield %r0 : f32
  } -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// C = A * B^T in f32 on the host.
func.func @matmul_bt(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %n = tensor.dim %b, %c0 : tensor<?x?xf32>
  %k = tensor.dim %b, %c1 : tensor<?x?xf32>
  %bt0 = tensor.empty(%k, %n) : tensor<?x?xf32>
  %bt = linalg.transpose ins(%b : tensor<?x?xf32>) outs(%bt0 : tensor<?x?xf32>) permutation = [1, 0]
  %e = tensor.empty(%m, %n) : tensor<?x?xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<?x?xf32>) -> tensor<?x?xf32>
  %r = linalg.matmul ins(%a, %bt : tensor<?x?xf32>, tensor<?x?xf32>) outs(%f : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// Rounds to the element type and back, as the kernels' inputs are.
func.func @as_elt(%a: tensor<?x?xf32>) -> tensor<?x?xELT> {
  %r = arith.truncf %a : tensor<?x?xf32> to tensor<?x?xELT>
  return %r : tensor<?x?xELT>
}

// Prints id, #(y != ref), whether max(|ref|, |t|) <= LIMIT, #outputs.
func.func @report(%id: i64, %y: tensor<?x?xELT>, %ref: tensor<?x?xf32>, %t: tensor<?x?xf32>) {
  %y32 = arith.extf %y : tensor<?x?xELT> to tensor<?x?xf32>
  %zero = arith.constant 0 : i64
  %init = tensor.from_elements %zero : tensor<i64>
  %count = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%y32, %ref : tensor<?x?xf32>, tensor<?x?xf32>) outs(%init : tensor<i64>) {
  ^bb0(%a: f32, %b: f32, %acc: i64):
    // UNE also counts NaN as a mismatch.
    %bad = arith.cmpf une, %a, %b : f32
    %inc = arith.extui %bad : i1 to i64
    %next = arith.addi %acc, %inc : i64
    linalg.yield %next : i64
  } -> tensor<i64>
  %mismatches = tensor.extract %count[] : tensor<i64>
  %z = arith.constant 0.0 : f32
  %m0 = tensor.from_elements %z : tensor<f32>
  %maxRef = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%ref : tensor<?x?xf32>) outs(%m0 : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %abs = math.absf %a : f32
    %mx = arith.maximumf %abs, %acc : f32
    linalg.yield %mx : f32
  } -> tensor<f32>
  %maxT = linalg.generic {
      indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%t : tensor<?x?xf32>) outs(%maxRef : tensor<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %abs = math.absf %a : f32
    %mx = arith.maximumf %abs, %acc : f32
    linalg.yield %mx : f32
  } -> tensor<f32>
  %largest = tensor.extract %maxT[] : tensor<f32>
  %limit = arith.constant LIMIT : f32
  %inRange = arith.cmpf ole, %largest, %limit : f32
  %ok = arith.extui %inRange : i1 to i64
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %rows = tensor.dim %ref, %c0 : tensor<?x?xf32>
  %cols = tensor.dim %ref, %c1 : tensor<?x?xf32>
  %n = arith.muli %rows, %cols : index
  %n64 = arith.index_cast %n : index to i64
  call @printI64(%id) : (i64) -> ()
  call @printComma() : () -> ()
  call @printI64(%mismatches) : (i64) -> ()
  call @printComma() : () -> ()
  call @printI64(%ok) : (i64) -> ()
  call @printComma() : () -> ()
  call @printI64(%n64) : (i64) -> ()
  call @printNewline() : () -> ()
  return
}

// M = 70 (not a multiple of tile-m), low rank, bias; positions from slr.pack
// (reordered into metadata on the device).
func.func @case1() {
  %cM = arith.constant 70 : index
  %cN = arith.constant 128 : index
  %cK = arith.constant 64 : index
  %cK2 = arith.constant 32 : index
  %s1 = arith.constant 11 : i64
  %s2 = arith.constant 12 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x64xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<128x64xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<128x64xELT> -> tensor<128x32xELT>, tensor<128x16xi8>
  %cR = arith.constant 16 : index
  %s3 = arith.constant 13 : i64
  %s4 = arith.constant 14 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<128x16xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<16x64xELT>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 15 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x128xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x128xELT> into tensor<128xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<128x16xELT>, tensor<16x64xELT>) bias(%b : tensor<128xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x64xELT>, tensor<128x32xELT>, tensor<128x16xi8> -> tensor<?x128xELT>
  %y2 = tensor.cast %y : tensor<?x128xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<128x32xELT>, tensor<128x16xi8> -> tensor<128x64xELT>
  %d32s = arith.extf %d : tensor<128x64xELT> to tensor<128x64xf32>
  %d32 = tensor.cast %d32s : tensor<128x64xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %br = arith.extf %b : tensor<128xELT> to tensor<128xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x128xf32>
  %bb = linalg.broadcast ins(%br : tensor<128xf32>) outs(%bb0 : tensor<?x128xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x128xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 1 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// Large M on sm_90a (wgmma_sp_sm90a: N, K and the rank multiples of 128,
// 64 and 64): M = 200 is two 128-row CTA tiles, the second partial; two
// CTA tiles of N, two K blocks and one rank block through the 4-stage
// pipeline; bias; positions from slr.pack (reordered on the device).
func.func @case11() {
  %cM = arith.constant 200 : index
  %cN = arith.constant 256 : index
  %cK = arith.constant 128 : index
  %cK2 = arith.constant 64 : index
  %s1 = arith.constant 11 : i64
  %s2 = arith.constant 12 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x128xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<256x128xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<256x128xELT> -> tensor<256x64xELT>, tensor<256x32xi8>
  %cR = arith.constant 64 : index
  %s3 = arith.constant 13 : i64
  %s4 = arith.constant 14 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<256x64xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<64x128xELT>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 15 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x256xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x256xELT> into tensor<256xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<256x64xELT>, tensor<64x128xELT>) bias(%b : tensor<256xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x128xELT>, tensor<256x64xELT>, tensor<256x32xi8> -> tensor<?x256xELT>
  %y2 = tensor.cast %y : tensor<?x256xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<256x64xELT>, tensor<256x32xi8> -> tensor<256x128xELT>
  %d32s = arith.extf %d : tensor<256x128xELT> to tensor<256x128xf32>
  %d32 = tensor.cast %d32s : tensor<256x128xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %br = arith.extf %b : tensor<256xELT> to tensor<256xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x256xf32>
  %bb = linalg.broadcast ins(%br : tensor<256xf32>) outs(%bb0 : tensor<?x256xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x256xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 11 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// sm_90a without a low-rank part (6 stages): seven K blocks wrap the
// pipeline (the mbarrier phases flip); M = 130; bias. At most 224 non-zero
// products per output keep bf16 exact.
func.func @case12() {
  %cM = arith.constant 130 : index
  %cN = arith.constant 128 : index
  %cK = arith.constant 448 : index
  %s1 = arith.constant 121 : i64
  %s2 = arith.constant 122 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x448xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<128x448xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<128x448xELT> -> tensor<128x224xELT>, tensor<128x112xi8>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 125 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x128xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x128xELT> into tensor<128xELT>
  %y = slr.linear %x_in, %v, %p bias(%b : tensor<128xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x448xELT>, tensor<128x224xELT>, tensor<128x112xi8> -> tensor<?x128xELT>
  %y2 = tensor.cast %y : tensor<?x128xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<128x224xELT>, tensor<128x112xi8> -> tensor<128x448xELT>
  %d32s = arith.extf %d : tensor<128x448xELT> to tensor<128x448xf32>
  %d32 = tensor.cast %d32s : tensor<128x448xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %br = arith.extf %b : tensor<128xELT> to tensor<128xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x128xf32>
  %bb = linalg.broadcast ins(%br : tensor<128xf32>) outs(%bb0 : tensor<?x128xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x128xf32> to tensor<?x?xf32>
  %ref = arith.addf %ys, %bbd : tensor<?x?xf32>
  %id = arith.constant 12 : i64
  call @report(%id, %y2, %ref, %ys) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// Decode: M = 1, larger K and rank, no bias.
func.func @case2() {
  %cM = arith.constant 1 : index
  %cN = arith.constant 256 : index
  %cK = arith.constant 128 : index
  %cK2 = arith.constant 64 : index
  %s1 = arith.constant 21 : i64
  %s2 = arith.constant 22 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x128xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<256x128xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<256x128xELT> -> tensor<256x64xELT>, tensor<256x32xi8>
  %cR = arith.constant 32 : index
  %s3 = arith.constant 23 : i64
  %s4 = arith.constant 24 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<256x32xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<32x128xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<256x32xELT>, tensor<32x128xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x128xELT>, tensor<256x64xELT>, tensor<256x32xi8> -> tensor<?x256xELT>
  %y2 = tensor.cast %y : tensor<?x256xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<256x64xELT>, tensor<256x32xi8> -> tensor<256x128xELT>
  %d32s = arith.extf %d : tensor<256x128xELT> to tensor<256x128xf32>
  %d32 = tensor.cast %d32s : tensor<256x128xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %ref = tensor.cast %yr : tensor<?x?xf32> to tensor<?x?xf32>
  %id = arith.constant 2 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// Batch dimensions, no low-rank part.
func.func @case3() {
  %cM = arith.constant 6 : index
  %cN = arith.constant 128 : index
  %cK = arith.constant 64 : index
  %cK2 = arith.constant 32 : index
  %s1 = arith.constant 31 : i64
  %s2 = arith.constant 32 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x2 = tensor.cast %x : tensor<?x?xELT> to tensor<6x64xELT>
  %x3 = tensor.expand_shape %x2 [[0, 1], [2]] output_shape [2, 3, 64] : tensor<6x64xELT> into tensor<2x3x64xELT>
  %x_in = tensor.cast %x3 : tensor<2x3x64xELT> to tensor<?x3x64xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<128x64xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<128x64xELT> -> tensor<128x32xELT>, tensor<128x16xi8>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 35 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x128xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x128xELT> into tensor<128xELT>
  %y = slr.linear %x_in, %v, %p bias(%b : tensor<128xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x3x64xELT>, tensor<128x32xELT>, tensor<128x16xi8> -> tensor<?x3x128xELT>
  %y1 = tensor.collapse_shape %y [[0, 1], [2]] : tensor<?x3x128xELT> into tensor<?x128xELT>
  %y2 = tensor.cast %y1 : tensor<?x128xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<128x32xELT>, tensor<128x16xi8> -> tensor<128x64xELT>
  %d32s = arith.extf %d : tensor<128x64xELT> to tensor<128x64xf32>
  %d32 = tensor.cast %d32s : tensor<128x64xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = tensor.cast %ys : tensor<?x?xf32> to tensor<?x?xf32>
  %br = arith.extf %b : tensor<128xELT> to tensor<128xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x128xf32>
  %bb = linalg.broadcast ins(%br : tensor<128xf32>) outs(%bb0 : tensor<?x128xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x128xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 3 : i64
  call @report(%id, %y2, %ref, %yr) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// Constant positions: metadata reordered at compile time.
func.func @case4() {
  %cM = arith.constant 130 : index
  %cN = arith.constant 128 : index
  %cK = arith.constant 64 : index
  %cK2 = arith.constant 32 : index
  %s1 = arith.constant 41 : i64
  %s2 = arith.constant 42 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x64xELT>
  %vals32 = call @fill(%cN, %cK2, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %vals = call @as_elt(%vals32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %v = tensor.cast %vals : tensor<?x?xELT> to tensor<128x32xELT>
  %p = arith.constant dense<[[12, 8, 9, 14, 4, 4, 13, 4, 12, 13, 4, 13, 8, 4, 4, 9], [9, 4, 8, 4, 13, 9, 4, 13, 4, 8, 14, 14, 13, 4, 13, 13], [9, 4, 8, 4, 13, 8, 12, 9, 8, 13, 4, 13, 12, 13, 14, 8], [4, 13, 13, 14, 8, 12, 4, 13, 14, 4, 13, 4, 13, 8, 9, 14], [13, 9, 12, 9, 13, 9, 12, 12, 8, 8, 14, 8, 4, 13, 12, 13], [9, 12, 14, 9, 12, 13, 4, 4, 13, 9, 8, 12, 8, 9, 9, 4], [14, 4, 13, 13, 12, 12, 14, 12, 13, 9, 13, 9, 4, 4, 12, 9], [14, 14, 4, 4, 14, 14, 12, 14, 13, 14, 9, 12, 14, 9, 14, 12], [4, 9, 12, 8, 13, 4, 9, 4, 8, 12, 8, 14, 8, 9, 9, 9], [4, 8, 9, 9, 13, 12, 8, 9, 13, 12, 14, 9, 12, 14, 9, 8], [8, 4, 8, 8, 8, 14, 8, 4, 9, 13, 8, 12, 12, 4, 8, 9], [13, 12, 13, 13, 12, 8, 14, 13, 13, 14, 14, 14, 4, 9, 14, 13], [9, 9, 9, 9, 4, 9, 14, 9, 4, 8, 4, 8, 9, 8, 4, 12], [13, 4, 4, 4, 13, 8, 13, 4, 12, 13, 4, 4, 8, 13, 9, 8], [14, 12, 12, 13, 12, 9, 4, 4, 9, 9, 9, 9, 12, 4, 8, 4], [14, 12, 14, 12, 9, 14, 8, 13, 4, 8, 13, 12, 8, 14, 13, 4], [13, 12, 14, 4, 14, 12, 13, 12, 8, 12, 8, 13, 13, 13, 12, 14], [8, 13, 8, 8, 9, 14, 8, 8, 13, 9, 12, 14, 4, 4, 12, 9], [12, 8, 14, 13, 12, 9, 14, 12, 12, 4, 8, 4, 8, 9, 8, 12], [8, 9, 13, 13, 4, 9, 14, 12, 14, 4, 14, 4, 9, 14, 8, 9], [8, 9, 14, 12, 4, 14, 9, 9, 9, 14, 4, 14, 8, 8, 8, 4], [8, 13, 9, 14, 8, 13, 13, 9, 14, 12, 8, 13, 13, 8, 4, 4], [14, 14, 4, 13, 14, 8, 9, 8, 8, 4, 12, 8, 12, 13, 8, 13], [12, 12, 13, 9, 8, 4, 14, 12, 9, 14, 13, 13, 9, 13, 8, 13], [8, 13, 13, 4, 9, 8, 13, 4, 8, 8, 8, 9, 13, 14, 4, 13], [4, 12, 14, 13, 13, 13, 9, 4, 13, 4, 8, 8, 12, 4, 4, 13], [9, 13, 4, 4, 9, 12, 13, 13, 13, 13, 8, 14, 12, 9, 13, 13], [9, 13, 8, 14, 13, 12, 13, 8, 9, 8, 9, 4, 9, 9, 12, 4], [14, 8, 9, 4, 8, 14, 12, 4, 8, 14, 14, 14, 12, 8, 12, 8], [9, 8, 14, 4, 9, 9, 8, 14, 8, 8, 14, 9, 13, 9, 12, 9], [8, 12, 12, 4, 14, 12, 4, 12, 13, 9, 9, 14, 4, 9, 12, 13], [13, 12, 13, 4, 4, 8, 4, 4, 12, 12, 4, 8, 12, 8, 9, 14], [12, 9, 8, 13, 13, 13, 9, 14, 12, 4, 12, 4, 14, 8, 9, 4], [12, 4, 14, 4, 12, 4, 13, 8, 4, 12, 4, 9, 4, 12, 13, 9], [12, 13, 8, 4, 13, 14, 8, 4, 8, 12, 4, 8, 8, 12, 14, 12], [13, 8, 12, 9, 13, 14, 8, 12, 12, 4, 12, 4, 4, 4, 14, 13], [13, 8, 13, 9, 8, 9, 4, 14, 14, 9, 14, 9, 13, 9, 13, 12], [14, 8, 8, 12, 8, 14, 14, 14, 8, 9, 12, 4, 8, 4, 4, 14], [14, 12, 9, 8, 4, 4, 14, 9, 13, 14, 12, 13, 8, 14, 12, 4], [9, 8, 8, 12, 9, 4, 12, 12, 12, 13, 12, 8, 4, 12, 8, 12], [8, 4, 12, 9, 4, 9, 12, 13, 14, 8, 8, 13, 4, 4, 12, 4], [8, 9, 13, 4, 9, 4, 12, 12, 14, 8, 4, 13, 13, 8, 14, 14], [13, 9, 12, 14, 9, 8, 12, 14, 13, 14, 8, 4, 14, 13, 14, 9], [14, 14, 13, 8, 13, 13, 13, 4, 14, 13, 14, 14, 14, 14, 8, 4], [4, 4, 8, 14, 12, 4, 9, 9, 13, 4, 14, 4, 14, 13, 14, 8], [9, 12, 4, 9, 4, 14, 13, 13, 4, 14, 13, 4, 14, 14, 9, 12], [4, 12, 8, 14, 8, 8, 14, 14, 9, 9, 9, 4, 9, 14, 12, 4], [13, 14, 14, 8, 4, 13, 8, 12, 12, 14, 14, 14, 12, 13, 13, 8], [4, 9, 4, 9, 12, 14, 4, 14, 8, 14, 9, 12, 14, 13, 12, 9], [9, 9, 4, 13, 8, 12, 4, 9, 4, 12, 9, 4, 13, 9, 12, 9], [8, 8, 4, 13, 4, 8, 14, 13, 12, 12, 8, 13, 14, 13, 12, 4], [14, 12, 8, 9, 9, 9, 4, 8, 4, 9, 14, 9, 9, 12, 14, 8], [9, 12, 9, 12, 4, 12, 4, 12, 12, 9, 4, 8, 14, 4, 14, 12], [12, 12, 4, 9, 9, 13, 4, 12, 9, 12, 4, 12, 4, 4, 14, 12], [14, 8, 8, 12, 9, 13, 12, 8, 12, 9, 4, 14, 9, 13, 13, 8], [14, 4, 4, 14, 9, 9, 13, 8, 14, 12, 9, 4, 13, 8, 8, 9], [9, 12, 12, 12, 12, 14, 14, 14, 12, 9, 14, 8, 12, 9, 13, 14], [9, 4, 8, 14, 8, 4, 8, 13, 9, 13, 8, 9, 12, 9, 9, 8], [13, 8, 8, 4, 8, 12, 13, 4, 12, 8, 12, 12, 13, 8, 4, 14], [9, 9, 9, 14, 13, 8, 9, 12, 12, 4, 9, 12, 13, 12, 8, 14], [13, 13, 14, 8, 4, 12, 8, 9, 9, 14, 9, 9, 12, 4, 8, 4], [9, 14, 9, 13, 9, 4, 4, 9, 13, 9, 9, 8, 4, 8, 8, 8], [13, 14, 4, 14, 14, 14, 9, 4, 13, 4, 4, 8, 8, 13, 4, 14], [14, 12, 8, 14, 12, 13, 14, 9, 14, 4, 4, 4, 12, 13, 13, 8], [9, 12, 8, 13, 4, 4, 13, 12, 9, 12, 12, 14, 8, 9, 13, 8], [13, 8, 4, 9, 14, 14, 12, 4, 4, 8, 9, 14, 14, 9, 4, 12], [8, 14, 9, 12, 8, 9, 4, 14, 12, 14, 9, 12, 14, 9, 8, 4], [12, 14, 13, 4, 8, 9, 8, 12, 8, 8, 9, 8, 12, 12, 4, 13], [9, 13, 8, 8, 9, 9, 14, 4, 13, 8, 9, 4, 8, 4, 13, 8], [9, 4, 14, 4, 8, 9, 9, 14, 12, 14, 4, 4, 8, 12, 8, 8], [14, 13, 14, 9, 4, 12, 14, 14, 9, 12, 12, 9, 8, 4, 4, 4], [12, 4, 12, 9, 4, 13, 8, 9, 12, 12, 9, 4, 4, 14, 9, 8], [12, 13, 9, 8, 12, 12, 14, 9, 4, 14, 9, 8, 14, 9, 4, 9], [4, 9, 4, 4, 12, 8, 14, 4, 13, 12, 12, 12, 12, 13, 4, 12], [14, 14, 14, 12, 12, 12, 4, 14, 13, 14, 4, 4, 8, 4, 9, 14], [9, 9, 12, 9, 9, 8, 9, 8, 4, 14, 12, 14, 8, 13, 8, 12], [12, 9, 12, 13, 4, 13, 8, 9, 8, 8, 9, 4, 14, 4, 9, 13], [13, 12, 8, 9, 4, 4, 12, 13, 4, 8, 4, 9, 9, 14, 9, 8], [8, 8, 9, 9, 13, 14, 8, 14, 13, 14, 4, 12, 12, 12, 13, 12], [12, 12, 14, 12, 8, 9, 8, 8, 8, 8, 8, 12, 13, 8, 12, 4], [9, 12, 8, 13, 13, 8, 14, 4, 14, 9, 4, 4, 4, 9, 8, 9], [12, 4, 12, 8, 4, 4, 8, 13, 13, 8, 4, 12, 13, 8, 9, 13], [12, 14, 4, 4, 14, 13, 14, 13, 12, 8, 4, 12, 12, 8, 4, 8], [12, 4, 13, 14, 14, 8, 4, 12, 9, 14, 12, 8, 13, 12, 4, 8], [4, 9, 13, 9, 4, 9, 4, 9, 14, 13, 8, 14, 13, 4, 14, 8], [9, 14, 12, 9, 12, 14, 12, 9, 4, 12, 14, 13, 12, 9, 9, 4], [12, 14, 8, 9, 14, 9, 8, 4, 9, 8, 9, 4, 4, 9, 13, 12], [9, 8, 8, 4, 4, 13, 8, 14, 9, 4, 13, 13, 12, 14, 13, 8], [8, 12, 12, 8, 13, 8, 4, 4, 9, 9, 8, 12, 8, 4, 9, 12], [4, 13, 14, 9, 4, 14, 13, 14, 8, 14, 8, 13, 9, 13, 8, 9], [8, 13, 8, 4, 9, 13, 8, 9, 12, 4, 8, 8, 14, 8, 4, 13], [14, 4, 14, 12, 4, 9, 13, 9, 13, 14, 12, 14, 9, 12, 13, 8], [9, 9, 14, 12, 9, 13, 9, 8, 4, 4, 13, 9, 9, 8, 9, 13], [9, 8, 9, 9, 4, 4, 8, 12, 9, 12, 4, 9, 13, 13, 14, 4], [4, 14, 8, 4, 14, 12, 14, 13, 4, 4, 13, 9, 14, 8, 4, 4], [13, 14, 14, 4, 8, 8, 9, 12, 8, 14, 14, 8, 4, 12, 13, 12], [8, 12, 13, 12, 9, 8, 12, 13, 9, 8, 13, 12, 13, 13, 8, 12], [12, 4, 8, 8, 9, 8, 14, 12, 14, 12, 9, 8, 12, 4, 13, 4], [14, 12, 9, 13, 13, 13, 14, 4, 12, 13, 14, 9, 14, 12, 12, 9], [12, 13, 8, 12, 12, 4, 9, 8, 8, 13, 14, 4, 12, 13, 12, 12], [14, 13, 14, 12, 14, 4, 14, 4, 8, 8, 12, 13, 14, 9, 9, 13], [12, 4, 8, 9, 8, 13, 14, 4, 4, 4, 4, 13, 12, 12, 4, 13], [12, 13, 8, 9, 13, 12, 13, 8, 8, 12, 13, 9, 8, 8, 4, 8], [14, 8, 9, 4, 4, 14, 8, 14, 12, 9, 12, 4, 4, 14, 13, 12], [13, 14, 13, 9, 13, 13, 14, 9, 8, 8, 4, 4, 4, 13, 4, 9], [8, 8, 8, 4, 4, 4, 13, 13, 14, 8, 8, 9, 8, 13, 13, 14], [13, 14, 14, 9, 13, 8, 13, 12, 4, 12, 14, 4, 14, 9, 14, 13], [4, 9, 9, 14, 9, 4, 14, 14, 9, 8, 8, 4, 12, 8, 14, 4], [4, 12, 14, 14, 12, 14, 4, 12, 14, 13, 14, 9, 14, 13, 12, 12], [14, 8, 4, 13, 4, 8, 12, 8, 14, 8, 8, 14, 12, 8, 9, 12], [13, 8, 9, 14, 14, 14, 13, 9, 9, 13, 14, 4, 4, 9, 14, 8], [13, 12, 8, 9, 13, 13, 4, 13, 8, 8, 4, 4, 4, 4, 13, 8], [12, 8, 14, 4, 4, 4, 8, 14, 14, 14, 4, 14, 4, 14, 4, 4], [13, 12, 8, 13, 14, 4, 14, 9, 4, 8, 8, 8, 4, 4, 4, 14], [4, 14, 14, 12, 9, 4, 8, 4, 14, 8, 12, 12, 12, 9, 12, 4], [12, 12, 12, 4, 14, 12, 12, 13, 13, 9, 12, 13, 14, 4, 9, 4], [9, 13, 4, 12, 9, 14, 4, 13, 13, 8, 14, 4, 13, 12, 8, 9], [4, 13, 8, 12, 4, 4, 12, 9, 4, 9, 14, 8, 9, 13, 12, 13], [12, 13, 8, 12, 8, 14, 8, 9, 8, 4, 14, 4, 9, 14, 13, 4], [14, 12, 12, 4, 9, 9, 14, 4, 9, 14, 4, 12, 8, 12, 12, 9], [13, 13, 8, 9, 14, 8, 9, 8, 13, 13, 14, 13, 14, 4, 12, 13], [12, 13, 8, 9, 14, 13, 14, 12, 8, 9, 9, 14, 12, 13, 8, 8], [12, 9, 14, 14, 8, 13, 8, 12, 12, 14, 13, 8, 14, 8, 8, 14], [12, 13, 13, 12, 8, 8, 12, 8, 12, 14, 4, 8, 14, 4, 8, 9], [8, 8, 12, 14, 12, 9, 12, 8, 4, 14, 4, 12, 8, 9, 9, 4], [4, 9, 9, 14, 8, 13, 14, 12, 9, 4, 8, 12, 13, 14, 9, 4], [14, 8, 9, 14, 13, 13, 14, 14, 9, 8, 14, 14, 14, 14, 14, 13], [8, 14, 8, 14, 4, 9, 9, 12, 12, 14, 14, 4, 9, 8, 9, 14]]> : tensor<128x16xi8>
  %cR = arith.constant 16 : index
  %s3 = arith.constant 43 : i64
  %s4 = arith.constant 44 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<128x16xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<16x64xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<128x16xELT>, tensor<16x64xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x64xELT>, tensor<128x32xELT>, tensor<128x16xi8> -> tensor<?x128xELT>
  %y2 = tensor.cast %y : tensor<?x128xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<128x32xELT>, tensor<128x16xi8> -> tensor<128x64xELT>
  %d32s = arith.extf %d : tensor<128x64xELT> to tensor<128x64xf32>
  %d32 = tensor.cast %d32s : tensor<128x64xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %ref = tensor.cast %yr : tensor<?x?xf32> to tensor<?x?xf32>
  %id = arith.constant 4 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// A larger layer: several CTAs along N and M, rank 32.
func.func @case5() {
  %cM = arith.constant 200 : index
  %cN = arith.constant 384 : index
  %cK = arith.constant 128 : index
  %cK2 = arith.constant 64 : index
  %s1 = arith.constant 51 : i64
  %s2 = arith.constant 52 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x128xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<384x128xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<384x128xELT> -> tensor<384x64xELT>, tensor<384x32xi8>
  %cR = arith.constant 32 : index
  %s3 = arith.constant 53 : i64
  %s4 = arith.constant 54 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<384x32xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<32x128xELT>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 55 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x384xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x384xELT> into tensor<384xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<384x32xELT>, tensor<32x128xELT>) bias(%b : tensor<384xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x128xELT>, tensor<384x64xELT>, tensor<384x32xi8> -> tensor<?x384xELT>
  %y2 = tensor.cast %y : tensor<?x384xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<384x64xELT>, tensor<384x32xi8> -> tensor<384x128xELT>
  %d32s = arith.extf %d : tensor<384x128xELT> to tensor<384x128xf32>
  %d32 = tensor.cast %d32s : tensor<384x128xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %br = arith.extf %b : tensor<384xELT> to tensor<384xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x384xf32>
  %bb = linalg.broadcast ins(%br : tensor<384xf32>) outs(%bb0 : tensor<?x384xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x384xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 5 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// An empty batch (M = 0): nothing is launched, y is empty.
func.func @case6() {
  %cM = arith.constant 0 : index
  %cN = arith.constant 128 : index
  %cK = arith.constant 64 : index
  %cK2 = arith.constant 32 : index
  %s1 = arith.constant 61 : i64
  %s2 = arith.constant 12 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<?x64xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<128x64xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<128x64xELT> -> tensor<128x32xELT>, tensor<128x16xi8>
  %cR = arith.constant 16 : index
  %s3 = arith.constant 13 : i64
  %s4 = arith.constant 14 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<128x16xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<16x64xELT>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 15 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x128xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x128xELT> into tensor<128xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<128x16xELT>, tensor<16x64xELT>) bias(%b : tensor<128xELT>) {pattern = #slr.nm<2, 4>} : tensor<?x64xELT>, tensor<128x32xELT>, tensor<128x16xi8> -> tensor<?x128xELT>
  %y2 = tensor.cast %y : tensor<?x128xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<128x32xELT>, tensor<128x16xi8> -> tensor<128x64xELT>
  %d32s = arith.extf %d : tensor<128x64xELT> to tensor<128x64xf32>
  %d32 = tensor.cast %d32s : tensor<128x64xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %br = arith.extf %b : tensor<128xELT> to tensor<128xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x128xf32>
  %bb = linalg.broadcast ins(%br : tensor<128xf32>) outs(%bb0 : tensor<?x128xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x128xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 6 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// Decode (static M <= 16, decode_sm80): M = 1, two K slices of 128, low-rank and bias.
func.func @case7() {
  %cM = arith.constant 1 : index
  %cN = arith.constant 256 : index
  %cK = arith.constant 256 : index
  %s1 = arith.constant 171 : i64
  %s2 = arith.constant 172 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<1x256xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<256x256xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<256x256xELT> -> tensor<256x128xELT>, tensor<256x64xi8>
  %cR = arith.constant 16 : index
  %s3 = arith.constant 173 : i64
  %s4 = arith.constant 174 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<256x16xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<16x256xELT>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 175 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x256xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x256xELT> into tensor<256xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<256x16xELT>, tensor<16x256xELT>) bias(%b : tensor<256xELT>) {pattern = #slr.nm<2, 4>} : tensor<1x256xELT>, tensor<256x128xELT>, tensor<256x64xi8> -> tensor<1x256xELT>
  %y2 = tensor.cast %y : tensor<1x256xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<256x128xELT>, tensor<256x64xi8> -> tensor<256x256xELT>
  %d32s = arith.extf %d : tensor<256x256xELT> to tensor<256x256xf32>
  %d32 = tensor.cast %d32s : tensor<256x256xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %br = arith.extf %b : tensor<256xELT> to tensor<256xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x256xf32>
  %bb = linalg.broadcast ins(%br : tensor<256xf32>) outs(%bb0 : tensor<?x256xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x256xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 7 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// M = 5 (an 8-row tile, rows 5-7 masked), N = 192 (CTAs of 4 warps), K = 192 in three slices of 64, no bias.
func.func @case8() {
  %cM = arith.constant 5 : index
  %cN = arith.constant 192 : index
  %cK = arith.constant 192 : index
  %s1 = arith.constant 181 : i64
  %s2 = arith.constant 182 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<5x192xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<192x192xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<192x192xELT> -> tensor<192x96xELT>, tensor<192x48xi8>
  %cR = arith.constant 16 : index
  %s3 = arith.constant 183 : i64
  %s4 = arith.constant 184 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<192x16xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<16x192xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<192x16xELT>, tensor<16x192xELT>) {pattern = #slr.nm<2, 4>} : tensor<5x192xELT>, tensor<192x96xELT>, tensor<192x48xi8> -> tensor<5x192xELT>
  %y2 = tensor.cast %y : tensor<5x192xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<192x96xELT>, tensor<192x48xi8> -> tensor<192x192xELT>
  %d32s = arith.extf %d : tensor<192x192xELT> to tensor<192x192xf32>
  %d32 = tensor.cast %d32s : tensor<192x192xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %id = arith.constant 8 : i64
  call @report(%id, %y2, %yr, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// M = 16, K = 320 in five slices of 64, no low-rank part, bias.
func.func @case9() {
  %cM = arith.constant 16 : index
  %cN = arith.constant 128 : index
  %cK = arith.constant 320 : index
  %s1 = arith.constant 191 : i64
  %s2 = arith.constant 192 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<16x320xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<128x320xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<128x320xELT> -> tensor<128x160xELT>, tensor<128x80xi8>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 195 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x128xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x128xELT> into tensor<128xELT>
  %y = slr.linear %x_in, %v, %p bias(%b : tensor<128xELT>) {pattern = #slr.nm<2, 4>} : tensor<16x320xELT>, tensor<128x160xELT>, tensor<128x80xi8> -> tensor<16x128xELT>
  %y2 = tensor.cast %y : tensor<16x128xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<128x160xELT>, tensor<128x80xi8> -> tensor<128x320xELT>
  %d32s = arith.extf %d : tensor<128x320xELT> to tensor<128x320xf32>
  %d32 = tensor.cast %d32s : tensor<128x320xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %br = arith.extf %b : tensor<128xELT> to tensor<128xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x128xf32>
  %bb = linalg.broadcast ins(%br : tensor<128xf32>) outs(%bb0 : tensor<?x128xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x128xf32> to tensor<?x?xf32>
  %ref = arith.addf %ys, %bbd : tensor<?x?xf32>
  %id = arith.constant 9 : i64
  call @report(%id, %y2, %ref, %ys) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

// M = 3, N = 48 (CTAs of one warp), one K slice, rank 32 and bias.
func.func @case10() {
  %cM = arith.constant 3 : index
  %cN = arith.constant 48 : index
  %cK = arith.constant 64 : index
  %s1 = arith.constant 201 : i64
  %s2 = arith.constant 202 : i64
  %x32 = call @fill(%cM, %cK, %s1) : (index, index, i64) -> tensor<?x?xf32>
  %x = call @as_elt(%x32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %x_in = tensor.cast %x : tensor<?x?xELT> to tensor<3x64xELT>
  %sd32 = call @sparse24(%cN, %cK, %s2) : (index, index, i64) -> tensor<?x?xf32>
  %sd = call @as_elt(%sd32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %s = tensor.cast %sd : tensor<?x?xELT> to tensor<48x64xELT>
  %v, %p = slr.pack %s {pattern = #slr.nm<2, 4>} : tensor<48x64xELT> -> tensor<48x32xELT>, tensor<48x16xi8>
  %cR = arith.constant 32 : index
  %s3 = arith.constant 203 : i64
  %s4 = arith.constant 204 : i64
  %u32 = call @fill(%cN, %cR, %s3) : (index, index, i64) -> tensor<?x?xf32>
  %vt32 = call @fill(%cR, %cK, %s4) : (index, index, i64) -> tensor<?x?xf32>
  %ue = call @as_elt(%u32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %vte = call @as_elt(%vt32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %u = tensor.cast %ue : tensor<?x?xELT> to tensor<48x32xELT>
  %vt = tensor.cast %vte : tensor<?x?xELT> to tensor<32x64xELT>
  %c1 = arith.constant 1 : index
  %s5 = arith.constant 205 : i64
  %b32 = call @fill(%c1, %cN, %s5) : (index, index, i64) -> tensor<?x?xf32>
  %be = call @as_elt(%b32) : (tensor<?x?xf32>) -> tensor<?x?xELT>
  %b2 = tensor.cast %be : tensor<?x?xELT> to tensor<1x48xELT>
  %b = tensor.collapse_shape %b2 [[0, 1]] : tensor<1x48xELT> into tensor<48xELT>
  %y = slr.linear %x_in, %v, %p lowrank(%u, %vt : tensor<48x32xELT>, tensor<32x64xELT>) bias(%b : tensor<48xELT>) {pattern = #slr.nm<2, 4>} : tensor<3x64xELT>, tensor<48x32xELT>, tensor<48x16xi8> -> tensor<3x48xELT>
  %y2 = tensor.cast %y : tensor<3x48xELT> to tensor<?x?xELT>
  %d = slr.unpack %v, %p {pattern = #slr.nm<2, 4>} : tensor<48x32xELT>, tensor<48x16xi8> -> tensor<48x64xELT>
  %d32s = arith.extf %d : tensor<48x64xELT> to tensor<48x64xf32>
  %d32 = tensor.cast %d32s : tensor<48x64xf32> to tensor<?x?xf32>
  %xr = arith.extf %x : tensor<?x?xELT> to tensor<?x?xf32>
  %ys = call @matmul_bt(%xr, %d32) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %ur = arith.extf %ue : tensor<?x?xELT> to tensor<?x?xf32>
  %vr = arith.extf %vte : tensor<?x?xELT> to tensor<?x?xf32>
  %t = call @matmul_bt(%xr, %vr) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yl = call @matmul_bt(%t, %ur) : (tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<?x?xf32>
  %yr = arith.addf %ys, %yl : tensor<?x?xf32>
  %br = arith.extf %b : tensor<48xELT> to tensor<48xf32>
  %bb0 = tensor.empty(%cM) : tensor<?x48xf32>
  %bb = linalg.broadcast ins(%br : tensor<48xf32>) outs(%bb0 : tensor<?x48xf32>) dimensions = [0]
  %bbd = tensor.cast %bb : tensor<?x48xf32> to tensor<?x?xf32>
  %ref = arith.addf %yr, %bbd : tensor<?x?xf32>
  %id = arith.constant 10 : i64
  call @report(%id, %y2, %ref, %t) : (i64, tensor<?x?xELT>, tensor<?x?xf32>, tensor<?x?xf32>) -> ()
  return
}

func.func @main() {
  call @case1() : () -> ()
  call @case2() : () -> ()
  call @case3() : () -> ()
  call @case4() : () -> ()
  call @case5() : () -> ()
  call @case6() : () -> ()
  call @case7() : () -> ()
  call @case8() : () -> ()
  call @case9() : () -> ()
  call @case10() : () -> ()
  call @case11() : () -> ()
  call @case12() : () -> ()
  return
}
