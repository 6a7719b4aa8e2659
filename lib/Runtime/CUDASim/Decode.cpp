//===- Decode.cpp - Dispatch of decoders by opcode ------------------------===//

#include "Decode.h"

#include <algorithm>
#include <cstring>

using namespace slr::sim;

Modifiers::Modifiers(const std::string &opcode) {
  size_t start = 0;
  bool first = true;
  while (start <= opcode.size()) {
    size_t dot = opcode.find('.', start);
    std::string part = opcode.substr(
        start, dot == std::string::npos ? std::string::npos : dot - start);
    if (first)
      baseName = part;
    else
      parts.push_back(part);
    first = false;
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  used.assign(parts.size(), false);
}

bool Modifiers::take(const char *name) {
  for (size_t i = 0; i < parts.size(); ++i)
    if (!used[i] && parts[i] == name) {
      used[i] = true;
      return true;
    }
  return false;
}

Type Modifiers::takeType() {
  for (size_t i = 0; i < parts.size(); ++i)
    if (!used[i]) {
      Type t = parseType(parts[i]);
      if (t != Type::None) {
        used[i] = true;
        return t;
      }
    }
  return Type::None;
}

int Modifiers::takeOneOf(std::initializer_list<const char *> names) {
  for (size_t i = 0; i < parts.size(); ++i) {
    if (used[i])
      continue;
    int index = 0;
    for (const char *name : names) {
      if (parts[i] == name) {
        used[i] = true;
        return index;
      }
      ++index;
    }
  }
  return -1;
}

bool Modifiers::takeSpace(Space &space) {
  int which = takeOneOf({"global", "shared", "shared::cta", "local", "param",
                         "const", "param::entry"});
  static const Space spaces[] = {Space::Global, Space::Shared, Space::Shared,
                                 Space::Local,  Space::Param,  Space::Const,
                                 Space::Param};
  if (which < 0)
    return false;
  space = spaces[which];
  return true;
}

Rounding Modifiers::takeRounding() {
  int which =
      takeOneOf({"rn", "rz", "rm", "rp", "rna", "rni", "rzi", "rmi", "rpi"});
  static const Rounding modes[] = {Rounding::RN,  Rounding::RZ,  Rounding::RM,
                                   Rounding::RP,  Rounding::RNA, Rounding::RNI,
                                   Rounding::RZI, Rounding::RMI, Rounding::RPI};
  return which < 0 ? Rounding::Default : modes[which];
}

void Modifiers::takeOrderingAndCacheHints() {
  for (size_t i = 0; i < parts.size(); ++i) {
    if (used[i])
      continue;
    const std::string &p = parts[i];
    static const char *const hints[] = {
        "weak", "volatile", "relaxed", "acquire", "release", "acq_rel", "sc",
        "cta",  "gpu",      "sys",     "cluster", "ca",      "cg",      "cs",
        "lu",   "cv",       "wb",      "wt",      "nc",      "mmio"};
    bool hint = std::any_of(std::begin(hints), std::end(hints),
                            [&](const char *h) { return p == h; });
    // .L1::evict_last, .L2::128B, .L2::cache_hint, .L1::no_allocate...
    hint |= p.rfind("L1::", 0) == 0 || p.rfind("L2::", 0) == 0;
    if (hint)
      used[i] = true;
  }
}

std::string Modifiers::leftover() const {
  for (size_t i = 0; i < parts.size(); ++i)
    if (!used[i])
      return parts[i];
  return "";
}

bool slr::sim::isReg(const Operand &op) { return op.kind == OperandKind::Reg; }
bool slr::sim::isRegOrImm(const Operand &op) {
  return op.kind == OperandKind::Reg || op.kind == OperandKind::Imm ||
         op.kind == OperandKind::Clock;
}
bool slr::sim::isVector(const Operand &op, unsigned count) {
  return op.kind == OperandKind::Vector && op.count == count;
}
bool slr::sim::isAddress(const Operand &op) {
  // Tensor-coordinate lists are for the tensor copies only.
  return op.kind == OperandKind::Address && op.count == 0;
}

namespace {

const std::vector<DecoderEntry> &decoders() {
  static const std::vector<DecoderEntry> table = [] {
    std::vector<DecoderEntry> t;
    appendArithmeticDecoders(t);
    appendConversionDecoders(t);
    appendMemoryDecoders(t);
    appendControlDecoders(t);
    appendWarpDecoders(t);
    appendAsyncDecoders(t);
    appendWgmmaDecoders(t);
    return t;
  }();
  return table;
}

void executeUnsupported(Cta &cta, Warp &w, const Instr &instr, uint32_t mask) {
  fault(cta, w, instr, static_cast<unsigned>(__builtin_ctz(mask | (1u << 31))),
        instr.unsupported, kErrorNotSupported);
}

} // namespace

void slr::sim::decodeInstruction(Instr &instr) {
  Modifiers mods(instr.opcode);
  bool known = false;
  std::string unsupported;
  // Several decoders may share a base (bar.sync and bar.warp.sync): each
  // tries a fresh copy; the first that consumes every modifier wins.
  for (const DecoderEntry &entry : decoders()) {
    if (mods.base() != entry.base)
      continue;
    known = true;
    Instr trial = instr;
    Modifiers attempt = mods;
    if (!entry.decoder(trial, attempt))
      continue;
    std::string rest = attempt.leftover();
    if (rest.empty()) {
      instr = std::move(trial);
      return;
    }
    if (unsupported.empty())
      unsupported = "the simulator does not implement modifier ." + rest +
                    " of `" + instr.opcode + "`";
  }
  if (unsupported.empty())
    unsupported = known ? "the simulator does not implement this form of `" +
                              instr.opcode + "`"
                        : "the simulator does not implement instruction `" +
                              instr.opcode + "`";
  instr.unsupported = unsupported;
  instr.exec = executeUnsupported;
  // The handler then runs for the whole group, where it reports the error.
  instr.control = true;
}
