//===- Parser.cpp - PTX text to the simulator's program -------------------===//
//
// Parses the PTX the NVPTX back end prints (module directives, kernels and
// functions, variables of every state space, register declarations, labels,
// guarded instructions with register, immediate, vector and address
// operands), resolves names to register slots, variables and branch targets,
// lays out shared, local and parameter space, and decodes each instruction.
//
//===----------------------------------------------------------------------===//

#include "Program.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

using namespace slr::sim;

namespace {

struct ParseError {
  std::string message;
};

struct Token {
  enum Kind { End, Ident, Number, Punct, String } kind = End;
  std::string text;
  uint32_t line = 0;
};

class Lexer {
public:
  explicit Lexer(const std::string &text) : text(text) { advance(); }

  const Token &peek() const { return current; }
  Token next() {
    Token t = current;
    advance();
    return t;
  }
  bool isPunct(char c) const {
    return current.kind == Token::Punct && current.text[0] == c;
  }
  bool consumePunct(char c) {
    if (!isPunct(c))
      return false;
    advance();
    return true;
  }
  bool isIdent(const char *name) const {
    return current.kind == Token::Ident && current.text == name;
  }
  [[noreturn]] void error(const std::string &what) const {
    throw ParseError{"PTX line " + std::to_string(current.line) + ": " + what};
  }
  void expectPunct(char c) {
    if (!consumePunct(c))
      error(std::string("expected '") + c + "', found '" + current.text + "'");
  }
  /// The source text of the current line (for instruction messages).
  std::string lineText(uint32_t line) const {
    size_t start = 0;
    uint32_t l = 1;
    while (l < line && start < text.size()) {
      size_t nl = text.find('\n', start);
      if (nl == std::string::npos)
        return "";
      start = nl + 1;
      ++l;
    }
    size_t end = text.find('\n', start);
    std::string s = text.substr(
        start, end == std::string::npos ? std::string::npos : end - start);
    size_t a = s.find_first_not_of(" \t");
    size_t b = s.find_last_not_of(" \t\r");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
  }
  /// Skips raw text up to the matching close brace (debug sections).
  void skipBalancedBraces() {
    int depth = 1;
    while (current.kind != Token::End && depth > 0) {
      if (isPunct('{'))
        ++depth;
      else if (isPunct('}'))
        --depth;
      advance();
    }
  }
  /// Skips to the end of the current line (for `.loc`, `.file`).
  void skipLine() {
    uint32_t line = current.line;
    while (current.kind != Token::End && current.line == line)
      advance();
  }

private:
  static bool identStart(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           c == '$' || c == '%' || c == '.';
  }
  static bool identChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '$' || c == '.';
  }

  void advance() {
    // Whitespace and comments.
    while (pos < text.size()) {
      char c = text[pos];
      if (c == '\n') {
        ++line;
        ++pos;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos;
      } else if (c == '/' && pos + 1 < text.size() && text[pos + 1] == '/') {
        while (pos < text.size() && text[pos] != '\n')
          ++pos;
      } else if (c == '/' && pos + 1 < text.size() && text[pos + 1] == '*') {
        pos += 2;
        while (pos + 1 < text.size() &&
               !(text[pos] == '*' && text[pos + 1] == '/')) {
          if (text[pos] == '\n')
            ++line;
          ++pos;
        }
        pos += 2;
      } else {
        break;
      }
    }
    current = Token();
    current.line = line;
    if (pos >= text.size()) {
      current.kind = Token::End;
      return;
    }
    char c = text[pos];
    size_t start = pos;
    if (identStart(c)) {
      ++pos;
      while (pos < text.size()) {
        if (identChar(text[pos])) {
          ++pos;
        } else if (text[pos] == ':' && pos + 1 < text.size() &&
                   text[pos + 1] == ':') {
          pos += 2; // `.sp::ordered_metadata`, `.shared::cta`
        } else {
          break;
        }
      }
      current.kind = Token::Ident;
      current.text = text.substr(start, pos - start);
      return;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++pos;
      while (pos < text.size() &&
             (std::isalnum(static_cast<unsigned char>(text[pos])) ||
              text[pos] == '.' ||
              ((text[pos] == '+' || text[pos] == '-') &&
               (text[pos - 1] == 'e' || text[pos - 1] == 'E') &&
               text.compare(start, 2, "0x") != 0 &&
               text.compare(start, 2, "0f") != 0 &&
               text.compare(start, 2, "0d") != 0)))
        ++pos;
      current.kind = Token::Number;
      current.text = text.substr(start, pos - start);
      return;
    }
    if (c == '"') {
      ++pos;
      while (pos < text.size() && text[pos] != '"')
        ++pos;
      ++pos;
      current.kind = Token::String;
      current.text = text.substr(start, pos - start);
      return;
    }
    ++pos;
    current.kind = Token::Punct;
    current.text = std::string(1, c);
  }

  const std::string &text;
  size_t pos = 0;
  uint32_t line = 1;
  Token current;
};

/// Parses an integer or floating-point literal to raw bits. Floating
/// literals of the `0f`/`0d` forms give their bits; decimal ones give the
/// double's bits and `isDouble`.
bool parseNumber(const std::string &text, int64_t &bits, bool *isDouble) {
  if (isDouble)
    *isDouble = false;
  std::string t = text;
  if (!t.empty() && (t.back() == 'U' || t.back() == 'u'))
    t.pop_back();
  char *end = nullptr;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'f' || t[1] == 'F') &&
      t.size() == 10) {
    bits = static_cast<int64_t>(std::strtoull(t.c_str() + 2, &end, 16));
    return *end == 0;
  }
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'd' || t[1] == 'D') &&
      t.size() == 18) {
    bits = static_cast<int64_t>(std::strtoull(t.c_str() + 2, &end, 16));
    return *end == 0;
  }
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    bits = static_cast<int64_t>(std::strtoull(t.c_str() + 2, &end, 16));
    return *end == 0;
  }
  if (t.find_first_of(".eE") != std::string::npos) {
    double d = std::strtod(t.c_str(), &end);
    std::memcpy(&bits, &d, 8);
    if (isDouble)
      *isDouble = true;
    return *end == 0;
  }
  if (t.size() > 1 && t[0] == '0') { // octal
    bits = static_cast<int64_t>(std::strtoull(t.c_str(), &end, 8));
    return *end == 0;
  }
  bits = static_cast<int64_t>(std::strtoull(t.c_str(), &end, 10));
  return *end == 0;
}

const std::unordered_map<std::string, uint32_t> &specialRegisters() {
  static const std::unordered_map<std::string, uint32_t> map = {
      {"%tid.x", kTidX},
      {"%tid.y", kTidY},
      {"%tid.z", kTidZ},
      {"%ntid.x", kNtidX},
      {"%ntid.y", kNtidY},
      {"%ntid.z", kNtidZ},
      {"%ctaid.x", kCtaidX},
      {"%ctaid.y", kCtaidY},
      {"%ctaid.z", kCtaidZ},
      {"%nctaid.x", kNctaidX},
      {"%nctaid.y", kNctaidY},
      {"%nctaid.z", kNctaidZ},
      {"%laneid", kLaneId},
      {"%warpid", kWarpId},
      {"%nwarpid", kNwarpId},
      {"%lanemask_eq", kLanemaskEq},
      {"%lanemask_lt", kLanemaskLt},
      {"%lanemask_le", kLanemaskLe},
      {"%lanemask_gt", kLanemaskGt},
      {"%lanemask_ge", kLanemaskGe},
      {"%smid", kSmId},
      {"%nsmid", kNsmId},
      {"%gridid", kGridId},
      {"%dynamic_smem_size", kDynamicSmemSize},
      {"%total_smem_size", kTotalSmemSize},
      {"%cluster_ctaid.x", kClusterCtaidX},
      {"%cluster_ctaid.y", kClusterCtaidY},
      {"%cluster_ctaid.z", kClusterCtaidZ},
      {"%cluster_nctaid.x", kClusterNctaidX},
      {"%cluster_nctaid.y", kClusterNctaidY},
      {"%cluster_nctaid.z", kClusterNctaidZ},
      {"%cluster_ctarank", kClusterCtarank},
      {"%cluster_nctarank", kClusterNctarank},
      {"%clusterid.x", kClusteridX},
      {"%clusterid.y", kClusteridY},
      {"%clusterid.z", kClusteridZ},
      {"%nclusterid.x", kNclusteridX},
      {"%nclusterid.y", kNclusteridY},
      {"%nclusterid.z", kNclusteridZ},
      {"%is_explicit_cluster", kIsExplicitCluster},
  };
  return map;
}

uint64_t alignUp(uint64_t value, uint64_t align) {
  return align <= 1 ? value : (value + align - 1) / align * align;
}

/// A function body before name resolution.
struct PendingFunction {
  Function *function;
  std::unordered_map<std::string, uint32_t> registers;
  /// Per open nested block: the registers it declared, with the slot each
  /// name had before (kNoReg: none).
  std::vector<std::vector<std::pair<std::string, uint32_t>>> scopes;
  std::vector<Type> slotTypes;     // declared type per slot
  std::vector<Variable> variables; // function-scope .shared/.local
  std::unordered_map<std::string, uint32_t> labels;
  struct Ref {
    uint32_t instr, operand;
  };
};

class Parser {
public:
  Parser(const std::string &text, Module &module,
         void (*registerGlobal)(void *, void *, uint64_t, const std::string &),
         void *context)
      : lex(text), module(module), registerGlobal(registerGlobal),
        context(context) {}

  void parse() {
    while (lex.peek().kind != Token::End)
      parseTopLevel();
    for (PendingFunction &pending : functions)
      resolve(pending);
  }

private:
  void parseTopLevel() {
    const Token &t = lex.peek();
    if (t.kind != Token::Ident)
      lex.error("unexpected '" + t.text + "' at module scope");
    if (t.text == ".version") {
      lex.next();
      Token v = lex.next();
      size_t dot = v.text.find('.');
      if (v.kind != Token::Number || dot == std::string::npos)
        lex.error("malformed .version");
      module.ptxVersion = std::atoi(v.text.substr(0, dot).c_str()) * 10 +
                          std::atoi(v.text.substr(dot + 1).c_str());
      return;
    }
    if (t.text == ".target") {
      lex.next();
      Token v = lex.next();
      module.target = v.text;
      if (v.text.rfind("sm_", 0) != 0)
        lex.error("unsupported .target " + v.text);
      module.smVersion = std::atoi(v.text.c_str() + 3);
      module.archSpecific = v.text.back() == 'a';
      while (lex.consumePunct(','))
        lex.next(); // texmode_*, debug
      return;
    }
    if (t.text == ".address_size") {
      lex.next();
      Token v = lex.next();
      if (v.text != "64")
        lex.error("only .address_size 64 is supported");
      return;
    }
    if (t.text == ".file" || t.text == ".loc") {
      lex.skipLine();
      return;
    }
    if (t.text == ".section") {
      lex.next();
      lex.next(); // name
      lex.expectPunct('{');
      lex.skipBalancedBraces();
      return;
    }
    bool external = false;
    while (lex.isIdent(".visible") || lex.isIdent(".weak") ||
           lex.isIdent(".extern") || lex.isIdent(".common")) {
      external |= lex.isIdent(".extern");
      lex.next();
    }
    if (lex.isIdent(".entry") || lex.isIdent(".func")) {
      parseFunction(external);
      return;
    }
    if (lex.isIdent(".global") || lex.isIdent(".shared") ||
        lex.isIdent(".const") || lex.isIdent(".local")) {
      Variable v = parseVariable(external);
      if (v.space == Space::Shared) {
        module.shared.push_back(v);
      } else if (v.space == Space::Global || v.space == Space::Const) {
        uint64_t bytes = std::max<uint64_t>(v.size, 1);
        module.storage.emplace_back(new uint8_t[bytes]());
        uint8_t *storage = module.storage.back().get();
        std::memcpy(storage, v.init.data(),
                    std::min<uint64_t>(v.init.size(), bytes));
        v.address = reinterpret_cast<uint64_t>(storage);
        if (registerGlobal)
          registerGlobal(context, storage, bytes, v.name);
        module.globals.push_back(v);
      } else {
        lex.error(".local variables must be declared in a function");
      }
      return;
    }
    lex.error("unsupported module directive '" + t.text + "'");
  }

  /// The modifiers of a declaration before its name (`.align N`, `.v2`..,
  /// the space qualifiers of pointer parameters) and its type.
  Type parseDeclarationModifiers(Variable &v, unsigned &vec) {
    Type type = Type::None;
    while (lex.peek().kind == Token::Ident && lex.peek().text[0] == '.') {
      std::string d = lex.next().text;
      if (d == ".align") {
        v.align = static_cast<uint32_t>(std::atoi(lex.next().text.c_str()));
      } else if (d == ".v2" || d == ".v4" || d == ".v8") {
        vec = static_cast<unsigned>(d[2] - '0');
      } else if (d == ".ptr" || d == ".global" || d == ".shared" ||
                 d == ".const" || d == ".local") {
        // .param .u64 .ptr .global .align 8 name
      } else {
        type = parseType(d.substr(1));
        if (type == Type::None)
          lex.error("unsupported declaration modifier '" + d + "'");
      }
    }
    if (type == Type::None)
      lex.error("declaration without a type");
    return type;
  }

  /// `[N][M]...` after a name: the element count (`[]` sets `unsized`).
  uint64_t parseArrayDimensions(bool &unsized) {
    uint64_t elements = 1;
    while (lex.consumePunct('[')) {
      if (lex.consumePunct(']')) {
        unsized = true;
        continue;
      }
      Token n = lex.next();
      int64_t count = 0;
      if (n.kind != Token::Number || !parseNumber(n.text, count, nullptr) ||
          count < 0)
        lex.error("malformed array size");
      elements *= static_cast<uint64_t>(count);
      lex.expectPunct(']');
    }
    return elements;
  }

  /// `.space [.align N] [.v2|.v4] .type name[size][size] [= init];`
  Variable parseVariable(bool external) {
    Variable v;
    v.external = external;
    Token spaceTok = lex.next();
    if (spaceTok.text == ".global")
      v.space = Space::Global;
    else if (spaceTok.text == ".shared" || spaceTok.text == ".shared::cta")
      v.space = Space::Shared;
    else if (spaceTok.text == ".const")
      v.space = Space::Const;
    else if (spaceTok.text == ".local")
      v.space = Space::Local;
    else if (spaceTok.text == ".param")
      v.space = Space::Param;
    unsigned vec = 1;
    Type type = parseDeclarationModifiers(v, vec);
    Token name = lex.next();
    if (name.kind != Token::Ident)
      lex.error("expected a variable name, found '" + name.text + "'");
    v.name = name.text;
    bool unsized = false;
    uint64_t elements = parseArrayDimensions(unsized);
    uint64_t elementBytes = typeBytes(type) * vec;
    v.size = unsized ? 0 : elements * elementBytes;
    v.align = std::max<uint32_t>(v.align, static_cast<uint32_t>(elementBytes));
    if (lex.consumePunct('=')) {
      // Scalar or brace list of numbers (nested braces flattened).
      int depth = 0;
      do {
        if (lex.consumePunct('{')) {
          ++depth;
          continue;
        }
        if (lex.consumePunct('}')) {
          --depth;
          continue;
        }
        if (lex.consumePunct(','))
          continue;
        bool negative = lex.consumePunct('-');
        Token n = lex.next();
        int64_t bits = 0;
        bool isDouble = false;
        if (n.kind != Token::Number || !parseNumber(n.text, bits, &isDouble))
          lex.error("unsupported initializer '" + n.text + "'");
        if (isDouble && type == Type::F32) {
          double d;
          std::memcpy(&d, &bits, 8);
          float f = static_cast<float>(negative ? -d : d);
          uint32_t b;
          std::memcpy(&b, &f, 4);
          bits = b;
        } else if (negative) {
          if (isDouble)
            bits ^= int64_t(1) << 63;
          else
            bits = -bits;
        }
        for (unsigned i = 0; i < typeBytes(type); ++i)
          v.init.push_back(static_cast<uint8_t>(bits >> (8 * i)));
      } while (depth > 0);
      if (unsized)
        v.size = v.init.size();
    }
    lex.expectPunct(';');
    return v;
  }

  void parseParams(Function &f) {
    lex.expectPunct('(');
    if (lex.consumePunct(')'))
      return;
    do {
      if (!lex.isIdent(".param") && !lex.isIdent(".reg"))
        lex.error("expected .param, found '" + lex.peek().text + "'");
      Token spaceTok = lex.peek();
      Variable v;
      if (spaceTok.text == ".reg") {
        lex.next();
        Type t = parseType(lex.next().text.substr(1));
        v.name = lex.next().text;
        v.size = typeBytes(t);
        v.align = v.size;
      } else {
        v = parseParamDecl();
      }
      Param p;
      p.name = v.name;
      p.align = std::max<uint32_t>(v.align, 1);
      p.size = static_cast<uint32_t>(v.size);
      p.offset = static_cast<uint32_t>(alignUp(f.paramBytes, p.align));
      f.paramBytes = p.offset + p.size;
      f.params.push_back(p);
    } while (lex.consumePunct(','));
    lex.expectPunct(')');
  }

  /// `.param .type [.ptr ...] name[[N]]` (no trailing semicolon).
  Variable parseParamDecl() {
    Variable v;
    v.space = Space::Param;
    lex.next(); // .param
    unsigned vec = 1;
    Type type = parseDeclarationModifiers(v, vec);
    v.name = lex.next().text;
    bool unsized = false;
    uint64_t elements = parseArrayDimensions(unsized) * vec;
    v.size = elements * typeBytes(type);
    v.align = std::max<uint32_t>(v.align, typeBytes(type));
    return v;
  }

  void parseFunction(bool external) {
    auto function = std::make_unique<Function>();
    Function &f = *function;
    f.isKernel = lex.next().text == ".entry";
    f.line = lex.peek().line;
    if (!f.isKernel && lex.isPunct('(')) {
      // Return parameters of a .func: not supported (no calls).
      Function ignored;
      parseParams(ignored);
    }
    Token name = lex.next();
    if (name.kind != Token::Ident)
      lex.error("expected a function name");
    f.name = name.text;
    if (lex.isPunct('('))
      parseParams(f);
    // Performance directives.
    while (lex.peek().kind == Token::Ident && lex.peek().text[0] == '.') {
      std::string d = lex.next().text;
      auto dims = [&](uint32_t *out) {
        unsigned i = 0;
        do {
          int64_t n = 0;
          parseNumber(lex.next().text, n, nullptr);
          if (i < 3)
            out[i++] = static_cast<uint32_t>(n);
        } while (lex.consumePunct(','));
        for (; i < 3; ++i)
          out[i] = 1;
      };
      if (d == ".maxntid") {
        dims(f.maxThreads);
      } else if (d == ".reqntid") {
        dims(f.reqThreads);
      } else if (d == ".minnctapersm" || d == ".maxnreg" ||
                 d == ".maxnctapersm" || d == ".maxclusterrank") {
        lex.next();
      } else if (d == ".reqnctapercluster") {
        uint32_t ignored[3];
        dims(ignored);
      } else if (d == ".explicitcluster" || d == ".noreturn") {
      } else if (d == ".pragma") {
        lex.next();
        lex.expectPunct(';');
      } else {
        lex.error("unsupported function directive '" + d + "'");
      }
    }
    if (lex.consumePunct(';')) {
      (void)external; // a declaration
      return;
    }
    lex.expectPunct('{');
    PendingFunction pending;
    pending.function = &f;
    parseBody(pending);
    module.functions.push_back(std::move(function));
    functions.push_back(std::move(pending));
  }

  uint32_t newSlot(PendingFunction &p, const std::string &name, Type type) {
    Function &f = *p.function;
    uint32_t slot = f.numSlots++;
    f.slotNames.resize(f.numSlots);
    f.slotNames[slot] = name;
    p.slotTypes.resize(f.numSlots, Type::U32);
    p.slotTypes[slot] = type;
    if (!p.scopes.empty()) {
      auto previous = p.registers.find(name);
      p.scopes.back().emplace_back(
          name, previous == p.registers.end() ? kNoReg : previous->second);
    }
    p.registers[name] = slot;
    return slot;
  }

  void parseBody(PendingFunction &p) {
    Function &f = *p.function;
    f.slotNames.assign(kNumFixedSlots, "");
    p.slotTypes.assign(kNumFixedSlots, Type::U32);
    for (const auto &[name, slot] : specialRegisters())
      f.slotNames[slot] = name;
    f.slotNames[kSinkSlot] = "_";
    int depth = 1;
    while (depth > 0) {
      const Token &t = lex.peek();
      if (t.kind == Token::End)
        lex.error("unterminated function body of " + f.name);
      if (lex.consumePunct('{')) {
        ++depth;
        p.scopes.emplace_back();
        continue;
      }
      if (lex.consumePunct('}')) {
        --depth;
        // Registers declared in a nested block go out of scope.
        if (depth > 0 && !p.scopes.empty()) {
          for (auto it = p.scopes.back().rbegin(); it != p.scopes.back().rend();
               ++it) {
            if (it->second == kNoReg)
              p.registers.erase(it->first);
            else
              p.registers[it->first] = it->second;
          }
          p.scopes.pop_back();
        }
        continue;
      }
      if (t.kind == Token::Ident && t.text == ".reg") {
        parseRegisters(p);
        continue;
      }
      if (t.kind == Token::Ident &&
          (t.text == ".local" || t.text == ".shared" || t.text == ".param")) {
        if (t.text == ".param")
          lex.error("function-scope .param (calls) is not supported");
        p.variables.push_back(parseVariable(false));
        continue;
      }
      if (t.kind == Token::Ident && (t.text == ".loc" || t.text == ".file")) {
        lex.skipLine();
        continue;
      }
      if (t.kind == Token::Ident && t.text == ".pragma") {
        lex.next();
        lex.next();
        lex.expectPunct(';');
        continue;
      }
      // Label?
      if (t.kind == Token::Ident && t.text[0] != '.' && t.text[0] != '%') {
        Token name = lex.next();
        if (lex.consumePunct(':')) {
          p.labels[name.text] = static_cast<uint32_t>(f.code.size());
          continue;
        }
        parseInstruction(p, name, kNoReg, false);
        continue;
      }
      if (t.kind == Token::Punct && t.text == "@") {
        lex.next();
        bool negated = lex.consumePunct('!');
        Token pred = lex.next();
        auto it = p.registers.find(pred.text);
        if (it == p.registers.end())
          lex.error("undeclared predicate " + pred.text);
        Token op = lex.next();
        parseInstruction(p, op, it->second, negated);
        continue;
      }
      lex.error("unexpected '" + t.text + "' in function body");
    }
  }

  void parseRegisters(PendingFunction &p) {
    lex.next(); // .reg
    Token typeTok = lex.next();
    if (typeTok.text == ".v2" || typeTok.text == ".v4")
      lex.error("vector registers are not supported");
    Type type = parseType(typeTok.text.substr(1));
    if (type == Type::None)
      lex.error("unsupported register type " + typeTok.text);
    do {
      Token name = lex.next();
      if (name.kind != Token::Ident)
        lex.error("expected a register name");
      if (lex.consumePunct('<')) {
        int64_t count = 0;
        parseNumber(lex.next().text, count, nullptr);
        lex.expectPunct('>');
        if (count < 0 || count > (1 << 20))
          lex.error("register count out of range");
        for (int64_t i = 0; i < count; ++i)
          newSlot(p, name.text + std::to_string(i), type);
      } else {
        newSlot(p, name.text, type);
      }
    } while (lex.consumePunct(','));
    lex.expectPunct(';');
  }

  Operand parseOperand(PendingFunction &p) {
    Operand op;
    if (lex.consumePunct('{')) {
      op.kind = OperandKind::Vector;
      do {
        Token r = lex.next();
        if (op.count >= 128)
          lex.error("vector operand with more than 128 elements");
        if (op.count >= op.vec.size())
          op.vec.push_back(0);
        op.vec[op.count++] = registerSlot(p, r);
      } while (lex.consumePunct(','));
      lex.expectPunct('}');
      return op;
    }
    if (lex.consumePunct('[')) {
      op.kind = OperandKind::Address;
      bool first = true;
      bool negative = false;
      while (!lex.consumePunct(']')) {
        if (lex.consumePunct('+'))
          continue;
        if (lex.consumePunct(',')) { // [tensorMap, {c0, c1, ...}]
          lex.expectPunct('{');
          do {
            Token c = lex.next();
            if (c.kind != Token::Ident || c.text[0] != '%' || op.count == 5)
              lex.error("tensor coordinates must be up to 5 registers");
            op.vec[op.count++] = registerSlot(p, c);
          } while (lex.consumePunct(','));
          lex.expectPunct('}');
          continue;
        }
        if (lex.consumePunct('-')) {
          negative = !negative;
          continue;
        }
        Token t = lex.next();
        if (t.kind == Token::Number) {
          int64_t n = 0;
          if (!parseNumber(t.text, n, nullptr))
            lex.error("malformed address offset " + t.text);
          op.value += negative ? -n : n;
        } else if (t.kind == Token::Ident && first &&
                   (t.text[0] == '%' || p.registers.count(t.text))) {
          op.reg = registerSlot(p, t);
        } else if (t.kind == Token::Ident && first) {
          op.symbol = t.text;
        } else {
          lex.error("unsupported address expression near '" + t.text + "'");
        }
        negative = false;
        first = false;
      }
      return op;
    }
    bool negated = lex.consumePunct('!');
    bool negative = lex.consumePunct('-');
    Token t = lex.next();
    if (t.kind == Token::Number) {
      op.kind = OperandKind::Imm;
      bool isDouble = false;
      if (!parseNumber(t.text, op.value, &isDouble))
        lex.error("malformed number " + t.text);
      if (negative)
        op.value = isDouble ? (op.value ^ (int64_t(1) << 63)) : -op.value;
      if (isDouble)
        op.symbol = "double"; // decimal float literal: the decoder rounds
      return op;
    }
    if (t.kind != Token::Ident)
      lex.error("unexpected operand '" + t.text + "'");
    if (t.text == "%clock" || t.text == "%clock64" ||
        t.text == "%globaltimer") {
      op.kind = OperandKind::Clock;
      return op;
    }
    // Register names need no '%' (inline asm declares `.reg .pred p;`).
    if (t.text[0] == '%' || t.text == "_" || p.registers.count(t.text)) {
      op.kind = OperandKind::Reg;
      op.negated = negated;
      op.reg = registerSlot(p, t);
      op.regType =
          op.reg < p.slotTypes.size() ? p.slotTypes[op.reg] : Type::U32;
      if (lex.consumePunct('|')) { // setp p|q
        Operand pair;
        pair.kind = OperandKind::Vector;
        pair.count = 2;
        pair.vec[0] = op.reg;
        pair.vec[1] = registerSlot(p, lex.next());
        return pair;
      }
      return op;
    }
    // A label or symbol; resolved later.
    op.kind = OperandKind::Label;
    op.symbol = t.text;
    return op;
  }

  uint32_t registerSlot(PendingFunction &p, const Token &t) {
    if (t.text == "_")
      return kSinkSlot;
    auto special = specialRegisters().find(t.text);
    if (special != specialRegisters().end())
      return special->second;
    auto it = p.registers.find(t.text);
    if (it == p.registers.end()) {
      if (t.text.rfind("%envreg", 0) == 0 || t.text.rfind("%pm", 0) == 0 ||
          t.text == "%lanemask")
        lex.error("unsupported special register " + t.text);
      lex.error("undeclared register " + t.text);
    }
    return it->second;
  }

  void parseInstruction(PendingFunction &p, const Token &opcode, uint32_t guard,
                        bool guardNegated) {
    Instr instr;
    instr.line = opcode.line;
    instr.text = lex.lineText(opcode.line);
    instr.opcode = opcode.text;
    instr.guard = guard;
    instr.guardNegated = guardNegated;
    if (!lex.isPunct(';')) {
      do {
        instr.operands.push_back(parseOperand(p));
      } while (lex.consumePunct(','));
    }
    lex.expectPunct(';');
    p.function->code.push_back(std::move(instr));
  }

  const Variable *findVariable(PendingFunction &p, const std::string &name) {
    for (const Variable &v : p.variables)
      if (v.name == name)
        return &v;
    for (const Variable &v : module.shared)
      if (v.name == name)
        return &v;
    for (const Variable &v : module.globals)
      if (v.name == name)
        return &v;
    return nullptr;
  }

  /// Lays out the shared variables `f` uses, resolves labels and symbols,
  /// and decodes every instruction.
  void resolve(PendingFunction &p) {
    Function &f = *p.function;
    // Shared and local layout: only the variables the function names.
    std::unordered_map<std::string, uint64_t> sharedOffsets, localOffsets;
    std::vector<const Variable *> externShared;
    auto referenced = [&](const std::string &name) {
      const Variable *v = findVariable(p, name);
      if (!v)
        return;
      if (v->space == Space::Shared) {
        if (v->external || v->size == 0) {
          if (std::find(externShared.begin(), externShared.end(), v) ==
              externShared.end())
            externShared.push_back(v);
        } else if (!sharedOffsets.count(name)) {
          uint64_t offset = alignUp(f.staticSharedBytes, v->align);
          sharedOffsets[name] = offset;
          f.staticSharedBytes = offset + v->size;
        }
      } else if (v->space == Space::Local && !localOffsets.count(name)) {
        uint64_t offset = alignUp(f.localBytes, v->align);
        localOffsets[name] = offset;
        f.localBytes = offset + v->size;
      }
    };
    for (Instr &instr : f.code)
      for (Operand &op : instr.operands)
        if (!op.symbol.empty())
          referenced(op.symbol);
    // Dynamic shared memory follows the static variables, aligned as its
    // declarations ask (swizzled tiles need 1024 bytes): the padding
    // counts as static.
    uint64_t dynamicAlign = 16;
    for (const Variable *v : externShared)
      dynamicAlign = std::max<uint64_t>(dynamicAlign, v->align);
    if (!externShared.empty())
      f.staticSharedBytes = alignUp(f.staticSharedBytes, dynamicAlign);
    uint64_t dynamicBase = alignUp(f.staticSharedBytes, 16);
    for (const Variable *v : externShared)
      sharedOffsets[v->name] = dynamicBase;

    auto symbolAddress = [&](const std::string &name, int64_t &address,
                             uint32_t line) -> bool {
      for (const Param &param : f.params)
        if (param.name == name) {
          address = param.offset;
          return true;
        }
      auto shared = sharedOffsets.find(name);
      if (shared != sharedOffsets.end()) {
        address = static_cast<int64_t>(shared->second);
        return true;
      }
      auto local = localOffsets.find(name);
      if (local != localOffsets.end()) {
        address = static_cast<int64_t>(local->second);
        return true;
      }
      const Variable *v = findVariable(p, name);
      if (v && (v->space == Space::Global || v->space == Space::Const)) {
        address = static_cast<int64_t>(v->address);
        return true;
      }
      (void)line;
      return false;
    };

    for (uint32_t i = 0; i < f.code.size(); ++i) {
      Instr &instr = f.code[i];
      // Calls are refused by the decoder; their operands name functions.
      bool isCall = instr.opcode.rfind("call", 0) == 0;
      for (Operand &op : instr.operands) {
        if (isCall)
          break;
        if (op.kind == OperandKind::Label) {
          auto label = p.labels.find(op.symbol);
          if (label != p.labels.end()) {
            instr.target = label->second;
            continue;
          }
          int64_t address = 0;
          if (!symbolAddress(op.symbol, address, instr.line))
            throw ParseError{"PTX line " + std::to_string(instr.line) +
                             ": unknown label or symbol '" + op.symbol + "'"};
          op.kind = OperandKind::Imm;
          op.value = address;
        } else if (op.kind == OperandKind::Address && !op.symbol.empty()) {
          int64_t address = 0;
          if (!symbolAddress(op.symbol, address, instr.line))
            throw ParseError{"PTX line " + std::to_string(instr.line) +
                             ": unknown symbol '" + op.symbol + "'"};
          op.value += address;
        }
      }
      decodeInstruction(instr);
    }
    // Falling off the end of a body returns.
    Instr ret;
    ret.line = f.code.empty() ? f.line : f.code.back().line;
    ret.text = "ret; (end of " + f.name + ")";
    ret.opcode = "ret";
    decodeInstruction(ret);
    f.code.push_back(std::move(ret));
  }

  Lexer lex;
  Module &module;
  void (*registerGlobal)(void *, void *, uint64_t, const std::string &);
  void *context;
  std::vector<PendingFunction> functions;
};

} // namespace

std::unique_ptr<Module> slr::sim::parseModule(
    const std::string &text, std::string &error,
    void (*registerGlobal)(void *, void *, uint64_t, const std::string &),
    void *context) {
  auto module = std::make_unique<Module>();
  try {
    Parser parser(text, *module, registerGlobal, context);
    parser.parse();
  } catch (const ParseError &e) {
    error = e.message;
    return nullptr;
  }
  if (module->target.empty()) {
    error = "PTX has no .target directive";
    return nullptr;
  }
  return module;
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

unsigned slr::sim::typeBytes(Type type) {
  switch (type) {
  case Type::Pred:
  case Type::B8:
  case Type::U8:
  case Type::S8:
    return 1;
  case Type::B16:
  case Type::U16:
  case Type::S16:
  case Type::F16:
  case Type::BF16:
    return 2;
  case Type::B32:
  case Type::U32:
  case Type::S32:
  case Type::F32:
  case Type::F16x2:
  case Type::BF16x2:
  case Type::TF32:
    return 4;
  case Type::B64:
  case Type::U64:
  case Type::S64:
  case Type::F64:
    return 8;
  case Type::B128:
    return 16;
  case Type::None:
    return 0;
  }
  return 0;
}

bool slr::sim::isSigned(Type type) {
  return type == Type::S8 || type == Type::S16 || type == Type::S32 ||
         type == Type::S64;
}

bool slr::sim::isFloat(Type type) {
  return type == Type::F16 || type == Type::F16x2 || type == Type::BF16 ||
         type == Type::BF16x2 || type == Type::TF32 || type == Type::F32 ||
         type == Type::F64;
}

namespace {
struct TypeName {
  const char *name;
  Type type;
};
constexpr TypeName kTypeNames[] = {
    {"pred", Type::Pred},   {"b8", Type::B8},     {"b16", Type::B16},
    {"b32", Type::B32},     {"b64", Type::B64},   {"b128", Type::B128},
    {"u8", Type::U8},       {"u16", Type::U16},   {"u32", Type::U32},
    {"u64", Type::U64},     {"s8", Type::S8},     {"s16", Type::S16},
    {"s32", Type::S32},     {"s64", Type::S64},   {"f16", Type::F16},
    {"f16x2", Type::F16x2}, {"bf16", Type::BF16}, {"bf16x2", Type::BF16x2},
    {"tf32", Type::TF32},   {"f32", Type::F32},   {"f64", Type::F64},
};
} // namespace

Type slr::sim::parseType(const std::string &text) {
  for (const TypeName &t : kTypeNames)
    if (text == t.name)
      return t.type;
  return Type::None;
}

const char *slr::sim::typeName(Type type) {
  for (const TypeName &t : kTypeNames)
    if (t.type == type)
      return t.name;
  return "none";
}

const char *slr::sim::spaceName(Space space) {
  switch (space) {
  case Space::Generic:
    return "generic";
  case Space::Global:
    return "global";
  case Space::Shared:
    return "shared";
  case Space::Local:
    return "local";
  case Space::Param:
    return "param";
  case Space::Const:
    return "const";
  }
  return "?";
}
