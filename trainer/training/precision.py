"""Which numeric precision a training run computes in, decided by the hardware it runs on.

bf16 is only fast where the CPU executes it natively: AMX tiles (amx_bf16) or the AVX-512 BF16
dot products (avx512_bf16). Elsewhere oneDNN emulates it, and a bf16 3x3 convolution measured
50-180x slower than float32 on a 2-core AMD EPYC with AVX2 only (0.097 s vs 17.9 s). GPUs
accelerate fp16. So `auto` means: fp16 on a GPU, bf16 on a CPU with native bf16, float32
otherwise. An explicit `bf16` on a CPU without it is honoured but warned about.

The decision reads the CPU's flags (/proc/cpuinfo): cheap, deterministic, and exactly what
oneDNN dispatches on. ONEDNN_MAX_CPU_ISA, when set below the bf16 ISAs, caps oneDNN's kernels,
so bf16 is emulated there too and the decision follows it.
"""

import dataclasses
from typing import Optional, Tuple

from absl import logging

from tinyface.trainer.training.cpu_isa import cpu_flags, onednn_cap, read_cpuinfo
from tinyface.trainer.training.training_config import MIXED_PRECISION

# CPU flags (as /proc/cpuinfo spells them) under which oneDNN runs bf16 natively.
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
# ONEDNN_MAX_CPU_ISA values that still include a native bf16 ISA (oneDNN's names, lower case).
BF16_CAPABLE_ISA_CAPS = ("avx512_core_bf16", "avx512_core_fp16", "avx512_core_amx", "avx512_core_amx_fp16",
                         "avx10_1_512", "avx10_1_512_amx", "avx10_1_512_amx_fp16", "all", "default")

POLICIES = {"off": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}


@dataclasses.dataclass(frozen=True)
class PrecisionDecision:
    policy: str              # a Keras dtype policy name
    reason: str              # one line for the log
    emulated: bool = False   # bf16 on a CPU that only emulates it: slow, worth a warning

    def __str__(self):
        return f"{self.policy} ({self.reason})"


def native_bf16_flags(flags, onednn_max_isa: Optional[str] = None) -> Tuple[str, ...]:
    """The native-bf16 flags among `flags`, or () when ONEDNN_MAX_CPU_ISA caps oneDNN below them."""
    if onednn_max_isa and onednn_max_isa.strip().lower() not in BF16_CAPABLE_ISA_CAPS:
        return ()
    return tuple(flag for flag in NATIVE_BF16_FLAGS if flag in flags)


def decide(setting: str, has_gpu: bool, native_bf16: Tuple[str, ...]) -> PrecisionDecision:
    """The dtype policy for a TrainingConfig.mixed_precision setting on this hardware."""
    if setting in POLICIES:
        policy = POLICIES[setting]
        if setting == "bf16" and not has_gpu and not native_bf16:
            return PrecisionDecision(policy, "bf16 asked for, but this CPU has no native bf16 "
                                             "(no amx_bf16/avx512_bf16): it is emulated and runs "
                                             "far slower than float32", emulated=True)
        return PrecisionDecision(policy, f"mixed_precision: {setting}")
    if setting != "auto":
        raise ValueError(f"mixed_precision must be one of {MIXED_PRECISION}, got {setting!r}")
    if has_gpu:
        return PrecisionDecision("mixed_float16", "auto: a GPU is present")
    if native_bf16:
        return PrecisionDecision("mixed_bfloat16", f"auto: the CPU runs bf16 natively ({', '.join(native_bf16)})")
    return PrecisionDecision("float32", "auto: the CPU has no native bf16 (no amx_bf16/avx512_bf16), "
                                        "where bf16 would be emulated")


def this_machine_native_bf16() -> Tuple[str, ...]:
    """The native-bf16 flags of this machine's CPU, honouring ONEDNN_MAX_CPU_ISA."""
    return native_bf16_flags(cpu_flags(read_cpuinfo()), onednn_cap())


def decide_for_this_machine(setting: str) -> PrecisionDecision:
    """decide() with this machine's GPUs and CPU flags; logs the decision and why."""
    import tensorflow as tf  # only here: the pure functions above are used without TensorFlow

    decision = decide(setting, bool(tf.config.list_logical_devices("GPU")), this_machine_native_bf16())
    (logging.warning if decision.emulated else logging.info)("precision: %s", decision)
    return decision
