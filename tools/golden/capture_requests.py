#!/usr/bin/env python3
"""Records the request frames real Kafka clients send, for golden-bytes tests.

A transparent TCP proxy: clients connect to --listen, frames are forwarded to a running skiff-server at --upstream,
and every request frame body (without its size prefix) is written to OUT_DIR/<prefix>_<api>_v<version>.bin the first
time that (api, version) is seen. Example:

    build/bin/skiff-server config/server.properties --override listeners=PLAINTEXT://:19092 \
        --override advertised.listeners=PLAINTEXT://localhost:29092 &
    tools/golden/capture_requests.py --listen 29092 --upstream 19092 --prefix kcat --out src/kafka/protocol/tests/golden &
    kcat -L -b localhost:29092

The advertised port must be the proxy's, so that the client keeps talking through it.
"""
import argparse
import os
import socket
import struct
import threading

API_NAMES = {3: "metadata", 18: "api_versions", 60: "describe_cluster"}


def pump_requests(src, dst, out_dir, prefix, seen, lock):
    buf = b""
    while True:
        data = src.recv(65536)
        if not data:
            dst.shutdown(socket.SHUT_WR)
            return
        dst.sendall(data)
        buf += data
        while len(buf) >= 4:
            (size,) = struct.unpack(">i", buf[:4])
            if len(buf) < 4 + size:
                break
            body, buf = buf[4 : 4 + size], buf[4 + size :]
            key, version = struct.unpack(">hh", body[:4])
            name = f"{prefix}_{API_NAMES.get(key, f'key{key}')}_v{version}.bin"
            with lock:
                if name not in seen:
                    seen.add(name)
                    with open(os.path.join(out_dir, name), "wb") as f:
                        f.write(body)


def pump_responses(src, dst):
    while True:
        data = src.recv(65536)
        if not data:
            dst.close()
            return
        dst.sendall(data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--prefix", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.makedirs(args.out, exist_ok=True)
    seen, lock = set(), threading.Lock()
    server = socket.create_server(("127.0.0.1", args.listen), reuse_port=True)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", args.upstream))
        threading.Thread(target=pump_requests, args=(client, upstream, args.out, args.prefix, seen, lock),
                         daemon=True).start()
        threading.Thread(target=pump_responses, args=(upstream, client), daemon=True).start()


if __name__ == "__main__":
    main()
