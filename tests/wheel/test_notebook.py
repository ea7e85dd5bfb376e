"""examples/colab/baton.ipynb, executed headless twice: the second session resumes from the first one's checkpoint.

A folder stands in for the mounted Drive and a loopback HTTP server for the data set's bucket. The kernel is a
virtual environment's Python (with Debian's ipykernel through --system-site-packages), so the notebook's own
`%pip install` cell installs the wheel into it, as it would on Colab."""

import functools
import http.server
import json
import os
import subprocess
import threading

import pytest

from conftest import PYTHON, bare_path

NOTEBOOK = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "colab", "baton.ipynb")

EXECUTE = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=600, kernel_name="python3").execute()
nbformat.write(nb, sys.argv[2])
"""


@pytest.fixture
def data_server(tmp_path):
    served = tmp_path / "bucket"
    served.mkdir()
    (served / "eye.npz").write_bytes(os.urandom(200_000))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/eye.npz"
    server.shutdown()
    server.server_close()


def outputs(notebook_path):
    with open(notebook_path, encoding="utf-8") as f:
        notebook = json.load(f)
    texts = []
    for cell in notebook["cells"]:
        text = ""
        for output in cell.get("outputs", []):
            if "text" in output:
                text += "".join(output["text"]) if isinstance(output["text"], list) else output["text"]
            assert output.get("output_type") != "error", output
        texts.append(text)
    return texts


def test_the_colab_notebook_runs_twice_and_the_second_session_resumes(wheel, tmp_path, data_server):
    kernel_env = tmp_path / "kernel-env"
    subprocess.run([PYTHON, "-m", "venv", "--system-site-packages", str(kernel_env)], check=True)
    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(kernel_env / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    drive = tmp_path / "drive"

    def session(name, steps):
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("DOTNET", "BATON_"))}
        environment.update({
            "PATH": bare_path(str(tmp_path), str(kernel_env / "bin")),
            "JUPYTER_PATH": str(tmp_path / "jupyter"),
            "BATON_WHEEL": wheel, "BATON_DRIVE": str(drive), "BATON_WORK": str(tmp_path / name),
            "BATON_DATA": data_server, "BATON_STEPS": str(steps), "BATON_DEADLINE": "1h",
            "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        })
        executed = tmp_path / f"{name}.ipynb"
        subprocess.run([str(kernel_env / "bin" / "python"), "-c", EXECUTE, NOTEBOOK, str(executed)],
                       env=environment, check=True, timeout=900)
        with open(tmp_path / name / "logs" / "model.json") as f:
            return outputs(executed), json.load(f)

    first_outputs, first = session("session-1", 50)
    second_outputs, second = session("session-2", 90)

    assert first["step"] == 50 and first["resumed_from"] is None
    assert second["step"] == 90 and second["resumed_from"] == 50
    assert any("resuming from step 50" in text for text in second_outputs)
    assert any("sketch-eye" in text for text in second_outputs[-1:]), second_outputs[-1]
    # A notebook's `!cmd` runs on a pseudo-terminal, which ends lines with "\r\n"; a bare "\r" (a redrawn line) or an
    # escape sequence would garble the cell.
    for text in first_outputs + second_outputs:
        assert "\x1b" not in text and "\r" not in text.replace("\r\n", "\n"), repr(text[:300])
