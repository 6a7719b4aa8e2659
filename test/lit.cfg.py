# lit configuration for slr.
import os
import shutil
import subprocess
import sys

import lit.formats

config.name = "slr"
config.test_format = lit.formats.ShTest(not lit_config.isWindows)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "Embedding", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.slr_obj_root, "test")

# Our tools first, then LLVM's (FileCheck, not, split-file).
path = os.pathsep.join(
    [config.slr_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])]
)
config.environment["PATH"] = path

config.substitutions.append(
    ("%mlir_runner_utils", os.path.join(config.mlir_lib_dir, "libmlir_runner_utils.so"))
)
config.substitutions.append(
    ("%mlir_c_runner_utils", os.path.join(config.mlir_lib_dir, "libmlir_c_runner_utils.so"))
)
# After the *_utils keys: lit substitutes in order and %mlir_runner is a prefix.
config.substitutions.append(("%mlir_runner", config.mlir_runner))
config.substitutions.append(("%slr_shared_data", config.slr_shared_data_dir))
config.substitutions.append(
    ("%slr_cpu_runtime", os.path.join(config.slr_lib_dir, "libslr_cpu_runtime.so"))
)
config.substitutions.append(
    ("%slr_cuda_runtime", os.path.join(config.slr_lib_dir, "libslr_cuda_runtime.so"))
)
# The PTX simulator behind the same mgpu* ABI, and as libcuda.so.1 for
# programs that dlopen the driver (LD_LIBRARY_PATH=%slr_cuda_sim_dir).
config.substitutions.append(
    ("%slr_cuda_sim_dir", os.path.join(config.slr_lib_dir, "cuda-sim"))
)
config.substitutions.append(
    ("%slr_cuda_sim", os.path.join(config.slr_lib_dir, "libslr_cuda_sim.so"))
)
config.substitutions.append(("%slr_src", config.slr_src_root))
config.substitutions.append(("%python", sys.executable))

# Engines slr-export's files are checked in, where installed (optional):
# SLR_ENGINE_PYTHON names an interpreter that has them; by default the venv
# of scripts/engines.sh where it exists, else lit's.
engine_venv_python = os.path.join(
    os.environ.get("SLR_CACHE_DIR", os.path.expanduser("~/.cache/slr")),
    "engines", "venv", "bin", "python")
engine_python = os.environ.get("SLR_ENGINE_PYTHON") or (
    engine_venv_python if os.access(engine_venv_python, os.X_OK) else sys.executable)
config.substitutions.append(("%engine_python", engine_python))


def engine_has(*modules):
    try:
        return subprocess.run([engine_python, "-c", "import " + ", ".join(modules)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=120).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


if engine_has("llama_cpp"):
    config.available_features.add("llama-cpp")
if engine_has("torch", "transformers", "peft"):
    config.available_features.add("transformers")


def has_cuda_gpu():
    """A GPU is usable only if the driver answers; CI and dev boxes have none."""
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in out.stdout


def find_ptxas():
    """gpu-module-to-binary runs the CUDA toolkit's ptxas to make cubins."""
    found = shutil.which("ptxas", path=config.environment["PATH"])
    if found:
        return found
    for root in [os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"]:
        candidate = os.path.join(root, "bin", "ptxas") if root else None
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


ptxas = find_ptxas()
if ptxas:
    config.available_features.add("ptxas")
    config.environment["PATH"] = os.pathsep.join(
        [config.environment["PATH"], os.path.dirname(ptxas)]
    )

if has_cuda_gpu():
    config.available_features.add("cuda-gpu")
# GPU programs also run on the PTX simulator, everywhere it is built.
if os.path.exists(os.path.join(config.slr_lib_dir, "libslr_cuda_sim.so")):
    config.available_features.add("cuda-sim")
if config.slr_build_benchmarks:
    config.available_features.add("slr-benchmarks")
if os.path.isdir(config.slr_shared_data_dir):
    config.available_features.add("shared-data")
# SmolLM2-135M (scripts/fetch-smollm2.sh): SLR_SMOLLM2_GGUF, else its cache.
smollm2 = os.environ.get("SLR_SMOLLM2_GGUF") or os.path.join(
    os.environ.get("SLR_CACHE_DIR", os.path.expanduser("~/.cache/slr")),
    "SmolLM2-135M-Instruct.Q4_1.gguf",
)
if os.path.isfile(smollm2):
    config.available_features.add("smollm2")
    config.substitutions.append(("%smollm2_gguf", smollm2))
