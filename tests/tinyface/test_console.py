"""Library output goes to the log file, our lines to the user, at the level of file descriptors."""

import os
import subprocess
import sys
import textwrap

# Writes through every path library output takes: a C-level write to fd 2 (TensorFlow's C++
# runtime), a child process (TFX's wheel build, pip), a Python warning, logging, print().
_PROGRAM = textwrap.dedent("""
    import logging, os, subprocess, sys, warnings
    from tinyface import console

    with console.library_output_to_log(sys.argv[1], live=sys.argv[2] == "live"):
        console.say("ours: progress")
        os.write(2, b"noise: C++ at fd 2\\n")
        subprocess.run([sys.executable, "-c", "print('noise: child process')"], check=True)
        warnings.warn("noise: deprecated", DeprecationWarning, stacklevel=1)
        logging.getLogger("some.library").warning("noise: logging")
        print("noise: print")
        console.note("ours: on stderr")
    console.say("ours: after")
    print("after: print is ours again")
""")


def _run(tmp_path, mode):
    log = tmp_path / "logs" / f"{mode}.log"
    env = dict(os.environ, PYTHONPATH=os.getcwd(), PYTHONWARNINGS="always")
    done = subprocess.run([sys.executable, "-c", _PROGRAM, str(log), mode], env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    return done.stdout, done.stderr, log.read_text()


def test_library_output_goes_to_the_log_and_our_lines_to_the_user(tmp_path):
    out, err, log = _run(tmp_path, "quiet")
    assert out == "ours: progress\nours: after\nafter: print is ours again\n"
    assert err == "ours: on stderr\n"
    for noise in ("C++ at fd 2", "child process", "deprecated", "noise: logging", "noise: print"):
        assert f"{noise}" in log
    assert "ours" not in log


def test_verbose_shows_the_library_output_live_and_still_logs_it(tmp_path):
    out, err, log = _run(tmp_path, "live")
    assert out == "ours: progress\nours: after\nafter: print is ours again\n"
    assert "ours: on stderr" in err
    for noise in ("C++ at fd 2", "child process", "deprecated", "noise: logging", "noise: print"):
        assert noise in log and noise in err
