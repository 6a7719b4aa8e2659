//===- CalibrationFile.cpp - Per-layer calibration statistics -------------===//

#include "slr/Calibration/CalibrationFile.h"
#include "slr/Support/Safetensors.h"

#include <cmath>
#include <limits>

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
  for (const auto &[key, value] : file->allMetadata())
    if (key != "tokens")
      calibration.metadata[key] = value;
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
  for (const auto &[key, value] : metadata)
    writer.setMetadata(key, value);
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
    writer.addF64Borrowed(name, {layer.numFeatures, layer.numFeatures},
                          layer.hessian);
  }
  return writer.write(path);
}

llvm::Error CalibrationFile::merge(const CalibrationFile &other,
                                   llvm::StringRef thisName,
                                   llvm::StringRef otherName) {
  auto refuse = [&](const llvm::Twine &why) {
    return llvm::createStringError("cannot merge '" + otherName + "' into '" +
                                   thisName + "': " + why);
  };
  for (const auto &[key, value] : metadata) {
    auto it = other.metadata.find(key);
    if (it == other.metadata.end())
      return refuse("metadata '" + key + "' is '" + value +
                    "' in the first and absent in the second");
    if (it->second != value)
      return refuse("metadata '" + key + "' differs ('" + value + "' vs '" +
                    it->second + "')");
  }
  for (const auto &[key, value] : other.metadata)
    if (!metadata.count(key))
      return refuse("metadata '" + key + "' is '" + value +
                    "' in the second and absent in the first");
  for (const auto &[name, layer] : layers)
    if (!other.layers.count(name))
      return refuse("layer '" + name + "' is only in the first");
  for (const auto &[name, layer] : other.layers) {
    auto it = layers.find(name);
    if (it == layers.end())
      return refuse("layer '" + name + "' is only in the second");
    if (it->second.numFeatures != layer.numFeatures)
      return refuse("layer '" + name + "' has K = " +
                    llvm::Twine(it->second.numFeatures) + " in the first and " +
                    llvm::Twine(layer.numFeatures) + " in the second");
  }
  if (other.tokenCount > std::numeric_limits<int64_t>::max() - tokenCount)
    return refuse("the token counts overflow");
  for (auto &[name, layer] : layers) {
    const std::vector<double> &addend = other.layers.at(name).hessian;
    for (size_t i = 0; i < layer.hessian.size(); ++i)
      layer.hessian[i] += addend[i];
  }
  tokenCount += other.tokenCount;
  return llvm::Error::success();
}

const LayerCalibration *CalibrationFile::lookup(llvm::StringRef name) const {
  auto it = layers.find(name.str());
  return it == layers.end() ? nullptr : &it->second;
}
