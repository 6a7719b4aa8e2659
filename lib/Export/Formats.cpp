//===- Formats.cpp - GGUF base + LoRA adapter, packed safetensors ---------===//
//
// llama.cpp applies a LoRA adapter as y = W·x + s·B·(A·x) with
// s = alpha / rank (B's ne[0]) when alpha is set; alpha = rank makes s
// exactly 1, so base (S) + adapter (A = V, B = U) computes S + U·V.
//
//===----------------------------------------------------------------------===//

#include "slr/Export/Export.h"
#include "slr/Sparsity/NMLayout.h"
#include "slr/Support/FileIO.h"
#include "slr/Support/FloatConversion.h"
#include "slr/Support/GGUF.h"
#include "slr/Support/Safetensors.h"

#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"

#include <map>
#include <set>

using namespace slr;

static llvm::Error fail(const llvm::Twine &message) {
  return llvm::createStringError(message);
}

/// Little-endian bytes of `values` in `type`.
static std::vector<uint8_t> encodeFloats(llvm::ArrayRef<float> values,
                                         ExportFloatType type) {
  size_t width = type == ExportFloatType::F32 ? 4 : 2;
  std::vector<uint8_t> bytes(values.size() * width);
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = type == ExportFloatType::F32   ? floatToBits(values[i])
                    : type == ExportFloatType::F16 ? floatToHalf(values[i])
                                                   : floatToBfloat16(values[i]);
    for (size_t b = 0; b < width; ++b)
      bytes[width * i + b] = static_cast<uint8_t>(bits >> (8 * b));
  }
  return bytes;
}

static GGMLType ggmlTypeOf(ExportFloatType type) {
  switch (type) {
  case ExportFloatType::F32:
    return GGMLType::F32;
  case ExportFloatType::F16:
    return GGMLType::F16;
  case ExportFloatType::BF16:
    return GGMLType::BF16;
  }
  return GGMLType::F32;
}

static SafetensorsDType safetensorsTypeOf(ExportFloatType type) {
  switch (type) {
  case ExportFloatType::F32:
    return SafetensorsDType::F32;
  case ExportFloatType::F16:
    return SafetensorsDType::F16;
  case ExportFloatType::BF16:
    return SafetensorsDType::BF16;
  }
  return SafetensorsDType::F32;
}

/// The one rank of the layers with a low-rank part (0 when none has one);
/// `format` names the format that needs one rank in the error.
static llvm::Expected<int64_t> uniformRank(const ExportModel &model,
                                           llvm::StringRef format) {
  const ExportLayer *first = nullptr;
  for (const ExportLayer &layer : model.layers) {
    if (layer.rank == 0)
      continue;
    if (!first) {
      first = &layer;
      continue;
    }
    if (layer.rank != first->rank)
      return fail(format + ": layers '" + first->name + "' (rank " +
                  llvm::Twine(first->rank) + ") and '" + layer.name +
                  "' (rank " + llvm::Twine(layer.rank) +
                  ") differ; a LoRA adapter states one alpha, so its scale "
                  "alpha/rank is 1 for one rank only");
  }
  return first ? first->rank : 0;
}

llvm::Error slr::checkSourceMatches(const ExportModel &model,
                                    const GGUFFile &source) {
  // The IR must be the source's model: its non-linear tensors (and dense
  // linears) are the source's, bit for bit, after dequantisation.
  for (const auto &entry : model.namedConstants) {
    const GGUFTensorInfo *tensor = source.findTensor(entry.getKey());
    if (!tensor)
      continue;
    llvm::Expected<std::vector<float>> values =
        source.readTensorAsFloat(*tensor);
    if (!values)
      return values.takeError();
    if (*values != entry.getValue())
      return fail("the source checkpoint is not the IR's model: tensor '" +
                  entry.getKey() + "' differs");
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<ExportFile>>
slr::exportGGUF(const ExportModel &model, const GGUFFile &source,
                const GGUFExportOptions &options) {
  for (const ExportLayer &layer : model.layers)
    if (!layer.bias.empty())
      return fail("gguf: layer '" + layer.name +
                  "' has a bias; llama GGUF linear layers have none");
  llvm::Expected<int64_t> rank = uniformRank(model, "gguf");
  if (!rank)
    return rank.takeError();

  if (llvm::Error error = checkSourceMatches(model, source))
    return error;

  GGUFWriter base;
  base.setVersion(3);
  base.setAlignment(source.getAlignment());
  for (const auto &[key, value] : source.getMetadata())
    base.addValue(key, value);

  llvm::StringSet<> written;
  auto addLinear = [&](const ExportLayer &layer, llvm::StringRef name) {
    base.addTensor(
        name,
        {static_cast<uint64_t>(layer.cols), static_cast<uint64_t>(layer.rows)},
        ggmlTypeOf(options.baseType),
        encodeFloats(layer.dense, options.baseType));
    written.insert(layer.name);
  };
  for (const GGUFTensorInfo &tensor : source.getTensors()) {
    llvm::StringRef name = tensor.name;
    const ExportLayer *layer = nullptr;
    if (name.ends_with(".weight"))
      layer = model.findLayer(name.drop_back(strlen(".weight")));
    // A tied head's layer "output" reads token_embd.weight, which stays.
    if (!layer || name == "token_embd.weight") {
      base.addTensor(name, tensor.dims, tensor.type,
                     source.getTensorBytes(tensor));
      continue;
    }
    if (tensor.dims.size() != 2 ||
        tensor.dims[0] != static_cast<uint64_t>(layer->cols) ||
        tensor.dims[1] != static_cast<uint64_t>(layer->rows))
      return fail("gguf: layer '" + layer->name + "' is " +
                  llvm::Twine(layer->rows) + "x" + llvm::Twine(layer->cols) +
                  " but the source tensor '" + name + "' has other dims");
    addLinear(*layer, name);
  }
  for (const ExportLayer &layer : model.layers) {
    if (written.contains(layer.name))
      continue;
    // The tied head: token_embd.weight stays for the embedding and
    // output.weight, which llama.cpp and slr-import prefer when present,
    // carries the layer.
    if (layer.name == "output" && !source.findTensor("output.weight")) {
      const GGUFTensorInfo *embedding = source.findTensor("token_embd.weight");
      if (!embedding ||
          embedding->rows() != static_cast<uint64_t>(layer.rows) ||
          embedding->columns() != static_cast<uint64_t>(layer.cols))
        return fail("gguf: layer 'output' does not match token_embd.weight");
      addLinear(layer, "output.weight");
      continue;
    }
    return fail("gguf: layer '" + layer.name + "' has no tensor '" +
                layer.name + ".weight' in the source checkpoint");
  }

  std::vector<ExportFile> files;
  files.push_back({"model.gguf", base.serialize()});
  if (*rank == 0)
    return files;

  GGUFWriter adapter;
  llvm::Expected<std::string> architecture =
      source.getString("general.architecture");
  if (!architecture)
    return architecture.takeError();
  adapter.addString("general.architecture", *architecture);
  adapter.addString("general.type", "adapter");
  adapter.addString("adapter.type", "lora");
  adapter.addFloat32("adapter.lora.alpha", static_cast<float>(*rank));
  if (const GGUFValue *name = source.findMetadata("general.name"))
    if (std::optional<llvm::StringRef> text = name->getAsString())
      adapter.addString("general.name", (*text + " (slr low-rank part)").str());
  for (const ExportLayer &layer : model.layers) {
    if (layer.rank == 0)
      continue;
    std::string name = layer.name + ".weight";
    uint64_t r = static_cast<uint64_t>(layer.rank);
    // A = V [r, K] (ne = {K, r}), B = U [N, r] (ne = {r, N}).
    adapter.addTensor(name + ".lora_a", {static_cast<uint64_t>(layer.cols), r},
                      ggmlTypeOf(options.adapterType),
                      encodeFloats(layer.v, options.adapterType));
    adapter.addTensor(name + ".lora_b", {r, static_cast<uint64_t>(layer.rows)},
                      ggmlTypeOf(options.adapterType),
                      encodeFloats(layer.u, options.adapterType));
  }
  files.push_back({"adapter.gguf", adapter.serialize()});
  return files;
}

llvm::Expected<std::vector<ExportFile>>
slr::exportPacked(const ExportModel &model) {
  SafetensorsWriter writer;
  llvm::json::Array layers;
  for (const ExportLayer &layer : model.layers) {
    // The IR's own element type: the file holds exactly the IR's numbers.
    ExportFloatType floatType = layer.elementType;
    SafetensorsDType dtype = safetensorsTypeOf(floatType);
    auto addFloats = [&](llvm::StringRef suffix, llvm::ArrayRef<int64_t> shape,
                         llvm::ArrayRef<float> values) {
      writer.addRaw((layer.name + suffix).str(), dtype, shape,
                    encodeFloats(values, floatType));
    };
    llvm::json::Object entry{
        {"name", layer.name}, {"rows", layer.rows}, {"cols", layer.cols}};
    if (!layer.compressed) {
      addFloats(".weight", {layer.rows, layer.cols}, layer.dense);
      entry["kind"] = "dense";
      layers.push_back(std::move(entry));
      continue;
    }
    // Positions as unsigned words of the IR's width (8, 16, 32 or 64 bits).
    unsigned bytesPerWord = layer.positionBits <= 8    ? 1
                            : layer.positionBits <= 16 ? 2
                            : layer.positionBits <= 32 ? 4
                                                       : 8;
    SafetensorsDType positionType = bytesPerWord == 1   ? SafetensorsDType::U8
                                    : bytesPerWord == 2 ? SafetensorsDType::U16
                                    : bytesPerWord == 4 ? SafetensorsDType::U32
                                                        : SafetensorsDType::U64;
    std::vector<uint8_t> positionBytes(layer.positions.size() * bytesPerWord);
    for (size_t i = 0; i < layer.positions.size(); ++i)
      for (unsigned b = 0; b < bytesPerWord; ++b)
        positionBytes[i * bytesPerWord + b] =
            static_cast<uint8_t>(layer.positions[i] >> (8 * b));
    int64_t groups = layer.cols / layer.m;
    addFloats(".values", {layer.rows, groups * layer.n}, layer.values);
    writer.addRaw(layer.name + ".positions", positionType, {layer.rows, groups},
                  positionBytes);
    if (layer.rank > 0) {
      addFloats(".u", {layer.rows, layer.rank}, layer.u);
      addFloats(".v", {layer.rank, layer.cols}, layer.v);
    }
    if (!layer.bias.empty())
      addFloats(".bias", {layer.rows}, layer.bias);
    entry["kind"] = "sparse_lowrank";
    entry["n"] = layer.n;
    entry["m"] = layer.m;
    entry["rank"] = layer.rank;
    entry["position_bits"] = bitsPerPosition(layer.m);
    entry["bias"] = !layer.bias.empty();
    layers.push_back(std::move(entry));
  }
  writer.setMetadata("format", "slr.packed");
  writer.setMetadata("format_version", "1");
  writer.setMetadata(
      "layout",
      "y = x*S^T + (x*V^T)*U^T + bias; S [rows, cols] is n:m sparse along "
      "cols: values[i, g*n + t] is the t-th kept entry (ascending position) "
      "of group g (cols g*m .. g*m+m-1) of row i; positions[i, g] = "
      "sum_t pos_t << (t * position_bits), position_bits = ceil(log2 m)");
  std::string layersJson;
  llvm::raw_string_ostream os(layersJson);
  os << llvm::json::Value(std::move(layers));
  writer.setMetadata("layers", layersJson);
  std::vector<ExportFile> files;
  files.push_back({"model.packed.safetensors", writer.serialize()});
  return files;
}

llvm::Error slr::writeExportFiles(llvm::StringRef directory,
                                  llvm::ArrayRef<ExportFile> files) {
  if (llvm::sys::fs::exists(directory) &&
      !llvm::sys::fs::is_directory(directory))
    return fail("cannot create output folder '" + directory +
                "': it is not a folder");
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return fail("cannot create output folder '" + directory +
                "': " + ec.message());
  for (const ExportFile &file : files) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, file.name);
    if (llvm::Error error = writeFileAtomically(path, file.contents))
      return error;
  }
  return llvm::Error::success();
}
