//===- Program.h - The PTX simulator's decoded program ----------*- C++ -*-===//
//
// Private to lib/Runtime/CUDASim. A PTX module is parsed once into this form:
// per kernel, a flat array of decoded instructions whose operands name dense
// register slots, resolved symbols and branch targets, each with the handler
// that executes it for a set of lanes of one warp.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_LIB_RUNTIME_CUDASIM_PROGRAM_H
#define SLR_LIB_RUNTIME_CUDASIM_PROGRAM_H

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace slr::sim {

struct Instr;
struct Warp;
struct Cta;

/// Executes `instr` for the lanes of `mask` (guard predicate already applied)
/// and sets their next program counters.
using ExecFn = void (*)(Cta &cta, Warp &warp, const Instr &instr,
                        uint32_t mask);

/// PTX state spaces.
enum class Space : uint8_t { Generic, Global, Shared, Local, Param, Const };

const char *spaceName(Space space);

/// PTX fundamental types (the suffix of an instruction or declaration).
enum class Type : uint8_t {
  None,
  Pred,
  B8,
  B16,
  B32,
  B64,
  B128,
  U8,
  U16,
  U32,
  U64,
  S8,
  S16,
  S32,
  S64,
  F16,
  F16x2,
  BF16,
  BF16x2,
  TF32,
  F32,
  F64,
};

/// Size in bytes of one value of `type` (Pred: 1; f16x2: 4).
unsigned typeBytes(Type type);
inline unsigned typeBits(Type type) { return 8 * typeBytes(type); }
bool isSigned(Type type);
bool isFloat(Type type);
/// Parses "u32", "f16x2"... (without the dot); Type::None if not a type.
Type parseType(const std::string &text);
const char *typeName(Type type);

/// Rounding modifiers of arithmetic and conversions.
enum class Rounding : uint8_t {
  Default, // none given
  RN,
  RZ,
  RM,
  RP,
  RNA, // floating-point result
  RNI,
  RZI,
  RMI,
  RPI, // integral result
};

/// Comparison of setp/set, and the boolean combination of its optional
/// third predicate operand.
enum class Compare : uint8_t {
  EQ,
  NE,
  LT,
  LE,
  GT,
  GE, // signed / ordered
  LO,
  LS,
  HI,
  HS, // unsigned
  EQU,
  NEU,
  LTU,
  LEU,
  GTU,
  GEU,
  NUM,
  NAN_,
};
enum class BoolOp : uint8_t { None, And, Or, Xor };

/// Register slots of one function: every declared PTX register, the special
/// registers filled when a warp starts, and a sink for `_`.
constexpr uint32_t kNoReg = 0xffffffffu;

/// Special registers held in fixed slots (filled per warp at launch).
enum SpecialSlot : uint32_t {
  kTidX,
  kTidY,
  kTidZ,
  kNtidX,
  kNtidY,
  kNtidZ,
  kCtaidX,
  kCtaidY,
  kCtaidZ,
  kNctaidX,
  kNctaidY,
  kNctaidZ,
  kLaneId,
  kWarpId,
  kNwarpId,
  kLanemaskEq,
  kLanemaskLt,
  kLanemaskLe,
  kLanemaskGt,
  kLanemaskGe,
  kSmId,
  kNsmId,
  kGridId,
  kDynamicSmemSize,
  kTotalSmemSize,
  kClusterCtaidX,
  kClusterCtaidY,
  kClusterCtaidZ,
  kClusterNctaidX,
  kClusterNctaidY,
  kClusterNctaidZ,
  kClusterCtarank,
  kClusterNctarank,
  kClusteridX,
  kClusteridY,
  kClusteridZ,
  kNclusteridX,
  kNclusteridY,
  kNclusteridZ,
  kIsExplicitCluster,
  kSinkSlot,
  kNumFixedSlots,
};

enum class OperandKind : uint8_t {
  None,
  Reg,     // `reg`
  Imm,     // `value` (raw bits; symbols resolve to their address)
  Vector,  // `vec[0..count)`, kSinkSlot for `_`
  Address, // [reg + value] or [value] (reg == kNoReg)
  Label,   // branch target, resolved into Instr::target
  Clock,   // %clock / %clock64 / %globaltimer: read when executed
};

struct Operand {
  OperandKind kind = OperandKind::None;
  bool negated = false;      // `!%p`
  uint8_t count = 0;         // Vector elements (up to 128, for wgmma's
                             // accumulators); Address tensor coordinates
  Type regType = Type::None; // declared type of a Reg operand
  uint32_t reg = kNoReg;
  int64_t value = 0;
  /// Vector slots (at least 8, more for wide vectors); Address
  /// tensor-coordinate registers.
  std::vector<uint32_t> vec = std::vector<uint32_t>(8);
  std::string symbol; // unresolved name (labels, symbols), for messages
};

/// Decoded instruction. Fields beyond the common ones are set by the
/// decoder of the instruction's family and read only by its handlers.
struct Instr {
  ExecFn exec = nullptr;
  uint32_t line = 0;  // 1-based line in the PTX text
  std::string text;   // the instruction as written, for messages
  std::string opcode; // e.g. "mma.sp::ordered_metadata.sync..."
  uint32_t guard = kNoReg;
  bool guardNegated = false;
  /// Warp-synchronous (`.sync.aligned` collectives, bar.warp.sync): every
  /// lane of `syncMask` (all lanes when 0 and not from an operand) must
  /// execute it together.
  bool warpCollective = false;
  /// Sets the lanes' program counters itself (branches, barriers, exits).
  bool control = false;
  /// Warpgroup-synchronous (wgmma.*, setmaxnreg): the four warps of the
  /// warpgroup must all execute it together; the handler runs once, for the
  /// warp that arrived last, and acts on the whole warpgroup.
  bool warpgroupCollective = false;
  bool collectiveMaskFromOperand = false; // membermask operand index below
  uint8_t maskOperand = 0;

  Type type = Type::None;
  Type type2 = Type::None; // cvt source, mma A/B types, setp input...
  Type type3 = Type::None;
  Type type4 = Type::None;
  Space space = Space::Generic;
  Space space2 = Space::Generic; // cp.async source, cvta target
  Rounding rounding = Rounding::Default;
  Compare compare = Compare::EQ;
  BoolOp boolOp = BoolOp::None;
  bool ftz = false, sat = false, relu = false, satfinite = false;
  bool nanMode = false, approx = false, flag = false, flag2 = false;
  uint8_t vector = 1; // .v2 / .v4
  uint32_t imm = 0;   // small decoded constants (shapes, selectors, modes)
  uint32_t imm2 = 0;
  uint32_t target = 0;     // branch target (instruction index)
  std::string unsupported; // set when the decoder refused the instruction

  std::vector<Operand> operands;
};

/// A variable of a state space (module or function scope).
struct Variable {
  std::string name;
  Space space = Space::Global;
  uint64_t size = 0; // bytes; 0 for an unsized/extern array
  uint32_t align = 1;
  bool external = false; // `.extern` (dynamic shared memory)
  std::vector<uint8_t> init;
  uint64_t address = 0; // offset in its space, or host address (global/const)
};

/// A kernel parameter: byte offset and size in the parameter buffer.
struct Param {
  std::string name;
  uint32_t offset = 0;
  uint32_t size = 0;
  uint32_t align = 1;
};

struct Function {
  std::string name;
  bool isKernel = false;
  uint32_t line = 0;
  std::vector<Param> params;
  uint32_t paramBytes = 0;
  uint32_t maxThreads[3] = {0, 0, 0}; // .maxntid (0: none)
  uint32_t reqThreads[3] = {0, 0, 0}; // .reqntid
  uint32_t numSlots = kNumFixedSlots;
  std::vector<std::string> slotNames; // register slot -> name (messages)
  uint64_t staticSharedBytes = 0;     // module + function .shared, laid out
  uint64_t localBytes = 0;            // per-thread .local
  std::vector<Instr> code;
};

struct Module {
  std::string target;        // "sm_80"
  unsigned smVersion = 0;    // 80, 90
  bool archSpecific = false; // sm_90a
  unsigned ptxVersion = 0;   // 85 for 8.5
  std::vector<std::unique_ptr<Function>> functions;
  std::vector<Variable> globals; // .global / .const with host storage
  std::vector<Variable> shared;  // module-scope .shared, offsets laid out
  std::vector<std::unique_ptr<uint8_t[]>> storage; // of globals
  Function *find(const std::string &name) const {
    for (const auto &function : functions)
      if (function->name == name)
        return function.get();
    return nullptr;
  }
};

/// Parses and decodes PTX text. On failure returns null and sets `error` to
/// a one-line message naming the line. `registerGlobal(ptr, size, name)` is
/// called for each module-scope .global/.const variable's storage, so that
/// device-memory checks accept accesses to it.
std::unique_ptr<Module>
parseModule(const std::string &text, std::string &error,
            void (*registerGlobal)(void *context, void *pointer, uint64_t size,
                                   const std::string &name),
            void *context);

/// Decodes one parsed instruction: sets its handler and family fields, or
/// `unsupported`. Implemented per instruction family (Decode*.cpp).
void decodeInstruction(Instr &instr);

} // namespace slr::sim

#endif // SLR_LIB_RUNTIME_CUDASIM_PROGRAM_H
