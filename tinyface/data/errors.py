"""The one error type for bad input data: it always names the file, the line and the problem."""

import os


class BadInput(Exception):
    """A problem with one input file (or one line of it).

    str() gives the one-line message shown to users: "path:line: problem" (line omitted when
    the problem is the whole file), with the path escaped by display_path() so that a name
    that is not UTF-8 or holds a line break still gives one printable line.
    """

    def __init__(self, path, problem, line=None):
        self.path = os.fsdecode(path) if isinstance(path, bytes) else str(path)
        self.problem = problem
        self.line = line
        where = display_path(self.path) + (f":{line}" if line is not None else "")
        super().__init__(f"{where}: {display_text(problem)}")

    def __reduce__(self):  # picklable across Beam workers
        return (BadInput, (self.path, self.problem, self.line))

    @property
    def reason(self):
        """A short grouping key for reports: the problem without its specific numbers."""
        return self.problem.split(":")[0]


def display_path(path):
    """`path` as one printable UTF-8 line: bytes that are not UTF-8 (which Python keeps as
    surrogates, e.g. '\\udce9') become \\xe9, control characters \\n, \\t, \\x1b, and a
    backslash \\\\, so the escaped form is unambiguous. Spaces and quotes stay as they are:
    the path ends at the ':' before the line number, which is how every message reads."""
    return display_text(str(path).replace("\\", "\\\\"))


def display_text(text):
    """`text` with undecodable bytes and control characters backslash-escaped (backslashes
    already there are kept: problem texts quote tokens with repr(), which escapes its own)."""
    try:
        decoded = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that no byte decoded to
        decoded = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if decoded.isprintable():
        return decoded
    return "".join(char if char.isprintable() else _escape_control(char) for char in decoded)


def _escape_control(char):
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in named:
        return named[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
