//===- Decode.h - Instruction decoders of the PTX simulator -----*- C++ -*-===//
//
// Private to lib/Runtime/CUDASim. An opcode such as
// `cp.async.cg.shared.global` is split at its dots; the decoder registered
// for the first part consumes the modifiers it understands, checks the
// operands and picks a handler. A modifier left over, or a form a decoder
// does not accept, makes the instruction unsupported: executing it is a
// one-line error naming it and its line, never a silent guess.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_RUNTIME_CUDASIM_DECODE_H
#define SLR_LIB_RUNTIME_CUDASIM_DECODE_H

#include "Machine.h"

#include <string>
#include <vector>

namespace slr::sim {

/// The dot-separated parts of an opcode after its first, as consumed by a
/// decoder.
class Modifiers {
public:
  explicit Modifiers(const std::string &opcode);
  const std::string &base() const { return baseName; }
  /// Consumes `name` (without its dot) if present.
  bool take(const char *name);
  /// Consumes the first remaining part that is a type.
  Type takeType();
  /// Consumes the first remaining part among `names`; returns its index or
  /// -1.
  int takeOneOf(std::initializer_list<const char *> names);
  /// Consumes a state space (global, shared, shared::cta, local, param,
  /// const); false if none.
  bool takeSpace(Space &space);
  /// Consumes a rounding modifier (rn, rz, rm, rp, rna, rni, rzi, rmi, rpi).
  Rounding takeRounding();
  /// Consumes memory-ordering, scope, cache and eviction-hint modifiers:
  /// they do not change results in a sequential simulation.
  void takeOrderingAndCacheHints();
  /// The first part not consumed ("" if all were).
  std::string leftover() const;

private:
  std::string baseName;
  std::vector<std::string> parts;
  std::vector<bool> used;
};

/// A decoder: true if it accepted the instruction (handler set).
using Decoder = bool (*)(Instr &instr, Modifiers &mods);

/// Registration of each family's decoders by base opcode.
struct DecoderEntry {
  const char *base;
  Decoder decoder;
};
void appendArithmeticDecoders(std::vector<DecoderEntry> &table);
void appendConversionDecoders(std::vector<DecoderEntry> &table);
void appendMemoryDecoders(std::vector<DecoderEntry> &table);
void appendControlDecoders(std::vector<DecoderEntry> &table);
void appendWarpDecoders(std::vector<DecoderEntry> &table);
void appendAsyncDecoders(std::vector<DecoderEntry> &table);
void appendWgmmaDecoders(std::vector<DecoderEntry> &table);

/// Operand-shape checks for decoders.
bool isReg(const Operand &op);
bool isRegOrImm(const Operand &op);
bool isVector(const Operand &op, unsigned count);
bool isAddress(const Operand &op);

/// Writes `value` (truncated to the register's use) into a destination
/// register operand for a lane; `_` discards it.
inline void writeReg(Warp &warp, const Operand &dest, unsigned lane,
                     uint64_t value) {
  warp.reg(dest.reg, lane) = value;
}

} // namespace slr::sim

#endif // SLR_LIB_RUNTIME_CUDASIM_DECODE_H
