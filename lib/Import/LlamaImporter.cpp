//===- LlamaImporter.cpp - Llama checkpoint to model IR -------------------===//
//
// The forward pass follows the llama architecture as llama.cpp / llama2.c
// compute it: RMSNorm (w * (x * rsqrt(mean(x^2) + eps))), RoPE rotating
// consecutive pairs (2i, 2i+1) of each head by pos * base^(-2i/hd),
// grouped-query causal softmax attention, SwiGLU FFN, final norm and output
// head. Everything is linalg on tensors with one dynamic dimension, the
// sequence length T.
//
//===----------------------------------------------------------------------===//

#include "slr/Import/LlamaImporter.h"
#include "slr/Dialect/SLR/Transforms/LinearMatching.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace slr;
using utils::IteratorType;

llvm::Error LlamaConfig::validate() const {
  auto fail = [](const llvm::Twine &message) {
    return llvm::createStringError("llama config: " + message);
  };
  auto inRange = [](int64_t value, int64_t maximum) {
    return value > 0 && value <= maximum;
  };
  if (!inRange(vocabSize, kMaxVocab) || !inRange(dim, kMaxWidth) ||
      !inRange(hiddenDim, kMaxWidth) || !inRange(numLayers, kMaxLayers) ||
      !inRange(numHeads, kMaxHeads) || !inRange(numKVHeads, kMaxHeads) ||
      !inRange(contextLength, kMaxContextLength))
    return fail("vocab (" + llvm::Twine(vocabSize) + "), dim (" +
                llvm::Twine(dim) + "), FFN width (" + llvm::Twine(hiddenDim) +
                "), layers (" + llvm::Twine(numLayers) + "), heads (" +
                llvm::Twine(numHeads) + "/" + llvm::Twine(numKVHeads) +
                ") and context length (" + llvm::Twine(contextLength) +
                ") must be positive and within slr's bounds");
  if (dim % numHeads != 0)
    return fail("dim " + llvm::Twine(dim) + " is not divisible by " +
                llvm::Twine(numHeads) + " heads");
  if (numHeads % numKVHeads != 0)
    return fail(llvm::Twine(numHeads) + " heads are not a multiple of " +
                llvm::Twine(numKVHeads) + " KV heads");
  if (headDim() % 2 != 0)
    return fail("RoPE needs an even head dimension, got " +
                llvm::Twine(headDim()));
  // Written so that NaN fails: an infinite epsilon or base makes every
  // activation 0 and the model a uniform guess.
  if (!(rmsNormEps >= kMinRmsNormEps && rmsNormEps <= 1.0) ||
      !(ropeFreqBase >= 1.0 && ropeFreqBase <= kMaxRopeFreqBase))
    return fail("RMSNorm epsilon must be in [1e-30, 1] and RoPE base in [1, "
                "1e30]");
  return llvm::Error::success();
}

void slr::registerLlamaModelDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, func::FuncDialect, linalg::LinalgDialect,
                  math::MathDialect, tensor::TensorDialect>();
}

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

class LlamaBuilder {
public:
  LlamaBuilder(MLIRContext &context, const LlamaConfig &config,
               WeightProvider weights)
      : b(&context), loc(UnknownLoc::get(&context)), config(config),
        weights(weights), f32(b.getF32Type()) {}

  llvm::Expected<OwningOpRef<ModuleOp>> build();

private:
  // Values of shape [T, ...]: the dynamic leading dimension is T.
  RankedTensorType seqType(ArrayRef<int64_t> trailing) {
    SmallVector<int64_t> shape = {kDyn};
    shape.append(trailing.begin(), trailing.end());
    return RankedTensorType::get(shape, f32);
  }
  Value emptyLike(RankedTensorType type) {
    SmallVector<Value> dynamicSizes;
    for (int64_t dim : type.getShape())
      if (dim == kDyn)
        dynamicSizes.push_back(seqLen);
    return tensor::EmptyOp::create(b, loc, type.getShape(),
                                   type.getElementType(), dynamicSizes);
  }
  Value filled(RankedTensorType type, double value) {
    Value scalar = arith::ConstantOp::create(
        b, loc, f32, b.getF32FloatAttr(static_cast<float>(value)));
    return linalg::FillOp::create(b, loc, scalar, emptyLike(type)).getResult(0);
  }
  AffineMap dims(unsigned numDims, ArrayRef<unsigned> which) {
    SmallVector<AffineExpr> exprs;
    for (unsigned d : which)
      exprs.push_back(b.getAffineDimExpr(d));
    return AffineMap::get(numDims, 0, exprs, b.getContext());
  }
  /// A linalg.generic with one result.
  Value generic(RankedTensorType resultType, ValueRange inputs,
                ArrayRef<AffineMap> inputMaps, Value init, AffineMap outputMap,
                ArrayRef<IteratorType> iterators,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    SmallVector<AffineMap> maps(inputMaps.begin(), inputMaps.end());
    maps.push_back(outputMap);
    return linalg::GenericOp::create(
               b, loc, resultType, inputs, ValueRange{init}, maps, iterators,
               [&](OpBuilder &nb, Location nloc, ValueRange args) {
                 linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
               })
        .getResult(0);
  }
  /// Elementwise over [T, C].
  Value
  elementwise(ValueRange inputs, int64_t columns,
              function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    RankedTensorType type = seqType({columns});
    AffineMap identity = dims(2, {0, 1});
    SmallVector<AffineMap> maps(inputs.size(), identity);
    return generic(type, inputs, maps, emptyLike(type), identity,
                   {IteratorType::parallel, IteratorType::parallel}, body);
  }

  llvm::Expected<Value> weight(StringRef name, ArrayRef<int64_t> shape);
  llvm::Expected<Value> linear(Value x, StringRef layer, int64_t numOutputs,
                               int64_t numInputs);
  llvm::Expected<Value> rmsNorm(Value x, StringRef weightName);
  Value rope(Value x, int64_t numHeads);
  Value attention(Value q, Value k, Value v);
  Value add(Value lhs, Value rhs, int64_t columns) {
    return elementwise(
        {lhs, rhs}, columns, [](OpBuilder &nb, Location nloc, ValueRange args) {
          return arith::AddFOp::create(nb, nloc, args[0], args[1]).getResult();
        });
  }
  llvm::Expected<Value> block(Value x, int64_t layer);

  OpBuilder b;
  Location loc;
  const LlamaConfig &config;
  WeightProvider weights;
  Type f32;
  Value seqLen;
};

llvm::Expected<Value> LlamaBuilder::weight(StringRef name,
                                           ArrayRef<int64_t> shape) {
  int64_t numElements = 1;
  for (int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(numElements, dim, &numElements))
      return llvm::createStringError("weight '" + name +
                                     "' has a shape whose element count "
                                     "overflows");
  llvm::Expected<std::vector<float>> data = weights(name, shape);
  if (!data)
    return data.takeError();
  if (static_cast<int64_t>(data->size()) != numElements)
    return llvm::createStringError(
        "weight '" + name + "' has " + llvm::Twine(data->size()) +
        " elements, expected " + llvm::Twine(numElements));
  for (float value : *data)
    if (!std::isfinite(value))
      return llvm::createStringError("weight '" + name +
                                     "' contains NaN or Inf");
  auto type = RankedTensorType::get(shape, f32);
  auto attr = DenseF32ResourceElementsAttr::get(
      type, name,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(*data)));
  return arith::ConstantOp::create(b, loc, cast<TypedAttr>(attr)).getResult();
}

llvm::Expected<Value> LlamaBuilder::linear(Value x, StringRef layer,
                                           int64_t numOutputs,
                                           int64_t numInputs) {
  llvm::Expected<Value> w =
      weight((layer + ".weight").str(), {numOutputs, numInputs});
  if (!w)
    return w.takeError();
  RankedTensorType resultType = seqType({numOutputs});
  // y[t, n] = sum_k x[t, k] * W[n, k]: W stays in its stored [N, K] layout.
  ArrayAttr maps = b.getAffineMapArrayAttr(
      {dims(3, {0, 2}), dims(3, {1, 2}), dims(3, {0, 1})});
  auto matmul = linalg::MatmulOp::create(
      b, loc, TypeRange{resultType}, ValueRange{x, *w},
      ValueRange{filled(resultType, 0.0)},
      ArrayRef<NamedAttribute>{b.getNamedAttr("indexing_maps", maps)});
  matmul->setAttr(kLayerNameAttr, b.getStringAttr(layer));
  return matmul.getResult(0);
}

llvm::Expected<Value> LlamaBuilder::rmsNorm(Value x, StringRef weightName) {
  int64_t width = config.dim;
  llvm::Expected<Value> w = weight(weightName, {width});
  if (!w)
    return w.takeError();
  RankedTensorType sumType = seqType({});
  Value sumOfSquares = generic(
      sumType, {x}, {dims(2, {0, 1})}, filled(sumType, 0.0), dims(2, {0}),
      {IteratorType::parallel, IteratorType::reduction},
      [](OpBuilder &nb, Location nloc, ValueRange args) {
        Value square = arith::MulFOp::create(nb, nloc, args[0], args[0]);
        return arith::AddFOp::create(nb, nloc, args[1], square).getResult();
      });
  RankedTensorType type = seqType({width});
  float invWidth = 1.0f / static_cast<float>(width);
  float eps = static_cast<float>(config.rmsNormEps);
  return generic(
      type, {x, sumOfSquares, *w},
      {dims(2, {0, 1}), dims(2, {0}), dims(2, {1})}, emptyLike(type),
      dims(2, {0, 1}), {IteratorType::parallel, IteratorType::parallel},
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        auto constant = [&](float v) {
          return arith::ConstantOp::create(nb, nloc, f32,
                                           nb.getF32FloatAttr(v));
        };
        Value mean =
            arith::MulFOp::create(nb, nloc, args[1], constant(invWidth));
        Value shifted = arith::AddFOp::create(nb, nloc, mean, constant(eps));
        Value scale = math::RsqrtOp::create(nb, nloc, shifted);
        Value scaled = arith::MulFOp::create(nb, nloc, scale, args[0]);
        return arith::MulFOp::create(nb, nloc, args[2], scaled).getResult();
      });
}

Value LlamaBuilder::rope(Value x, int64_t numHeads) {
  int64_t headDim = config.headDim();
  int64_t width = numHeads * headDim;
  // Inverse frequencies base^(-2i/hd), as float like the reference code.
  SmallVector<float> inverseFrequencies;
  for (int64_t i = 0; i < headDim / 2; ++i)
    inverseFrequencies.push_back(
        1.0f /
        std::pow(static_cast<float>(config.ropeFreqBase),
                 static_cast<float>(2 * i) / static_cast<float>(headDim)));
  auto freqType = RankedTensorType::get({headDim / 2}, f32);
  Value frequencies = arith::ConstantOp::create(
      b, loc, freqType,
      DenseElementsAttr::get(freqType, ArrayRef<float>(inverseFrequencies)));
  return elementwise(
      {x}, width, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value position = linalg::IndexOp::create(nb, nloc, 0);
        Value column = linalg::IndexOp::create(nb, nloc, 1);
        auto index = [&](int64_t v) {
          return arith::ConstantIndexOp::create(nb, nloc, v);
        };
        Value inHead = arith::RemUIOp::create(nb, nloc, column, index(headDim));
        Value pairIndex = arith::DivUIOp::create(nb, nloc, inHead, index(2));
        Value isOdd = arith::CmpIOp::create(
            nb, nloc, arith::CmpIPredicate::eq,
            arith::RemUIOp::create(nb, nloc, column, index(2)), index(1));
        Value frequency =
            tensor::ExtractOp::create(nb, nloc, frequencies, pairIndex);
        Value positionF = arith::UIToFPOp::create(
            nb, nloc, f32,
            arith::IndexCastUIOp::create(nb, nloc, nb.getI32Type(), position));
        Value angle = arith::MulFOp::create(nb, nloc, positionF, frequency);
        Value cos = math::CosOp::create(nb, nloc, angle);
        Value sin = math::SinOp::create(nb, nloc, angle);
        // Even j: x_j cos - x_{j+1} sin; odd j: x_{j-1} sin + x_j cos.
        Value partnerColumn = arith::SelectOp::create(
            nb, nloc, isOdd, arith::SubIOp::create(nb, nloc, column, index(1)),
            arith::AddIOp::create(nb, nloc, column, index(1)));
        Value partner = tensor::ExtractOp::create(
            nb, nloc, x, ValueRange{position, partnerColumn});
        Value own = arith::MulFOp::create(nb, nloc, args[0], cos);
        Value cross = arith::MulFOp::create(nb, nloc, partner, sin);
        Value even = arith::SubFOp::create(nb, nloc, own, cross);
        Value odd = arith::AddFOp::create(nb, nloc, cross, own);
        return arith::SelectOp::create(nb, nloc, isOdd, odd, even).getResult();
      });
}

Value LlamaBuilder::attention(Value q, Value k, Value v) {
  int64_t numHeads = config.numHeads, numKVHeads = config.numKVHeads;
  int64_t headDim = config.headDim(), group = numHeads / numKVHeads;
  // [T, H*hd] -> [H, T, hd]; K and V are repeated over each head group.
  auto toHeads = [&](Value x, int64_t heads) -> Value {
    auto splitType = RankedTensorType::get({kDyn, heads, headDim}, f32);
    Value split = tensor::ExpandShapeOp::create(
        b, loc, splitType, x, {ReassociationIndices{0}, {1, 2}},
        ArrayRef<OpFoldResult>{seqLen, b.getIndexAttr(heads),
                               b.getIndexAttr(headDim)});
    auto headsType = RankedTensorType::get({numHeads, kDyn, headDim}, f32);
    // out[h, t, d] = split[t, h / group, d] (identity when group == 1).
    AffineExpr h = b.getAffineDimExpr(0), t = b.getAffineDimExpr(1),
               d = b.getAffineDimExpr(2);
    AffineMap in =
        AffineMap::get(3, 0, {t, heads == numHeads ? h : h.floorDiv(group), d},
                       b.getContext());
    return generic(
        headsType, {split}, {in},
        tensor::EmptyOp::create(b, loc, headsType.getShape(), f32,
                                ValueRange{seqLen}),
        dims(3, {0, 1, 2}),
        SmallVector<IteratorType>(3, IteratorType::parallel),
        [](OpBuilder &, Location, ValueRange args) { return args[0]; });
  };
  Value qh = toHeads(q, numHeads), kh = toHeads(k, numKVHeads),
        vh = toHeads(v, numKVHeads);

  auto scoresType = RankedTensorType::get({numHeads, kDyn, kDyn}, f32);
  auto emptyScores = [&]() -> Value {
    return tensor::EmptyOp::create(b, loc, scoresType.getShape(), f32,
                                   ValueRange{seqLen, seqLen});
  };
  Value zero = arith::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(0.0f));
  Value scoresInit =
      linalg::FillOp::create(b, loc, zero, emptyScores()).getResult(0);
  // scores[h, t, s] = q[h, t, :] . k[h, s, :]
  Value scores =
      linalg::BatchMatmulOp::create(
          b, loc, TypeRange{scoresType}, ValueRange{qh, kh},
          ValueRange{scoresInit},
          ArrayRef<NamedAttribute>{b.getNamedAttr(
              "indexing_maps",
              b.getAffineMapArrayAttr({dims(4, {0, 1, 3}), dims(4, {0, 2, 3}),
                                       dims(4, {0, 1, 2})}))})
          .getResult(0);

  // Causal softmax over s with scale 1/sqrt(hd), in three sweeps.
  float scale = 1.0f / std::sqrt(static_cast<float>(headDim));
  float negInf = -std::numeric_limits<float>::infinity();
  auto rowType = RankedTensorType::get({numHeads, kDyn}, f32);
  auto rowInit = [&](float value) -> Value {
    Value scalar =
        arith::ConstantOp::create(b, loc, f32, b.getF32FloatAttr(value));
    Value empty = tensor::EmptyOp::create(b, loc, rowType.getShape(), f32,
                                          ValueRange{seqLen});
    return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
  };
  auto masked = [&](OpBuilder &nb, Location nloc, Value score) -> Value {
    Value t = linalg::IndexOp::create(nb, nloc, 1);
    Value s = linalg::IndexOp::create(nb, nloc, 2);
    Value future =
        arith::CmpIOp::create(nb, nloc, arith::CmpIPredicate::ugt, s, t);
    Value scaled = arith::MulFOp::create(
        nb, nloc, score,
        arith::ConstantOp::create(nb, nloc, f32, nb.getF32FloatAttr(scale)));
    Value inf =
        arith::ConstantOp::create(nb, nloc, f32, nb.getF32FloatAttr(negInf));
    return arith::SelectOp::create(nb, nloc, future, inf, scaled);
  };
  SmallVector<IteratorType> reduceLast = {
      IteratorType::parallel, IteratorType::parallel, IteratorType::reduction};
  AffineMap all = dims(3, {0, 1, 2}), rows = dims(3, {0, 1});
  Value rowMax =
      generic(rowType, {scores}, {all}, rowInit(negInf), rows, reduceLast,
              [&](OpBuilder &nb, Location nloc, ValueRange args) {
                return arith::MaximumFOp::create(nb, nloc, args[1],
                                                 masked(nb, nloc, args[0]))
                    .getResult();
              });
  auto expShifted = [&](OpBuilder &nb, Location nloc, Value score,
                        Value max) -> Value {
    Value shifted =
        arith::SubFOp::create(nb, nloc, masked(nb, nloc, score), max);
    return math::ExpOp::create(nb, nloc, shifted);
  };
  Value rowSum = generic(
      rowType, {scores, rowMax}, {all, rows}, rowInit(0.0f), rows, reduceLast,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return arith::AddFOp::create(nb, nloc, args[2],
                                     expShifted(nb, nloc, args[0], args[1]))
            .getResult();
      });
  Value probabilities = generic(
      scoresType, {scores, rowMax, rowSum}, {all, rows, rows}, emptyScores(),
      all, SmallVector<IteratorType>(3, IteratorType::parallel),
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        return arith::DivFOp::create(
                   nb, nloc, expShifted(nb, nloc, args[0], args[1]), args[2])
            .getResult();
      });

  // out[h, t, d] = sum_s p[h, t, s] v[h, s, d]
  auto headsType = RankedTensorType::get({numHeads, kDyn, headDim}, f32);
  Value outEmpty = tensor::EmptyOp::create(b, loc, headsType.getShape(), f32,
                                           ValueRange{seqLen});
  Value outInit = linalg::FillOp::create(b, loc, zero, outEmpty).getResult(0);
  Value heads = linalg::BatchMatmulOp::create(b, loc, TypeRange{headsType},
                                              ValueRange{probabilities, vh},
                                              ValueRange{outInit})
                    .getResult(0);
  // [H, T, hd] -> [T, H, hd] -> [T, H*hd]
  auto interleavedType = RankedTensorType::get({kDyn, numHeads, headDim}, f32);
  Value interleaved =
      linalg::TransposeOp::create(
          b, loc, heads,
          tensor::EmptyOp::create(b, loc, interleavedType.getShape(), f32,
                                  ValueRange{seqLen}),
          ArrayRef<int64_t>{1, 0, 2})
          .getResult()[0];
  return tensor::CollapseShapeOp::create(
      b, loc, interleaved,
      ArrayRef<ReassociationIndices>{ReassociationIndices{0}, {1, 2}});
}

llvm::Expected<Value> LlamaBuilder::block(Value x, int64_t layer) {
  std::string prefix = "blk." + std::to_string(layer) + ".";
  int64_t dim = config.dim, kvDim = config.kvDim(), hidden = config.hiddenDim;
  auto attnInput = rmsNorm(x, prefix + "attn_norm.weight");
  if (!attnInput)
    return attnInput.takeError();
  auto q = linear(*attnInput, prefix + "attn_q", dim, dim);
  if (!q)
    return q.takeError();
  auto k = linear(*attnInput, prefix + "attn_k", kvDim, dim);
  if (!k)
    return k.takeError();
  auto v = linear(*attnInput, prefix + "attn_v", kvDim, dim);
  if (!v)
    return v.takeError();
  Value mixed =
      attention(rope(*q, config.numHeads), rope(*k, config.numKVHeads), *v);
  auto attnOut = linear(mixed, prefix + "attn_output", dim, dim);
  if (!attnOut)
    return attnOut.takeError();
  Value h = add(x, *attnOut, dim);

  auto ffnInput = rmsNorm(h, prefix + "ffn_norm.weight");
  if (!ffnInput)
    return ffnInput.takeError();
  auto gate = linear(*ffnInput, prefix + "ffn_gate", hidden, dim);
  if (!gate)
    return gate.takeError();
  auto up = linear(*ffnInput, prefix + "ffn_up", hidden, dim);
  if (!up)
    return up.takeError();
  // SwiGLU: silu(gate) * up with silu(g) = g / (1 + exp(-g)).
  Value activated = elementwise(
      {*gate, *up}, hidden, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value one =
            arith::ConstantOp::create(nb, nloc, f32, nb.getF32FloatAttr(1.0f));
        Value negated = arith::NegFOp::create(nb, nloc, args[0]);
        Value denominator = arith::AddFOp::create(
            nb, nloc, one, math::ExpOp::create(nb, nloc, negated));
        Value silu = arith::DivFOp::create(nb, nloc, args[0], denominator);
        return arith::MulFOp::create(nb, nloc, silu, args[1]).getResult();
      });
  auto down = linear(activated, prefix + "ffn_down", dim, hidden);
  if (!down)
    return down.takeError();
  return add(h, *down, dim);
}

llvm::Expected<OwningOpRef<ModuleOp>> LlamaBuilder::build() {
  if (llvm::Error error = config.validate())
    return error;
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto tokensType = RankedTensorType::get({kDyn}, b.getI32Type());
  auto logitsType = seqType({config.vocabSize});
  auto func = func::FuncOp::create(
      b, loc, "forward", b.getFunctionType({tokensType}, {logitsType}));
  Block *entry = func.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value tokens = entry->getArgument(0);
  seqLen = tensor::DimOp::create(b, loc, tokens, 0);

  auto embedding = weight("token_embd.weight", {config.vocabSize, config.dim});
  if (!embedding)
    return embedding.takeError();
  Value table = *embedding;
  RankedTensorType hiddenType = seqType({config.dim});
  // x[t, d] = embedding[tokens[t], d]; ids are range-checked by the caller.
  Value x =
      generic(hiddenType, {tokens}, {dims(2, {0})}, emptyLike(hiddenType),
              dims(2, {0, 1}), {IteratorType::parallel, IteratorType::parallel},
              [&](OpBuilder &nb, Location nloc, ValueRange args) {
                Value row = arith::IndexCastOp::create(
                    nb, nloc, nb.getIndexType(), args[0]);
                Value column = linalg::IndexOp::create(nb, nloc, 1);
                return tensor::ExtractOp::create(nb, nloc, table,
                                                 ValueRange{row, column})
                    .getResult();
              });
  for (int64_t layer = 0; layer < config.numLayers; ++layer) {
    auto next = block(x, layer);
    if (!next)
      return next.takeError();
    x = *next;
  }
  auto normalized = rmsNorm(x, "output_norm.weight");
  if (!normalized)
    return normalized.takeError();
  // A tied head reads the embedding under the layer name "output" all the
  // same, so calibration and compression can address it.
  llvm::Expected<Value> logits =
      config.tiedOutput ? [&]() -> llvm::Expected<Value> {
    RankedTensorType type = seqType({config.vocabSize});
    ArrayAttr maps = b.getAffineMapArrayAttr(
        {dims(3, {0, 2}), dims(3, {1, 2}), dims(3, {0, 1})});
    auto matmul = linalg::MatmulOp::create(
        b, loc, TypeRange{type}, ValueRange{*normalized, table},
        ValueRange{filled(type, 0.0)},
        ArrayRef<NamedAttribute>{b.getNamedAttr("indexing_maps", maps)});
    matmul->setAttr(kLayerNameAttr, b.getStringAttr("output"));
    return matmul.getResult(0);
  }()
      : linear(*normalized, "output", config.vocabSize, config.dim);
  if (!logits)
    return logits.takeError();
  func::ReturnOp::create(b, loc, *logits);
  return module;
}

} // namespace

llvm::Expected<OwningOpRef<ModuleOp>>
slr::buildLlamaModule(MLIRContext &context, const LlamaConfig &config,
                      WeightProvider weights) {
  registerLlamaModelDialects(
      const_cast<DialectRegistry &>(context.getDialectRegistry()));
  context.loadDialect<arith::ArithDialect, func::FuncDialect,
                      linalg::LinalgDialect, math::MathDialect,
                      tensor::TensorDialect>();
  return LlamaBuilder(context, config, weights).build();
}
