"""Fixtures shared by the command tests: models that are not a SavedModel, and a local JSON HTTP
server for the fakes of the services the commands talk to (the KFP API, TF Serving's REST API)."""

import contextlib
import http.server
import json
import threading
import urllib.parse
import zipfile

import pytest


def _empty_folder(folder):
    return folder


def _folder_of_text_files(folder):
    for name in ("notes.txt", "README.md"):
        (folder / name).write_text("not a model")
    return folder


def _keras_file(folder):
    path = folder / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:  # a .keras file is a zip of config and weights
        archive.writestr("config.json", "{}")
    return path


@pytest.fixture(params=[
    (_empty_folder, "no SavedModel: expected saved_model.pb here"),
    (_folder_of_text_files, "no SavedModel: expected saved_model.pb here"),
    (_keras_file, "is a file (a Keras .keras archive), not a SavedModel folder"),
], ids=["empty folder", "folder of text files", "keras file"])
def not_a_saved_model(request, tmp_path):
    """(path, problem): something given as --model that is not a SavedModel folder (made under
    tmp_path/model), and the problem the one-line error must name."""
    make, problem = request.param
    folder = tmp_path / "model"
    folder.mkdir()
    return make(folder), problem


class _JsonRequestHandler(http.server.BaseHTTPRequestHandler):
    """Hands each request to the server's app as a dict and writes the app's answer as JSON."""

    def log_message(self, *args):   # keep the test output clean
        pass

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = {"method": self.command, "path": url.path, "query": urllib.parse.parse_qs(url.query),
                   "content_type": self.headers.get("Content-Type", ""), "body": self.rfile.read(length)}
        body, status = self.server.app(request)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _handle


@pytest.fixture(scope="session")
def json_http_server():
    """serve(app): a context manager serving HTTP on 127.0.0.1 (a free port) in a thread, and
    giving its URL. Each request goes to app(request) -> (body, status), the body answered as
    JSON; request = {method, path, query (parse_qs), content_type, body (bytes)}."""
    @contextlib.contextmanager
    def serve(app):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _JsonRequestHandler)
        server.app = app
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    return serve
