"""JupyterLab smoke test: a person opens the notebooks in `jupyter lab` and runs them.

Starts `jupyter lab --no-browser` on 127.0.0.1 (port chosen by the OS, read from the server's
runtime file; token passed through the environment and never printed), then drives it like the
frontend does: the contents API to open a notebook, the sessions API to start a kernel, and the
kernel's websocket channels to execute every cell in order.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket

from selfheal import pipeline

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
TEAM_EXPORT = ROOT / "tests" / "fixtures" / "real_use" / "sentry_errors.json"
TEAM_PLAYWRIGHT = ROOT / "tests" / "fixtures" / "real_use" / "playwright-report.json"


@dataclass
class Server:
    url: str
    token: str
    root: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"token {self.token}"}, timeout=60)


@dataclass
class CellRun:
    status: str
    outputs: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("jupyterlab")
    # Issue 13: a team's project as `jupyter lab` serves it: the notebooks in notebooks/ (where
    # JupyterLab starts their kernels), the team's export in out/ and its Playwright report.
    root = base / "root"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "acme"\nversion = "1.0"\n', encoding="utf-8")
    for name in ("01-pull.ipynb", "02-normalize.ipynb", "03-analyze.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, root / "notebooks" / name)
    (root / "out").mkdir()
    shutil.copy(TEAM_EXPORT, root / "out" / "sentry_errors.json")
    (root / "playwright-report").mkdir()
    shutil.copy(TEAM_PLAYWRIGHT, root / "playwright-report" / "report.json")
    token = secrets.token_hex(24)
    env = {
        **os.environ,
        "JUPYTER_TOKEN": token,
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTER_DATA_DIR": str(base / "data"),
    }
    for name in ("SENTRY_AUTH_TOKEN", "GITHUB_TOKEN", "BUGSINK_TOKEN", "SENTRY_ORG", "SELFHEAL_PROJECT_ROOT"):
        env.pop(name, None)
    jupyter = Path(sys.executable).parent / "jupyter"
    argv = [
        str(jupyter),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        f"--ServerApp.root_dir={root}",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    log = (base / "server.log").open("wb")
    proc = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        info: dict[str, Any] | None = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = sorted((base / "runtime").glob(f"jpserver-{proc.pid}.json"))
            if found:
                info = json.loads(found[0].read_text(encoding="utf-8"))
                break
            time.sleep(0.2)
        if info is None:
            pytest.fail(f"jupyter lab did not start (exit code {proc.poll()})")
        assert info["hostname"] == "127.0.0.1"
        server = Server(url=f"http://127.0.0.1:{info['port']}", token=token, root=root)
        with server.client() as client:
            for _ in range(100):
                if client.get("/api/status").status_code == 200:
                    break
                time.sleep(0.2)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def execute_notebook_like_a_person(server: Server, name: str) -> list[CellRun]:
    """Open ``name``, start its kernel, run every code cell in order, shut the session down."""
    with server.client() as client:
        model = client.get(f"/api/contents/{name}", params={"content": 1})
        assert model.status_code == 200
        cells = [c for c in model.json()["content"]["cells"] if c["cell_type"] == "code"]
        session = client.post(
            "/api/sessions",
            json={"path": name, "name": name, "type": "notebook", "kernel": {"name": "python3"}},
        )
        assert session.status_code == 201
        session_id, kernel_id = session.json()["id"], session.json()["kernel"]["id"]
        ws_url = f"ws://127.0.0.1:{server.url.rsplit(':', 1)[1]}/api/kernels/{kernel_id}/channels"
        ws = websocket.create_connection(
            ws_url, header=[f"Authorization: token {server.token}"], timeout=120, suppress_origin=True
        )
        runs: list[CellRun] = []
        try:
            for cell in cells:
                source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                msg_id = uuid.uuid4().hex
                ws.send(
                    json.dumps(
                        {
                            "header": {
                                "msg_id": msg_id,
                                "msg_type": "execute_request",
                                "username": "smoke",
                                "session": session_id,
                                "version": "5.3",
                                "date": "",
                            },
                            "parent_header": {},
                            "metadata": {},
                            "channel": "shell",
                            "buffers": [],
                            "content": {
                                "code": source,
                                "silent": False,
                                "store_history": True,
                                "user_expressions": {},
                                "allow_stdin": False,
                                "stop_on_error": True,
                            },
                        }
                    )
                )
                run = CellRun(status="")
                idle = False
                while not (run.status and idle):
                    message = json.loads(ws.recv())
                    if message.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind = message["header"]["msg_type"]
                    if kind == "execute_reply":
                        run.status = message["content"]["status"]
                    elif kind in {"stream", "display_data", "execute_result", "error"}:
                        run.outputs.append({"type": kind, **message["content"]})
                    elif kind == "status" and message["content"]["execution_state"] == "idle":
                        idle = True
                runs.append(run)
                if run.status != "ok":
                    break
        finally:
            ws.close()
            client.delete(f"/api/sessions/{session_id}")
        return runs


def describe_errors(runs: list[CellRun]) -> str:
    return "; ".join(
        f"{o.get('ename')}: {o.get('evalue')}" for r in runs for o in r.outputs if o["type"] == "error"
    )


def test_jupyterlab_runs_the_notebooks_cell_by_cell_through_its_apis(
    jupyter_server: Server, tmp_path: Path
) -> None:
    with jupyter_server.client() as client:
        assert client.get("/api/status").status_code == 200
        assert httpx.get(f"{jupyter_server.url}/api/contents", timeout=30).status_code == 403
        listed = {item["name"] for item in client.get("/api/contents/notebooks").json()["content"]}
    assert {"01-pull.ipynb", "02-normalize.ipynb", "03-analyze.ipynb"} <= listed

    export_before = (jupyter_server.root / "out" / "sentry_errors.json").read_bytes()
    for name in ("01-pull.ipynb", "02-normalize.ipynb"):
        runs = execute_notebook_like_a_person(jupyter_server, f"notebooks/{name}")
        assert all(r.status == "ok" for r in runs), describe_errors(runs)
    # Issue 13: the kernel runs in notebooks/, yet reads and writes the project's out/ (the
    # team's export, reused, not replaced by the sample) and writes nothing under notebooks/.
    assert (jupyter_server.root / "out" / "sentry_errors.json").read_bytes() == export_before
    assert sorted(p.name for p in (jupyter_server.root / "notebooks").iterdir()) == [
        "01-pull.ipynb",
        "02-normalize.ipynb",
        "03-analyze.ipynb",
    ]
    in_lab = json.loads((jupyter_server.root / "out" / "patchtasks.json").read_text(encoding="utf-8"))
    # Same results as the package called directly on the same inputs (what the CLI does).
    direct = tmp_path / "direct"
    pipeline.normalize(
        direct,
        sentry=TEAM_EXPORT,
        playwright=TEAM_PLAYWRIGHT,
        config_root=jupyter_server.root,
    )
    assert in_lab == json.loads((direct / "patchtasks.json").read_text(encoding="utf-8"))

    runs = execute_notebook_like_a_person(jupyter_server, "notebooks/03-analyze.ipynb")
    assert all(r.status == "ok" for r in runs), describe_errors(runs)
    charts = [o for r in runs for o in r.outputs if "image/svg+xml" in o.get("data", {})]
    assert len(charts) == 8
    # An untrusted notebook in JupyterLab shows neither SVG nor an unknown Vega-Lite version;
    # every chart also carries a PNG, which it shows without `jupyter trust`.
    assert all(o["data"].get("image/png") for o in charts)
    printed = "".join(o.get("text", "") for r in runs for o in r.outputs if o["type"] == "stream")
    assert "Data: sentry: file (out/sentry_errors.json" in printed
    tables = [
        o for r in runs for o in r.outputs if "selfheal-table" in o.get("data", {}).get("text/html", "")
    ]
    assert tables
    every_output = json.dumps([r.outputs for r in runs])
    assert jupyter_server.token not in every_output
