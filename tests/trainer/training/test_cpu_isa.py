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
