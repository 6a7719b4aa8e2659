//===- CalibrationFile.cpp - Per-layer calibration statistics -------------===//

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Support/Safetensors.h"

#include <cmath>

using namespace slr;

llvm::Expected<CalibrationFile> CalibrationFile::read(llvm::StringRef path) {
  auto file = SafetensorsFile::open(path);
  if (!file)
    return llvm::createStringError("calibration file '" + path +
                                   "': " + llvm::toString(file.takeError()));
  CalibrationFile calibration;
  llvm::StringRef tokens = file->metadata("tokens");
  if (!tokens.empty() && tokens.getAsInteger(10, calibration.tokenCount))
    return llvm::createStringError("calibration file '" + path +
                                   "': metadata 'tokens' is not an integer");
  for (const SafetensorsTensor &tensor : file->tensors()) {
    if (tensor.shape.size() != 2 || tensor.shape[0] != tensor.shape[1])
      return llvm::createStringError("calibration file '" + path +
                                     "': tensor '" + tensor.name +
                                     "' is not a square matrix");
    LayerCalibration layer;
    layer.numFeatures = tensor.shape[0];
    if (llvm::Error error = file->readAsDouble(tensor, layer.hessian))
      return error;
    for (double value : layer.hessian)
      if (!std::isfinite(value))
        return llvm::createStringError("calibration file '" + path +
                                       "': matrix '" + tensor.name +
                                       "' contains NaN or Inf");
    calibration.add(tensor.name, std::move(layer));
  }
  return calibration;
}

llvm::Error CalibrationFile::write(llvm::StringRef path) const {
  SafetensorsWriter writer;
  writer.setMetadata("tokens", std::to_string(tokenCount));
  for (const auto &[name, layer] : layers) {
    if (layer.numFeatures <= 0 ||
        layer.hessian.size() != static_cast<uint64_t>(layer.numFeatures) *
                                    static_cast<uint64_t>(layer.numFeatures))
      return llvm::createStringError("calibration: matrix for layer '" + name +
                                     "' is not " +
                                     std::to_string(layer.numFeatures) + " x " +
                                     std::to_string(layer.numFeatures));
    // The reader refuses such a file, and compressing against it would
    // silently produce garbage: fail where the statistic is made.
    for (double value : layer.hessian)
      if (!std::isfinite(value))
        return llvm::createStringError(
            "calibration: H = X^T X of layer '" + name +
            "' contains NaN or Inf (the layer's inputs are not finite)");
    writer.addF64(name, {layer.numFeatures, layer.numFeatures}, layer.hessian);
  }
  return writer.write(path);
}

const LayerCalibration *CalibrationFile::lookup(llvm::StringRef name) const {
  auto it = layers.find(name.str());
  return it == layers.end() ? nullptr : &it->second;
}
