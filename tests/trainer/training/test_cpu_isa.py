"""What oneDNN makes of this machine's CPU: read from /proc/cpuinfo flags and ONEDNN_MAX_CPU_ISA."""

import pytest

from tinyface.trainer.training import cpu_isa

AVX512_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16")
AVX2_FLAGS = ("avx2", "fma", "sha_ni")


def test_cpu_flags_are_read_from_the_flags_line():
    text = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu avx2 avx512f sha_ni\n"
    assert cpu_isa.cpu_flags(text) == ("fpu", "avx2", "avx512f", "sha_ni")
    assert cpu_isa.cpu_flags("processor : 0\n") == ()


@pytest.mark.parametrize("flags, cap, expected", [
    (AVX512_FLAGS, None, True),
    (AVX2_FLAGS, None, False),
    (AVX512_FLAGS, "AVX2", False),              # our stand-in for an AVX2-only CPU
    (AVX512_FLAGS, "avx512_core", True),
    (AVX512_FLAGS, "AVX10_1_512", True),
    (AVX512_FLAGS, "ALL", True),
    (AVX2_FLAGS, "ALL", False),                 # a cap never adds what the CPU lacks
    ((), None, False),                          # no /proc/cpuinfo: nothing known
])
def test_onednn_runs_avx512_only_where_the_cpu_has_it_and_no_cap_forbids_it(flags, cap, expected):
    assert cpu_isa.onednn_runs_avx512(flags, cap) is expected


def test_this_machine_follows_the_cap(monkeypatch):
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    assert not cpu_isa.this_machine_onednn_runs_avx512()
    monkeypatch.delenv("ONEDNN_MAX_CPU_ISA")
    flags = cpu_isa.cpu_flags(cpu_isa.read_cpuinfo())
    assert cpu_isa.this_machine_onednn_runs_avx512() == ("avx512f" in flags)


ZEN3_FLAGS = ("avx2", "fma", "vaes")                      # AVX2 only: TensorFlow runs Eigen's kernels
ZEN4_FLAGS = AVX512_FLAGS + ("avx512_vnni",)              # TensorFlow runs oneDNN's by default
XEON_AMX_FLAGS = ("avx2", "avx512f", "amx_tile", "amx_bf16")


@pytest.mark.parametrize("flags, variable, expected", [
    (ZEN3_FLAGS, None, False),
    (ZEN4_FLAGS, None, True),
    (XEON_AMX_FLAGS, None, True),
    (ZEN3_FLAGS, "1", True),
    (ZEN3_FLAGS, "true", True),
    (ZEN4_FLAGS, "0", False),
    (ZEN4_FLAGS, "", True),            # set but empty: TensorFlow's default
])
def test_tensorflow_runs_onednn_by_the_cpu_unless_the_variable_says(flags, variable, expected):
    assert cpu_isa.tensorflow_runs_onednn(flags, variable) is expected


def _on_cpu(monkeypatch, flags):
    monkeypatch.setattr(cpu_isa, "read_cpuinfo", lambda: "flags\t: " + " ".join(flags) + "\n")


@pytest.mark.parametrize("flags, environ, turned_on", [
    (ZEN3_FLAGS, {}, True),                                    # AVX2 only: on for training
    (ZEN4_FLAGS, {}, False),                                   # already on: nothing to do
    (ZEN3_FLAGS, {cpu_isa.TF_ONEDNN_VARIABLE: "0"}, False),    # the user's choice stands
])
def test_onednn_is_turned_on_for_training_only_where_tensorflow_would_leave_it_off(
        monkeypatch, flags, environ, turned_on):
    _on_cpu(monkeypatch, flags)
    monkeypatch.delitem(cpu_isa.sys.modules, "tensorflow", raising=False)
    before = dict(environ)
    assert cpu_isa.use_onednn_for_training(environ) is turned_on
    assert cpu_isa.this_process_runs_onednn(environ) is (turned_on or cpu_isa.tensorflow_runs_onednn(flags, before.get(cpu_isa.TF_ONEDNN_VARIABLE)))
    # A serving process here runs TensorFlow's default (or the user's choice), not the training switch.
    assert cpu_isa.serving_runs_onednn(environ) is cpu_isa.tensorflow_runs_onednn(flags, before.get(cpu_isa.TF_ONEDNN_VARIABLE))


def test_onednn_is_not_switched_once_tensorflow_is_imported(monkeypatch):
    _on_cpu(monkeypatch, ZEN3_FLAGS)
    monkeypatch.setitem(cpu_isa.sys.modules, "tensorflow", object())
    environ = {}
    assert not cpu_isa.use_onednn_for_training(environ)
    assert environ == {}
