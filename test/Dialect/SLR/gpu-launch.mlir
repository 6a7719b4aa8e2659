// RUN: slr-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// #slr.gpu_launch, the launch recipe between --convert-slr-to-gpu and
// --slr-gpu-materialize-launchers: round trip (defaulted low-rank fields are
// elided) and one case per verifier error.

// CHECK-LABEL: func.func private @sparse_only
// CHECK-SAME: slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 4224>
func.func private @sparse_only(memref<?x32xf16>, memref<16x16xf16>, memref<16xi32>, memref<?x16xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, has_bias = false, resident = false, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 4224>}

// CHECK-LABEL: func.func private @every_term
// CHECK-SAME: #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 16, has_bias = true, resident = true, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 4224, lowrank = @kernels::@lowrank, lowrank_tile_n = 16, lowrank_tile_m = 64, lowrank_threads = 128, lowrank_shared_bytes = 9216, k_blocks = 1, reorder = @kernels::@reorder>
func.func private @every_term(memref<?x32xf16>, memref<16x16xf16>, memref<16x8xi8>, memref<16x16xf16>, memref<16x32xf16>, memref<16xf16>, memref<?x16xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<reorder = @kernels::@reorder, variant = mma_sp_sm80, n = 16, k = 32, rank = 16, has_bias = true, resident = true, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 4224, lowrank = @kernels::@lowrank, lowrank_tile_n = 16, lowrank_tile_m = 64, lowrank_threads = 128, lowrank_shared_bytes = 9216, k_blocks = 1>}

// decode_sm80: the low-rank term is in main (no lowrank kernel even with
// rank > 0), k_blocks counts its K slices.
// CHECK-LABEL: func.func private @decode
// CHECK-SAME: #slr.gpu_launch<variant = decode_sm80, n = 16, k = 128, rank = 16, main = @kernels::@decode, tile_n = 16, tile_m = 1, threads = 32, shared_bytes = 1024, k_blocks = 2>
func.func private @decode(memref<?x128xf16>, memref<16x64xf16>, memref<64xi32>, memref<16x16xf16>, memref<16x128xf16>, memref<?x16xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = decode_sm80, n = 16, k = 128, rank = 16, main = @kernels::@decode, tile_n = 16, tile_m = 1, threads = 32, shared_bytes = 1024, k_blocks = 2>}

// wgmma_sp_sm90a: the fields of mma_sp_sm80, its fixed 128 x 128 tile and
// 384 threads.
// CHECK-LABEL: func.func private @wgmma
// CHECK-SAME: #slr.gpu_launch<variant = wgmma_sp_sm90a, n = 128, k = 64, rank = 64, main = @kernels::@wgmma, tile_n = 128, tile_m = 128, threads = 384, shared_bytes = 136256, lowrank = @kernels::@lowrank, lowrank_tile_n = 64, lowrank_tile_m = 64, lowrank_threads = 128, lowrank_shared_bytes = 55296, k_blocks = 1>
func.func private @wgmma(memref<?x64xf16>, memref<128x32xf16>, memref<256xi32>, memref<128x64xf16>, memref<64x64xf16>, memref<?x128xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = wgmma_sp_sm90a, n = 128, k = 64, rank = 64, main = @kernels::@wgmma, tile_n = 128, tile_m = 128, threads = 384, shared_bytes = 136256, lowrank = @kernels::@lowrank, lowrank_tile_n = 64, lowrank_tile_m = 64, lowrank_threads = 128, lowrank_shared_bytes = 55296, k_blocks = 1>}

// -----

// expected-error @+1 {{gpu_launch: wgmma_sp_sm90a needs tile_n = tile_m = 128, threads = 384 and n, k, rank multiples of 128, 64, 64 (got tile_n = 128, tile_m = 64, threads = 384, n = 128, k = 64, rank = 0)}}
func.func private @wgmma_tile(memref<?x64xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = wgmma_sp_sm90a, n = 128, k = 64, rank = 0, main = @kernels::@wgmma, tile_n = 128, tile_m = 64, threads = 384, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: decode_sm80 fuses the low-rank term; lowrank and lowrank_* must be absent}}
func.func private @decode_lowrank(memref<?x128xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = decode_sm80, n = 16, k = 128, rank = 16, main = @kernels::@decode, tile_n = 16, tile_m = 1, threads = 32, shared_bytes = 0, lowrank = @kernels::@lowrank, k_blocks = 2>}

// -----

// 128 / 4 = 32 columns per slice, not a multiple of 64.
// expected-error @+1 {{gpu_launch: decode_sm80 needs k_blocks (the K slices) dividing k = 128 into multiples of 64 (got k_blocks = 4)}}
func.func private @decode_slices(memref<?x128xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = decode_sm80, n = 16, k = 128, rank = 0, main = @kernels::@decode, tile_n = 16, tile_m = 1, threads = 32, shared_bytes = 0, k_blocks = 4>}

// -----

// expected-error @+1 {{gpu_launch: decode_sm80 needs k_blocks (the K slices) dividing k = 128 into multiples of 64 (got k_blocks = 0)}}
func.func private @decode_no_slices(memref<?x128xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = decode_sm80, n = 16, k = 128, rank = 0, main = @kernels::@decode, tile_n = 16, tile_m = 1, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: n = 24 and k = 32 must be positive multiples of 16 and 32}}
func.func private @bad_n(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 24, k = 32, rank = 0, main = @kernels::@main, tile_n = 8, tile_m = 16, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: rank = 8 must be a non-negative multiple of 16}}
func.func private @bad_rank(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 8, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: tile_n = 32 and tile_m = 16 must be positive, tile_n dividing n = 16}}
func.func private @bad_tile(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, main = @kernels::@main, tile_n = 32, tile_m = 16, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: threads = 48 must be a positive multiple of 32 and shared_bytes = 0 non-negative}}
func.func private @bad_threads(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 48, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: the low-rank kernel `lowrank` must be given exactly when rank > 0 (rank = 16)}}
func.func private @missing_lowrank(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 16, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+1 {{gpu_launch: the low-rank launch needs lowrank_tile_n dividing rank = 16, positive lowrank_tile_m and k_blocks, lowrank_threads a positive multiple of 32 and non-negative lowrank_shared_bytes}}
func.func private @incomplete_lowrank(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 16, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0, lowrank = @kernels::@lowrank, lowrank_tile_n = 16, lowrank_tile_m = 64, lowrank_threads = 128>}

// -----

// expected-error @+1 {{gpu_launch: lowrank_* and k_blocks must be absent without a low-rank part}}
func.func private @stray_lowrank_fields(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0, k_blocks = 1>}

// -----

// expected-error @+1 {{'func.func' op 'slr.gpu_launcher' must be a #slr.gpu_launch}}
func.func private @dictionary(memref<?x32xf16>) attributes {slr.gpu_launcher = {n = 16 : i64}}

// -----

// x, values, metadata and y, but the recipe has a bias.
// expected-error @+1 {{'func.func' op 'slr.gpu_launcher' needs a function of 5 operands (x, values, metadata, [U, V], [bias], y)}}
func.func private @wrong_arity(memref<?x32xf16>, memref<16x16xf16>, memref<16xi32>, memref<?x16xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, has_bias = true, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+2 {{expected 'true' or 'false'}}
// expected-error @+1 {{failed to parse SLR_GPULaunchAttr parameter 'has_bias'}}
func.func private @bad_bool(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = mma_sp_sm80, n = 16, k = 32, rank = 0, has_bias = 1, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0>}

// -----

// expected-error @+2 {{expected ::slr::GPUKernelVariant to be one of: mma_sp_sm80}}
// expected-error @+1 {{failed to parse SLR_GPULaunchAttr parameter 'variant'}}
func.func private @bad_variant(memref<?x32xf16>) attributes {slr.gpu_launcher = #slr.gpu_launch<variant = wgmma, n = 16, k = 32, rank = 0, main = @kernels::@main, tile_n = 16, tile_m = 16, threads = 32, shared_bytes = 0>}
