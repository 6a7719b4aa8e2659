//===- CalibrationFile.h - Per-layer calibration statistics -----*- C++ -*-===//
//
// The calibration statistics slr-calibrate writes and --slr-compress reads:
// one K x K matrix H = X^T X per linear layer, keyed by the layer's stable
// name, in a safetensors file (dtype F64, or F32 when read), with the number
// of calibration tokens in the metadata under "tokens".
//
//===----------------------------------------------------------------------===//

#ifndef SLR_CALIBRATION_CALIBRATIONFILE_H
#define SLR_CALIBRATION_CALIBRATIONFILE_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace slr {

struct LayerCalibration {
  /// K: H is numFeatures x numFeatures, row-major.
  int64_t numFeatures = 0;
  std::vector<double> hessian;
};

class CalibrationFile {
public:
  /// Reads and validates a calibration file (square 2-D F64/F32 tensors).
  static llvm::Expected<CalibrationFile> read(llvm::StringRef path);
  /// Writes all layers as F64 tensors plus the token count.
  llvm::Error write(llvm::StringRef path) const;

  const LayerCalibration *lookup(llvm::StringRef name) const;
  void add(const std::string &name, LayerCalibration layer) {
    layers[name] = std::move(layer);
  }

  /// Number of calibration tokens the statistics were accumulated over.
  int64_t tokenCount = 0;
  std::map<std::string, LayerCalibration> layers;
};

} // namespace slr

#endif // SLR_CALIBRATION_CALIBRATIONFILE_H
