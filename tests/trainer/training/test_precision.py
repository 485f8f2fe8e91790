"""The precision decision: bf16 only on CPUs that run it natively, fp16 on GPUs, float32 otherwise."""

import logging

import pytest

from tinyface.trainer.training import cpu_isa, precision, loop

# Abridged /proc/cpuinfo of the two CPU kinds the project's machines come in.
AMX_XEON = """processor\t: 0
model name\t: Intel(R) Xeon(R) Processor
flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8
"""
AVX2_EPYC = """processor\t: 0
model name\t: AMD EPYC 7B13
flags\t\t: fpu sse2 avx avx2 fma bmi2 sha_ni
"""
AVX512_BF16_ONLY = "flags\t: avx2 avx512f avx512_bf16\n"


@pytest.mark.parametrize("cpuinfo, expected", [
    (AMX_XEON, ("amx_bf16", "avx512_bf16")), (AVX512_BF16_ONLY, ("avx512_bf16",)), (AVX2_EPYC, ()), ("", ())])
def test_native_bf16_flags(cpuinfo, expected):
    assert precision.native_bf16_flags(cpu_isa.cpu_flags(cpuinfo)) == expected


@pytest.mark.parametrize("cap, native", [("AVX2", False), ("avx512_core", False), ("AVX512_CORE_BF16", True),
                                         ("avx512_core_amx", True), ("", True)])
def test_a_onednn_isa_cap_below_bf16_means_emulated(cap, native):
    flags = precision.native_bf16_flags(cpu_isa.cpu_flags(AMX_XEON), cap)
    assert bool(flags) is native


@pytest.mark.parametrize("has_gpu, cpuinfo, policy", [
    (False, AMX_XEON, "mixed_bfloat16"),
    (False, AVX512_BF16_ONLY, "mixed_bfloat16"),
    (False, AVX2_EPYC, "float32"),
    (True, AVX2_EPYC, "mixed_float16"),
    (True, AMX_XEON, "mixed_float16"),
])
def test_auto_follows_the_hardware(has_gpu, cpuinfo, policy):
    native = precision.native_bf16_flags(cpu_isa.cpu_flags(cpuinfo))
    decision = precision.decide("auto", has_gpu, native)
    assert decision.policy == policy and not decision.emulated
    assert decision.reason.startswith("auto:")


def test_explicit_settings_are_honoured_and_emulated_bf16_is_flagged():
    assert precision.decide("off", False, ("amx_bf16",)).policy == "float32"
    assert precision.decide("fp16", False, ()).policy == "mixed_float16"
    native = precision.decide("bf16", False, ("amx_bf16",))
    assert native.policy == "mixed_bfloat16" and not native.emulated
    emulated = precision.decide("bf16", False, ())
    assert emulated.policy == "mixed_bfloat16" and emulated.emulated and "emulated" in emulated.reason
    assert not precision.decide("bf16", True, ()).emulated


def test_unknown_setting_is_an_error():
    with pytest.raises(ValueError, match="mixed_precision must be one of"):
        precision.decide("fp64", False, ())


def test_this_machine_decision_matches_its_cpu_and_is_logged(monkeypatch, caplog):
    # Whatever kind of CPU runs the suite: the policy auto picks is the one its flags call for.
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    with open(cpu_isa.CPUINFO_PATH, encoding="utf-8", errors="replace") as handle:
        native = precision.native_bf16_flags(cpu_isa.cpu_flags(handle.read()))
    # Listen on absl's own logger: an earlier test in the same process may have raised its
    # level or stopped it propagating to the root, where caplog listens by default.
    absl_logger = logging.getLogger("absl")
    absl_logger.addHandler(caplog.handler)
    try:
        with caplog.at_level("INFO", logger="absl"):
            policy = loop.precision_policy("auto")
    finally:
        absl_logger.removeHandler(caplog.handler)
    import tensorflow as tf
    if tf.config.list_logical_devices("GPU"):
        assert policy == "mixed_float16"
    else:
        assert policy == ("mixed_bfloat16" if native else "float32")
    assert any("precision: " + policy in record.getMessage() for record in caplog.records)


def test_a_capped_onednn_isa_turns_auto_to_float32_on_any_cpu(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert precision.this_machine_native_bf16() == ()
