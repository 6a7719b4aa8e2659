// --slr-gpu-pipeline checks its options before anything runs: a chip the
// kernels cannot target (it used to abort in instruction selection, "Cannot
// select ... cp.async"), a format gpu-module-to-binary would only complain
// about (it used to print an error, write the output and exit 0), a PTX
// version the kernels or the chip cannot use. One error line, a non-zero exit
// and no output file.
//
// RUN: rm -f %t.out && not slr-opt %s -slr-gpu-pipeline="chip=sm_75" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=SM75 < %t.err && count 1 < %t.err && not test -e %t.out
// SM75: error: slr-gpu-pipeline: chip 'sm_75' is not supported: the kernels need sm_80 or newer (cp.async, mma.sp with ordered metadata); one of sm_80, sm_86, {{.*}}, sm_90a, sm_100,
//
// RUN: not slr-opt %s -slr-gpu-pipeline="format=foo" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=FORMAT < %t.err && count 1 < %t.err && not test -e %t.out
// FORMAT: error: slr-gpu-pipeline: format 'foo' must be bin, fatbin or isa
//
// The same through --pass-pipeline.
// RUN: not slr-opt %s --pass-pipeline="builtin.module(slr-gpu-pipeline{format=foo})" -o %t.out 2>&1 | FileCheck %s --check-prefix=FORMAT
//
// RUN: not slr-opt %s -slr-gpu-pipeline="chip=sm_100" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=PTXCHIP < %t.err && count 1 < %t.err && not test -e %t.out
// PTXCHIP: error: slr-gpu-pipeline: features '+ptx85' select PTX 8.5, but chip sm_100 needs PTX >= 8.6 (features=+ptx86)
//
// RUN: not slr-opt %s -slr-gpu-pipeline="features=+ptx80" -o %t.out 2>&1 | FileCheck %s --check-prefix=PTXLOW
// PTXLOW: error: slr-gpu-pipeline: features '+ptx80' select PTX 8.0, but mma.sp::ordered_metadata needs PTX >= 8.5 (features=+ptx85)
// RUN: not slr-opt %s -slr-gpu-pipeline="features=+ptx99" -o %t.out 2>&1 | FileCheck %s --check-prefix=PTXUNKNOWN
// PTXUNKNOWN: error: slr-gpu-pipeline: features '+ptx99': PTX 9.9 is not known to the NVPTX back end
// RUN: not slr-opt %s -slr-gpu-pipeline="features=+sm_90" -o %t.out 2>&1 | FileCheck %s --check-prefix=FEATURES
// FEATURES: error: slr-gpu-pipeline: features '+sm_90' must be one PTX ISA version, +ptxNN (e.g. +ptx85)
// RUN: not slr-opt %s -slr-gpu-pipeline="opt-level=4" -o %t.out 2>&1 | FileCheck %s --check-prefix=OPT
// OPT: error: slr-gpu-pipeline: opt-level must be 0, 1, 2 or 3, got 4
// RUN: not slr-opt %s -slr-gpu-pipeline="tile-n=abc" -o %t.out 2> %t.err
// RUN: FileCheck %s --check-prefix=TILE < %t.err && count 1 < %t.err && not test -e %t.out
// TILE: error: slr-gpu-pipeline: tile-n must be an integer, got 'abc'
//
// Newer chips with the PTX version they need are accepted.
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa chip=sm_120a features=+ptx87" | FileCheck %s --check-prefix=OK
// OK: .target sm_120a

func.func @linear(%x: tensor<?x64xbf16>, %v: tensor<128x32xbf16>, %p: tensor<128x16xi8>) -> tensor<?x128xbf16> {
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<?x64xbf16>, tensor<128x32xbf16>, tensor<128x16xi8> -> tensor<?x128xbf16>
  return %y : tensor<?x128xbf16>
}
