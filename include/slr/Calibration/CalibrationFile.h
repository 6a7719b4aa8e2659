//===- CalibrationFile.h - Per-layer calibration statistics -----*- C++ -*-===//
//
// The calibration statistics slr-calibrate writes and --slr-compress reads:
// one K x K matrix H = X^T X per linear layer, keyed by the layer's stable
// name, in a safetensors file (dtype F64, or F32 when read), with the number
// of calibration tokens in the metadata under "tokens" and what the
// statistics were taken of (slr-calibrate: "model_sha256", "context") under
// other keys. Shards of one calibration (the same model and windows, parts
// of the text) merge: H and the token counts add.
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

  /// Adds `other`'s H and tokens to this one's (H in float64, in the order
  /// this-then-other). Refused, naming the two files, when the layer sets,
  /// a layer's K or the metadata other than "tokens" differ.
  llvm::Error merge(const CalibrationFile &other, llvm::StringRef thisName,
                    llvm::StringRef otherName);

  /// Number of calibration tokens the statistics were accumulated over.
  int64_t tokenCount = 0;
  /// The metadata besides "tokens".
  std::map<std::string, std::string> metadata;
  std::map<std::string, LayerCalibration> layers;
};

} // namespace slr

#endif // SLR_CALIBRATION_CALIBRATIONFILE_H
