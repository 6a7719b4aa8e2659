//===- KernelManifest.h - Generated kernels, as the GPU runner reads them -===//
//
// slr-gpu-kernels (MLIR side, runs anywhere) compiles slr.linear kernels to a
// cubin and describes them in a manifest; slr-bench-gpu (plain C++ + the CUDA
// driver, runs on the GPU machine, which has no LLVM/MLIR) launches them.
// The manifest is a text file, one kernel set per line:
//
//   variant n=4096 k=4096 rank=64 type=bf16 main=<kernel> lowrank=<kernel|->
//           threads=128 main_smem=... tile_n=128 tile_m=64 lowrank_tile_n=...
//           lowrank_tile_m=... lowrank_threads=... lowrank_smem=...
//           k_blocks=... [family=decode_sm80]
//
// (family: the kernel variant, mma_sp_sm80 when absent; a decode_sm80 set
// has no lowrank kernel, k_blocks is its number of K slices; a
// wgmma_sp_sm90a set's lowrank kernel is the projection in its store mode,
// and slr-bench-gpu encodes its tensor maps as the launcher does);
// after a first line `slr-gpu-kernels 1 chip=<sm_XX> binary=<file>`, and one
// line per layer of a real compressed model whose weights were exported:
//
//   weights layer=blk.0.attn_q file=blk.0.attn_q.bin n=576 k=576 rank=64
//
// where the file holds, little-endian: the packed values of S (f32,
// [n, k/2]), the packed positions (u8, [n, k/4]), U (f32, [n, rank]) and V
// (f32, [rank, k]). Header-only, standard C++ only.
//
//===----------------------------------------------------------------------===//

#ifndef SLR_BENCHMARKS_GPU_KERNELMANIFEST_H
#define SLR_BENCHMARKS_GPU_KERNELMANIFEST_H

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace slr::bench {

struct KernelVariant {
  std::string family = "mma_sp_sm80"; // or decode_sm80, wgmma_sp_sm90a
  int64_t n = 0, k = 0, rank = 0;
  std::string type; // "bf16" or "f16"
  std::string mainKernel, lowRankKernel;
  int64_t threads = 0, mainSharedBytes = 0, tileN = 0, tileM = 0;
  int64_t lowRankTileN = 0, lowRankTileM = 0, lowRankThreads = 0,
          lowRankSharedBytes = 0, kBlocks = 0;
};

struct LayerWeights {
  std::string layer, file;
  int64_t n = 0, k = 0, rank = 0;
};

struct KernelManifest {
  std::string chip, binary;
  std::vector<KernelVariant> variants;
  std::vector<LayerWeights> weights;
};

inline std::string formatWeights(const LayerWeights &w) {
  std::ostringstream out;
  out << "weights layer=" << w.layer << " file=" << w.file << " n=" << w.n
      << " k=" << w.k << " rank=" << w.rank;
  return out.str();
}

inline std::string formatVariant(const KernelVariant &v) {
  std::ostringstream out;
  out << "variant n=" << v.n << " k=" << v.k << " rank=" << v.rank
      << " type=" << v.type << " main=" << v.mainKernel
      << " lowrank=" << (v.lowRankKernel.empty() ? "-" : v.lowRankKernel)
      << " threads=" << v.threads << " main_smem=" << v.mainSharedBytes
      << " tile_n=" << v.tileN << " tile_m=" << v.tileM
      << " lowrank_tile_n=" << v.lowRankTileN
      << " lowrank_tile_m=" << v.lowRankTileM
      << " lowrank_threads=" << v.lowRankThreads
      << " lowrank_smem=" << v.lowRankSharedBytes << " k_blocks=" << v.kBlocks;
  if (v.family != "mma_sp_sm80")
    out << " family=" << v.family;
  return out.str();
}

/// Parses `path`; on failure returns false with a one-line `error`.
inline bool readManifest(const std::string &path, KernelManifest &manifest,
                         std::string &error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path;
    return false;
  }
  std::string line;
  int lineNumber = 0;
  while (std::getline(in, line)) {
    ++lineNumber;
    std::istringstream words(line);
    std::string kind;
    if (!(words >> kind))
      continue;
    std::map<std::string, std::string> fields;
    std::string word;
    if (kind == "slr-gpu-kernels")
      words >> word; // format version
    while (words >> word) {
      size_t eq = word.find('=');
      if (eq == std::string::npos) {
        error = path + ":" + std::to_string(lineNumber) +
                ": expected key=value, got '" + word + "'";
        return false;
      }
      fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    auto integer = [&](const char *key, int64_t &value) {
      auto it = fields.find(key);
      if (it == fields.end())
        return false;
      try {
        value = std::stoll(it->second);
      } catch (...) {
        return false;
      }
      return true;
    };
    if (kind == "slr-gpu-kernels") {
      manifest.chip = fields["chip"];
      manifest.binary = fields["binary"];
      continue;
    }
    if (kind == "weights") {
      LayerWeights w;
      w.layer = fields["layer"];
      w.file = fields["file"];
      if (!integer("n", w.n) || !integer("k", w.k) ||
          !integer("rank", w.rank) || w.layer.empty() || w.file.empty()) {
        error = path + ":" + std::to_string(lineNumber) +
                ": incomplete weights entry";
        return false;
      }
      manifest.weights.push_back(w);
      continue;
    }
    if (kind != "variant") {
      error = path + ":" + std::to_string(lineNumber) + ": unknown entry '" +
              kind + "'";
      return false;
    }
    KernelVariant v;
    if (fields.count("family"))
      v.family = fields["family"];
    bool decode = v.family == "decode_sm80";
    v.type = fields["type"];
    v.mainKernel = fields["main"];
    v.lowRankKernel = fields["lowrank"] == "-" ? "" : fields["lowrank"];
    bool ok = integer("n", v.n) && integer("k", v.k) &&
              integer("rank", v.rank) && integer("threads", v.threads) &&
              integer("main_smem", v.mainSharedBytes) &&
              integer("tile_n", v.tileN) && integer("tile_m", v.tileM) &&
              integer("lowrank_tile_n", v.lowRankTileN) &&
              integer("lowrank_tile_m", v.lowRankTileM) &&
              integer("lowrank_threads", v.lowRankThreads) &&
              integer("lowrank_smem", v.lowRankSharedBytes) &&
              integer("k_blocks", v.kBlocks);
    if (!ok || v.mainKernel.empty() || (v.type != "bf16" && v.type != "f16") ||
        (v.family != "mma_sp_sm80" && v.family != "wgmma_sp_sm90a" &&
         !decode) ||
        (v.rank > 0 && !decode && v.lowRankKernel.empty()) ||
        (decode && v.kBlocks <= 0)) {
      error = path + ":" + std::to_string(lineNumber) + ": incomplete variant";
      return false;
    }
    manifest.variants.push_back(v);
  }
  if (manifest.binary.empty()) {
    error = path + ": no 'slr-gpu-kernels' header line";
    return false;
  }
  return true;
}

} // namespace slr::bench

#endif // SLR_BENCHMARKS_GPU_KERNELMANIFEST_H
