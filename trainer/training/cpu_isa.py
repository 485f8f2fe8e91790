"""What this machine's CPU offers the kernels TensorFlow runs: its flags, and what oneDNN makes of them.

Read from /proc/cpuinfo: cheap, deterministic, and what oneDNN dispatches on. ONEDNN_MAX_CPU_ISA
caps oneDNN's kernels below what the CPU has (we use it to stand in for a smaller CPU), so every
answer here honours it.
"""

import os
from typing import Optional, Tuple

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
