"""A real, pinned Bugsink on 127.0.0.1: installed into its own venv, SQLite, phone-home off.

Bugsink installs generic top-level packages (``api``, ``events``, ``issues``, ``sentry`` ...),
so it never goes into the project's environment: it lives in ``.cache/bugsink-venv``
(reused between local runs; CI starts clean).

Bugsink 2.6.2 pins ``certifi>=2026.10.19``, newer than some package mirrors carry; so its
other requirements are installed first, then ``bugsink`` with ``--no-deps``.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

BUGSINK_VERSION = "2.6.2"
#: Requires-Dist of bugsink-2.6.2 (wheel METADATA) without its certifi pin.
BUGSINK_REQUIREMENTS = (
    "gunicorn==26.2.*",
    "Django==5.2.*",
    "verbose_csrf_middleware==5.2.*",
    "sentry-sdk==2.*",
    "django-tailwind==4.2.*",
    "jsonschema==4.26.*",
    "semver==3.1.*",
    "django-admin-autocomplete-filter==0.7.*",
    "pygments==2.21.*",
    "inotify_simple==2.0.*",
    "Brotli==1.2.*",
    "python-dateutil==2.9.*",
    "whitenoise==6.12.*",
    "requests==2.34.*",
    "certifi",
    "monofy==1.2.*",
    "user-agents==2.2.*",
    "fastjsonschema==2.22.*",
    "ecma426>=0.2.0",
    "djangorestframework==3.18.*",
    "drf-spectacular[sidecar]",
    "symbolic==8.7.2",
)
REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_VENV = REPO_ROOT / ".cache" / "bugsink-venv"


def _run(
    argv: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 600
) -> str:
    result = subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def ensure_bugsink_venv(venv: Path = DEFAULT_VENV) -> Path:
    """Create (once) a venv with the pinned Bugsink; return its bin folder."""
    stamp = venv / f".bugsink-{BUGSINK_VERSION}-installed"
    bin_dir = venv / "bin"
    if stamp.exists():
        return bin_dir
    _run([sys.executable, "-m", "venv", "--clear", str(venv)])
    pip = [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, *BUGSINK_REQUIREMENTS])
    _run([*pip, "--no-deps", f"bugsink=={BUGSINK_VERSION}"])
    stamp.write_text("ok\n", encoding="utf-8")
    return bin_dir


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class BugsinkServer:
    """A running Bugsink: its URL, API token, venv and gunicorn master PID."""

    base_url: str
    token: str
    bin_dir: Path
    pid: int
    process: subprocess.Popen[bytes]

    def api(self) -> httpx.Client:
        return httpx.Client(
            base_url=f"{self.base_url}/api/canonical/0/",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30,
        )

    def create_project(self, name: str) -> tuple[str, str]:
        """Create a team and a project through the API; return (project id, DSN)."""
        with self.api() as client:
            team = client.post("teams/", json={"name": f"{name}-team"})
            team.raise_for_status()
            project = client.post("projects/", json={"name": name, "team": team.json()["id"]})
            project.raise_for_status()
            project_id = str(project.json()["id"])
            detail = client.get(f"projects/{project_id}/")
            detail.raise_for_status()
            return project_id, str(detail.json()["dsn"])

    def stop(self) -> None:
        """Stop gunicorn by its PID (graceful TERM, then KILL)."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=5)


def start_bugsink(workdir: Path, bin_dir: Path) -> BugsinkServer:
    """Configure (SQLite in ``workdir``, phone-home off), migrate, mint a token, start gunicorn."""
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(workdir), "DJANGO_SETTINGS_MODULE": "bugsink_conf"}
    env.pop("VIRTUAL_ENV", None)
    _run(
        [str(bin_dir / "bugsink-create-conf"), "--template=local", "--host=127.0.0.1", f"--port={port}"],
        cwd=workdir,
    )
    with (workdir / "bugsink_conf.py").open("a", encoding="utf-8") as conf:
        conf.write('\nBUGSINK["PHONEHOME"] = False\n')
    _run([str(bin_dir / "bugsink-manage"), "migrate", "-v0"], cwd=workdir, env=env)
    _run([str(bin_dir / "bugsink-manage"), "migrate", "--database=snappea", "-v0"], cwd=workdir, env=env)
    token = (
        _run([str(bin_dir / "bugsink-manage"), "create_auth_token"], cwd=workdir, env=env).strip().split()[-1]
    )
    log = (workdir / "gunicorn.log").open("wb")
    process = subprocess.Popen(
        [
            str(bin_dir / "gunicorn"),
            f"--bind=127.0.0.1:{port}",
            "--workers=2",
            "--no-control-socket",
            "bugsink.wsgi",
        ],
        cwd=workdir,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    base_url = f"http://127.0.0.1:{port}"
    server = BugsinkServer(base_url=base_url, token=token, bin_dir=bin_dir, pid=process.pid, process=process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"gunicorn exited with {process.returncode}:\n{(workdir / 'gunicorn.log').read_text()}"
            )
        try:
            if httpx.get(f"{base_url}/health/ready", timeout=1).text.strip() == "OK":
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"Bugsink did not become ready:\n{(workdir / 'gunicorn.log').read_text()}")
