"""BadInput's one line: the path escaped so that any file name prints as one readable line."""

import os
import pickle

from tinyface.data.errors import BadInput, display_path


def test_message_is_path_line_problem_and_survives_pickling():
    error = BadInput("/data/a.pts", "expected 68 points, found 70", 2)
    assert str(error) == "/data/a.pts:2: expected 68 points, found 70"
    assert str(BadInput("/data/a.png", "truncated image")) == "/data/a.png: truncated image"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.path, copy.line, str(copy)) == (error.path, 2, str(error))


def test_bytes_that_are_not_utf8_are_shown_as_hex_escapes():
    name = os.fsdecode(b"/data/Jos\xe9.pts")   # how Python hands such a name over: '\udce9'
    assert display_path(name) == "/data/Jos\\xe9.pts"
    assert str(BadInput(os.fsencode(name), "empty annotation file (no text)")).startswith("/data/Jos\\xe9.pts: ")


def test_control_characters_and_backslashes_are_escaped_unambiguously():
    assert display_path("/data/two\nlines\t\x1b.pts") == "/data/two\\nlines\\t\\x1b.pts"
    assert display_path("/data/back\\slash.pts") == "/data/back\\\\slash.pts"  # not read as an escape
    assert display_path('/data/my "best" face\'s copy.pts') == '/data/my "best" face\'s copy.pts'
    assert display_path("/data/\ud800.pts") == "/data/\\ud800.pts"  # a surrogate no byte decodes to


def test_the_problem_keeps_its_quoting_but_never_breaks_the_line():
    message = str(BadInput("/data/a.txt", "malformed number 'x\\ty' (token 2)\nsecond line", 3))
    assert message == "/data/a.txt:3: malformed number 'x\\ty' (token 2)\\nsecond line"
