"""The user's channel: tinyface's own lines, kept apart from everything the libraries print.

While a `tinyface` command runs, library_output_to_log() points file descriptors 1 and 2 at a
log file. That catches every kind of library output at once: TensorFlow's C++ start-up
messages (CUDA factories, oneDNN), Beam and TFX logging, the setuptools and pip subprocesses
of TFX's user-code wheel build, Python warnings (deprecations) and absl logging, which all end
up writing to fd 1 or 2. Our own lines (node progress, training progress, tables, verdicts,
errors, the log's path) must still reach the user, so they go through say() and note(), which write to
duplicates of the original stdout and stderr taken before the redirection.

Outside a command (a test calling a function, the Trainer in a Kubeflow container) nothing is
redirected and say()/note() write to sys.stdout/sys.stderr as print() would.
"""

import contextlib
import io
import os
import sys
import threading

_user_out = None    # the original stdout while library output is redirected, else None
_user_err = None


def duration_text(seconds):
    """A duration as a user reads it: "42 s", "4 min 02 s", "1 h 05 min"."""
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def say(text=""):
    """Writes one of our lines (or several, joined by newlines) to the user's stdout."""
    stream = _user_out or sys.stdout
    stream.write(f"{text}\n")
    stream.flush()


def note(text):
    """Writes one of our lines to the user's stderr: errors, and where the log file is."""
    stream = _user_err or sys.stderr
    stream.write(f"{text}\n")
    stream.flush()


@contextlib.contextmanager
def library_output_to_log(log_path, live=False):
    """While the block runs, fd 1 and 2 (and sys.stdout/sys.stderr) write to `log_path`
    (appended); with `live`, that output is also copied to the original stderr as it comes.
    say() and note() keep writing to the original stdout and stderr."""
    global _user_out, _user_err
    os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    saved_fds = {fd: os.dup(fd) for fd in (1, 2)}
    saved_streams = (sys.stdout, sys.stderr, _user_out, _user_err)
    _user_out = _user_stream(sys.stdout, saved_fds[1])
    _user_err = _user_stream(sys.stderr, saved_fds[2])
    log = open(log_path, "ab", buffering=0)
    copier = None
    if live:
        read_end, write_end = os.pipe()
        copier = threading.Thread(target=_copy, args=(read_end, log.fileno(), saved_fds[2]),
                                  name="library-output", daemon=True)
        copier.start()
        target = write_end
    else:
        target = log.fileno()
    for fd in (1, 2):
        os.dup2(target, fd)
    if live:
        os.close(target)   # fds 1 and 2 now hold the pipe's write end
    # Python-level writers that do not go through fd 1/2 (a test's captured sys.stdout) too.
    sys.stdout = io.TextIOWrapper(os.fdopen(1, "wb", buffering=0, closefd=False), line_buffering=True,
                                  errors="backslashreplace")
    sys.stderr = io.TextIOWrapper(os.fdopen(2, "wb", buffering=0, closefd=False), line_buffering=True,
                                  errors="backslashreplace")
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        for fd in (1, 2):
            os.dup2(saved_fds[fd], fd)   # closes our hold on the pipe's write end
        copying = False
        if copier is not None:
            # A child process that outlived the command may still hold the write end open:
            # then the copier keeps its fds (a few bytes of leak) rather than write to reused ones.
            copier.join(timeout=5)
            copying = copier.is_alive()
        for stream in (sys.stdout, sys.stderr, _user_out, _user_err):
            if stream not in saved_streams:
                stream.close()          # our wrappers; the fds under sys.stdout/err stay open
        sys.stdout, sys.stderr, _user_out, _user_err = saved_streams
        if not copying:
            for fd in saved_fds.values():
                os.close(fd)
            log.close()


def _user_stream(stream, saved_fd):
    """Where our lines go once `stream`'s fd is redirected: the saved copy of that fd if
    `stream` writes to one (a terminal, a file, a pipe), else `stream` itself (a test's capture)."""
    try:
        stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    return io.TextIOWrapper(os.fdopen(os.dup(saved_fd), "wb", buffering=0), line_buffering=True,
                            encoding=getattr(stream, "encoding", None) or "utf-8", errors="backslashreplace")


def _copy(read_end, *targets):
    """Copies the pipe to every target fd until its last write end closes."""
    with os.fdopen(read_end, "rb", buffering=0) as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                return
            for target in targets:
                os.write(target, chunk)
