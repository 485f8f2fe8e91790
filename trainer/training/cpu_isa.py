"""What this machine's CPU offers the kernels TensorFlow runs: its flags, whether TensorFlow runs
oneDNN's kernels or its own (Eigen's), and what oneDNN makes of the flags.

Read from /proc/cpuinfo: cheap, deterministic, and what TensorFlow and oneDNN dispatch on.
ONEDNN_MAX_CPU_ISA caps oneDNN's kernels below what the CPU has (we use it to stand in for a
smaller CPU), so every answer here honours it. Nothing here imports TensorFlow: the oneDNN
switch must be set before TensorFlow is imported.
"""

import os
import sys
from typing import Mapping, MutableMapping, Optional, Tuple

CPUINFO_PATH = "/proc/cpuinfo"

# ONEDNN_MAX_CPU_ISA values (oneDNN's names, lower case) that still allow AVX-512 kernels.
AVX512_ISA_CAP_PREFIXES = ("avx512", "avx10")
UNCAPPED = ("all", "default")


def read_cpuinfo() -> str:
    try:
        with open(CPUINFO_PATH, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        # No /proc (macOS, Windows): no flags known.
        return ""


def cpu_flags(cpuinfo_text: str) -> Tuple[str, ...]:
    """The flags of the first processor listed in /proc/cpuinfo text (x86 'flags' line)."""
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return tuple(value.split())
    return ()


def onednn_cap() -> Optional[str]:
    """ONEDNN_MAX_CPU_ISA as set for this process, or None."""
    return os.environ.get("ONEDNN_MAX_CPU_ISA")


def onednn_runs_avx512(flags, onednn_max_isa: Optional[str] = None) -> bool:
    """Whether oneDNN uses AVX-512 kernels on a CPU with `flags` under the cap `onednn_max_isa`."""
    if onednn_max_isa:
        cap = onednn_max_isa.strip().lower()
        if cap not in UNCAPPED and not cap.startswith(AVX512_ISA_CAP_PREFIXES):
            return False
    return "avx512f" in flags


def this_machine_onednn_runs_avx512() -> bool:
    return onednn_runs_avx512(cpu_flags(read_cpuinfo()), onednn_cap())


# TensorFlow 2.16 (Linux x86) runs its oneDNN kernels only where the CPU has one of these, unless
# TF_ENABLE_ONEDNN_OPTS says otherwise; elsewhere (AVX2-only CPUs) it runs Eigen's. Read once,
# when TensorFlow is imported.
TF_ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"
TF_ONEDNN_DEFAULT_FLAGS = ("avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16")
# Set beside TF_ONEDNN_VARIABLE when tinyface turned oneDNN on for training: a serving process
# (TF Serving, `tinyface predict`) still runs TensorFlow's default, and exports are made for it.
ONEDNN_FOR_TRAINING_VARIABLE = "TINYFACE_ONEDNN_FOR_TRAINING"


def _switch(value: Optional[str]) -> Optional[bool]:
    """TF_ENABLE_ONEDNN_OPTS's value as TensorFlow reads it: on, off, or None (unset: the default)."""
    if value is None or not value.strip():
        return None
    return value.strip().lower() in ("1", "true")


def tensorflow_runs_onednn(flags, variable_value: Optional[str] = None) -> bool:
    """Whether TensorFlow runs oneDNN's kernels on a CPU with `flags` and TF_ENABLE_ONEDNN_OPTS
    set to `variable_value` (None: unset, TensorFlow's default for the CPU)."""
    switch = _switch(variable_value)
    if switch is not None:
        return switch
    return any(flag in flags for flag in TF_ONEDNN_DEFAULT_FLAGS)


def this_process_runs_onednn(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether TensorFlow runs oneDNN's kernels in this process (decided from the variable and the
    CPU, as TensorFlow decides when it is imported)."""
    return tensorflow_runs_onednn(cpu_flags(read_cpuinfo()), environ.get(TF_ONEDNN_VARIABLE))


def serving_runs_onednn(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether a serving process on this machine runs oneDNN's kernels: TensorFlow's default for the
    CPU, or the user's own TF_ENABLE_ONEDNN_OPTS, not the one tinyface set for training."""
    variable = None if environ.get(ONEDNN_FOR_TRAINING_VARIABLE) else environ.get(TF_ONEDNN_VARIABLE)
    return tensorflow_runs_onednn(cpu_flags(read_cpuinfo()), variable)


def use_onednn_for_training(environ: MutableMapping[str, str] = os.environ) -> bool:
    """Turns TensorFlow's oneDNN kernels on for this process where TensorFlow would leave them off
    (AVX2-only CPUs) and the user has not chosen: training there ran 1.3-1.6x faster with them
    (JASRNet 0.69-0.76 against 0.53 images/s, DIC 0.20-0.22 against 0.14 on a 2-core
    EPYC Zen 3; README, "Benchmarks"), while
    batch-1 serving is faster on Eigen's kernels, so serving processes keep TensorFlow's default.

    Must run before TensorFlow is imported (it reads the variable once); returns whether it
    turned them on.
    """
    if environ.get(TF_ONEDNN_VARIABLE) is not None or "tensorflow" in sys.modules:
        return False
    if tensorflow_runs_onednn(cpu_flags(read_cpuinfo())):
        return False
    environ[TF_ONEDNN_VARIABLE] = "1"
    environ[ONEDNN_FOR_TRAINING_VARIABLE] = "1"
    return True
