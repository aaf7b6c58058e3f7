#!/usr/bin/env python3
"""Loopback HTTP server for the fetch tests: serves one directory on 127.0.0.1 only, with misbehaving
modes chosen by the first path component. Python standard library only.

  /files/NAME     the file, with Range support (206 / 416)
  /missing/NAME   404
  /redirect/NAME  302 to /files/NAME (and /redirect2/NAME: two hops)
  /stall/NAME     headers and the first half of the body, then silence (until the client gives up)
  /cut/NAME       first request: Content-Length of the whole file, half of it, then the connection
                  closes; later requests for NAME are served like /files/ (so a resume completes)
  /norange/NAME   the whole file with 200, ignoring Range
  /flaky/NAME     503 on the first request for NAME, then like /files/
  /slow/NAME      the file in small pieces with pauses (for the progress display)

Every request is appended to the log file as "METHOD PATH RANGE" (RANGE is '-' when absent), and
LOG.peak holds the largest number of requests that were in progress at the same time.
The chosen port is written to PORTFILE once listening. The server stops by itself after --lifetime
seconds so that no test can leave it running.
"""
import argparse
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

STALL_SECONDS = 60  # far longer than any client timeout the tests use; bounded by --lifetime anyway
SLOW_CHUNK = 4096
SLOW_PAUSE = 0.05
TRICKLE_PAUSE = 0.2  # 5 bytes a second: far under lbvm fetch's minimum rate


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lbvm-test-httpd"

    def log_message(self, fmt, *args):  # quiet: the request log below is what tests read
        pass

    def record(self):
        with self.server.lock:
            with open(self.server.log_path, "a") as log:
                log.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Range", "-")))

    def first_time(self, key):
        with self.server.lock:
            seen = key in self.server.seen
            self.server.seen.add(key)
            return not seen

    def send_plain(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def load(self, name):
        path = os.path.join(self.server.root, name)
        if "/" in name or name.startswith(".") or not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            return f.read()

    def serve(self, data, honour_range=True, pace=False):
        rng = self.headers.get("Range")
        start = 0
        if honour_range and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % len(data))
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not pace:
            self.wfile.write(body)
            return
        for i in range(0, len(body), SLOW_CHUNK):
            self.wfile.write(body[i:i + SLOW_CHUNK])
            self.wfile.flush()
            time.sleep(SLOW_PAUSE)

    def do_GET(self):
        self.record()
        with self.server.lock:
            self.server.active += 1
            if self.server.active > self.server.peak:
                self.server.peak = self.server.active
                with open(self.server.log_path + ".peak", "w") as f:
                    f.write("%d\n" % self.server.peak)
        try:
            self.answer()
        finally:
            with self.server.lock:
                self.server.active -= 1

    def answer(self):
        parts = self.path.split("?", 1)[0].split("/")
        if len(parts) != 3 or parts[0] != "":
            self.send_plain(404, "not found\n")
            return
        mode, name = parts[1], parts[2]
        data = self.load(name)
        if mode == "missing" or data is None:
            self.send_plain(404, "not found\n")
        elif mode == "files":
            self.serve(data)
        elif mode == "redirect":
            self.send_response(302)
            self.send_header("Location", "/files/" + name)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "redirect2":
            self.send_response(301)
            self.send_header("Location", "http://127.0.0.1:%d/redirect/%s" % (self.server.server_port, name))
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif mode == "stall":
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            time.sleep(STALL_SECONDS)
            self.close_connection = True
        elif mode == "trickle":
            # Never silent, never useful: one byte every TRICKLE_PAUSE seconds.
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            deadline = time.monotonic() + STALL_SECONDS
            for i in range(len(data)):
                if time.monotonic() > deadline:
                    break
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
                time.sleep(TRICKLE_PAUSE)
            self.close_connection = True
        elif mode == "cut":
            if self.first_time(("cut", name)):
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
            else:
                self.serve(data)
        elif mode == "norange":
            self.serve(data, honour_range=False)
        elif mode == "flaky":
            if self.first_time(("flaky", name)):
                self.send_plain(503, "try again\n")
            else:
                self.serve(data)
        elif mode == "slow":
            self.serve(data, pace=True)
        else:
            self.send_plain(404, "unknown mode\n")


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # Clients that hang up mid-transfer (timeouts, aborted downloads) are what the tests provoke.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=300)
    args = ap.parse_args()
    server = Server(("127.0.0.1", 0), Handler)
    server.root = args.root
    server.log_path = args.log
    server.lock = threading.Lock()
    server.seen = set()
    server.active = server.peak = 0
    tmp = args.portfile + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_port)
    os.rename(tmp, args.portfile)
    threading.Timer(args.lifetime, server.shutdown).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
