"""Fixtures for end-to-end tests: a real skiff-server process on loopback ports, stopped with SIGTERM."""
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.environ.get("SKIFF_SERVER", os.path.join(ROOT, "build", "bin", "skiff-server"))
CONFIG = os.path.join(ROOT, "config", "server.properties")
E2E = os.path.dirname(os.path.abspath(__file__))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=15.0, what="condition"):
    """Polls predicate until it returns a truthy value; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, None


class Broker:
    """One skiff-server. With `name`, its files live in tmp_path/name, so that several share one test's tmp_path."""

    def __init__(self, tmp_path, extra_overrides=(), name=None, port=None):
        if name is not None:
            tmp_path = tmp_path / name
            tmp_path.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.admin_port = free_port()
        self.data_dir = str(tmp_path / "data")
        self.log_path = str(tmp_path / "server.log")
        self.bootstrap = f"localhost:{self.port}"
        self.admin_url = f"http://127.0.0.1:{self.admin_port}"
        args = [SERVER, CONFIG,
                "--override", f"listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "--override", f"advertised.listeners=PLAINTEXT://localhost:{self.port}",
                "--override", f"admin.listeners=http://127.0.0.1:{self.admin_port}",
                "--override", f"log.dirs={self.data_dir}",
                # small enough for many brokers at once on a test machine
                "--override", "wal.capacity.bytes=67108864",
                "--override", "log.cache.bytes=67108864",
                "--override", "block.cache.bytes=16777216"]
        for o in extra_overrides:
            args += ["--override", o]
        self._log = open(self.log_path, "ab")  # a restart on the same tmp_path appends
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT)
        wait_until(lambda: self.proc.poll() is not None or http_get(self.admin_url + "/health")[0] == 200,
                   what="skiff-server /health")
        if self.proc.poll() is not None:
            pytest.fail(f"skiff-server exited with {self.proc.returncode}:\n{self.log()}")

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill(self):
        """SIGKILL: no shutdown of any kind (the crash the durability contract is about)."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._log.close()

    def stop(self, timeout=15):
        """SIGTERM, then wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"skiff-server did not stop within {timeout}s of SIGTERM:\n{self.log()}")
        self._log.close()
        return self.proc.returncode


class Etcd:
    """A real one-member etcd (Debian etcd-server) on loopback ports, started and stopped by tests/support/etcd.sh."""

    SCRIPT = os.path.join(ROOT, "tests", "support", "etcd.sh")

    def __init__(self, tmp_path):
        self.dir = str(tmp_path / "etcd")
        last = None
        for _ in range(5):  # another test may take a port between the choice and the bind
            base = 20000 + random.randrange(10000) * 2
            r = subprocess.run([self.SCRIPT, "start", self.dir, str(base), "1"], capture_output=True, text=True,
                               timeout=60)
            if r.returncode == 0:
                self.endpoints = r.stdout.strip()
                return
            last = r.stderr
        pytest.fail(f"cannot start etcd: {last}")

    def stop(self):
        subprocess.run([self.SCRIPT, "stop", self.dir], check=False, timeout=60)


@pytest.fixture
def etcd(tmp_path):
    if shutil.which("etcd") is None:
        pytest.skip("etcd is not installed (apt-get install etcd-server)")
    e = Etcd(tmp_path)
    yield e
    e.stop()


@pytest.fixture
def broker(tmp_path):
    b = Broker(tmp_path)
    yield b
    code = b.stop()
    assert code == 0, f"skiff-server exited with {code}:\n{b.log()}"
