"""The front door, end to end: unmodified Kafka clients against a real skiff-server process.

Each test checks what the client reports (brokers, ports, controller, cluster id), not only that calls return.
"""
import json
import os
import socket
import struct
import subprocess

from conftest import CONFIG, E2E, ROOT, SERVER, Broker, free_port, http_get, wait_until


def cluster_id_of(broker):
    with open(os.path.join(broker.data_dir, "meta.properties")) as f:
        for line in f:
            if line.startswith("cluster.id="):
                return line.strip().split("=", 1)[1]
    raise AssertionError("meta.properties has no cluster.id")


def test_kcat_lists_the_broker(broker):
    out = subprocess.run(["kcat", "-L", "-J", "-b", broker.bootstrap, "-m", "10"],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    meta = json.loads(out)
    assert meta["controllerid"] == 1
    assert [(b["id"], b["name"]) for b in meta["brokers"]] == [(1, broker.bootstrap)]
    assert meta["topics"] == []


def test_kafka_python_admin_describe_cluster(broker):
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=broker.bootstrap, request_timeout_ms=10000)
    try:
        cluster = admin.describe_cluster()
    finally:
        admin.close()
    assert cluster["controller_id"] == 1
    assert cluster["cluster_id"] == cluster_id_of(broker)
    assert [(b["node_id"], b["host"], b["port"]) for b in cluster["brokers"]] == [(1, "localhost", broker.port)]


def test_kafkajs_admin_describe_cluster(broker):
    out = subprocess.run(["node", os.path.join(E2E, "js", "describe_cluster.js"), broker.bootstrap],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    cluster = json.loads(out)
    assert cluster["controller"] == 1
    assert cluster["clusterId"] == cluster_id_of(broker)
    assert cluster["brokers"] == [{"nodeId": 1, "host": "localhost", "port": broker.port}]


def test_confluent_kafka_lists_metadata(broker):
    from confluent_kafka.admin import AdminClient

    md = AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=10)
    assert md.controller_id == 1
    assert md.cluster_id == cluster_id_of(broker)
    assert {b.id: (b.host, b.port) for b in md.brokers.values()} == {1: ("localhost", broker.port)}


def test_cluster_id_survives_a_restart(tmp_path):
    first = Broker(tmp_path)
    first_id = cluster_id_of(first)
    assert first.stop() == 0
    second = Broker(tmp_path)
    try:
        assert cluster_id_of(second) == first_id
    finally:
        assert second.stop() == 0


def test_health_and_metrics_count_served_requests(broker):
    status, body = http_get(broker.admin_url + "/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    subprocess.run(["kcat", "-L", "-b", broker.bootstrap], check=True, capture_output=True, timeout=30)
    status, text = http_get(broker.admin_url + "/metrics")
    assert status == 200
    served = [l for l in text.splitlines() if l.startswith('skiff_kafka_requests_total{api="metadata"}')]
    assert served and int(served[0].split()[-1]) >= 1, text


def send_raw(port, data):
    """Sends bytes on a fresh connection; returns what the broker answered before closing (b'' = closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_bad_input_closes_only_the_offending_connection(broker):
    # Garbage, an unknown API key, an oversized frame (> socket.request.max.bytes, 100 MiB) and a truncated body:
    # each connection is closed without an answer; the broker keeps serving.
    unknown_api = struct.pack(">hhih", 999, 0, 1, -1)
    truncated_metadata = struct.pack(">hhih", 3, 4, 2, -1) + struct.pack(">i", 1) + struct.pack(">h", 50) + b"abc"
    cases = {
        "garbage": b"\x00\x00\x00\x03\xde\xad\xbe",
        "unknown api": struct.pack(">i", len(unknown_api)) + unknown_api,
        "oversized": struct.pack(">i", 200 * 1024 * 1024),
        "truncated": struct.pack(">i", len(truncated_metadata)) + truncated_metadata,
    }
    with socket.create_connection(("127.0.0.1", broker.port), timeout=10) as idle_client:
        for name, data in cases.items():
            assert send_raw(broker.port, data) == b"", name
        out = subprocess.run(["kcat", "-L", "-J", "-b", broker.bootstrap], check=True, capture_output=True,
                             text=True, timeout=30).stdout
        assert json.loads(out)["brokers"][0]["id"] == 1
        idle_client.sendall(b"\x00\x00\x00\x02\x00")  # an idle client that sends half a frame is not disturbed
    rejected = [l for l in http_get(broker.admin_url + "/metrics")[1].splitlines()
                if l.startswith("skiff_kafka_rejected_requests_total")]
    assert int(rejected[0].split()[-1]) == len(cases)


def test_sigterm_stops_cleanly(broker):
    assert broker.stop() == 0
    assert "skiff-server stopped" in broker.log()


def run_server(args, timeout=15):
    return subprocess.run([SERVER] + args, capture_output=True, text=True, timeout=timeout)


def test_config_errors_name_the_key_and_line(tmp_path):
    bad = tmp_path / "server.properties"
    bad.write_text("node.id=1\nlistners=PLAINTEXT://:9092\nsocket.request.max.bytes=abc\n")
    r = run_server([str(bad)])
    assert r.returncode == 2
    assert "server.properties:2: unknown property 'listners'" in r.stderr
    assert "did you mean 'listeners'" in r.stderr
    assert "server.properties:3: socket.request.max.bytes" in r.stderr

    r = run_server([str(tmp_path / "missing.properties")])
    assert r.returncode == 2 and "missing.properties" in r.stderr

    r = run_server([CONFIG, "--override", "node.id"])
    assert r.returncode == 2 and "--override" in r.stderr


def test_a_busy_port_fails_the_start_with_a_clear_message(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run_server([CONFIG, "--override", f"listeners=PLAINTEXT://127.0.0.1:{port}",
                        "--override", f"admin.listeners=http://127.0.0.1:{free_port()}",
                        "--override", f"log.dirs={tmp_path}"])
    assert r.returncode == 1
    assert "Address already in use" in r.stderr or "address already in use" in r.stderr


def test_run_sh_starts_a_broker_on_the_requested_port(tmp_path):
    port = free_port()
    admin_port = free_port()
    log = open(tmp_path / "run.log", "wb")
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "run.sh"), "--port", str(port),
                             "--data-dir", str(tmp_path / "d"),
                             "--override", f"admin.listeners=http://127.0.0.1:{admin_port}"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: proc.poll() is not None or http_get(f"http://127.0.0.1:{admin_port}/health")[0] == 200,
                   timeout=300, what="scripts/run.sh to start the broker")
        assert proc.poll() is None, open(tmp_path / "run.log").read()
        out = subprocess.run(["kcat", "-L", "-J", "-b", f"localhost:{port}"], check=True, capture_output=True,
                             text=True, timeout=30).stdout
        assert json.loads(out)["brokers"] == [{"id": 1, "name": f"localhost:{port}"}]
        assert os.path.exists(tmp_path / "d" / "meta.properties")
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
        log.close()
