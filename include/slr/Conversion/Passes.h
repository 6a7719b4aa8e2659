//===- Passes.h - slr conversion passes --------------------------*- C++ -*-===//

#ifndef SLR_CONVERSION_PASSES_H
#define SLR_CONVERSION_PASSES_H

#include "slr/Conversion/ContractionsToRuntime/ContractionsToRuntime.h"
#include "slr/Conversion/SLRToCPURuntime/SLRToCPURuntime.h"
#include "slr/Conversion/SLRToGPU/SLRToGPU.h"
#include "slr/Conversion/SLRToLinalg/SLRToLinalg.h"

namespace slr {

#define GEN_PASS_REGISTRATION
#include "slr/Conversion/Passes.h.inc"

} // namespace slr

#endif // SLR_CONVERSION_PASSES_H
