// Without a usable GPU, a program compiled by --slr-gpu-pipeline stops at
// its first runtime call with a one-line error from libslr_cuda_runtime and
// exit status 1 (the kernel module is loaded before main runs). The same
// program as PTX runs on the simulator: y = 2 * 16 groups of ones = 32.
//
// REQUIRES: ptxas, cuda-sim
// RUN: %if !cuda-gpu %{ slr-opt %s -slr-gpu-pipeline \
// RUN: | not %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_runtime,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=NODRIVER %}
// NODRIVER-NOT: {{^[0-9]}}
// NODRIVER: slr_cuda_runtime: {{cannot load the CUDA driver \(libcuda.so.1\)|cuInit: |CUDA device 0 requested}}
//
// RUN: slr-opt %s -slr-gpu-pipeline="format=isa" \
// RUN: | %mlir_runner -e main -entry-point-result=void \
// RUN:     -shared-libs=%slr_cuda_sim,%mlir_runner_utils,%mlir_c_runner_utils 2>&1 \
// RUN: | FileCheck %s --check-prefix=SIM
// SIM: 32

func.func private @printI64(i64)

func.func @main() {
  %x = arith.constant dense<1.0> : tensor<4x64xf16>
  %v = arith.constant dense<1.0> : tensor<128x32xf16>
  %p = arith.constant dense<4> : tensor<128x16xi8>
  %y = slr.linear %x, %v, %p {pattern = #slr.nm<2, 4>} : tensor<4x64xf16>, tensor<128x32xf16>, tensor<128x16xi8> -> tensor<4x128xf16>
  %c0 = arith.constant 0 : index
  %e = tensor.extract %y[%c0, %c0] : tensor<4x128xf16>
  %f = arith.fptosi %e : f16 to i64
  call @printI64(%f) : (i64) -> ()
  return
}
