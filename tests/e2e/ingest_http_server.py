#!/usr/bin/env python3
"""Tiny HTTP server for the ingest end-to-end test (not a test by itself).

Serves files from a directory on 127.0.0.1 with byte-range support. The first
full GET of a file whose name contains "drop" sends the headers and only half
of the body, then closes the connection, so the client must resume with a
Range request; for names containing "norange" it ignores Range headers (the
client must start again and drop what it already has). /redirect-ftp answers with a redirect to ftp://, /missing with
404. It writes its port to the file named by --port-file and exits after
--lifetime seconds or when the parent test dies, whichever comes first.
"""
import argparse
import http.server
import os
import socketserver
import sys
import threading

dropped = set()
log_lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # no stderr noise
        pass

    def note(self):  # one line per request, for the test to inspect
        with log_lock:
            with open(self.server.log_path, "a") as f:
                f.write("%s %s range=%s\n" % (self.command, self.path, self.headers.get("Range", "-")))

    def do_GET(self):
        self.note()
        if self.path == "/redirect-ftp":
            self.send_response(302)
            self.send_header("Location", "ftp://127.0.0.1/x.warc.gz")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = os.path.basename(self.path.split("?")[0])
        path = os.path.join(self.server.root, name)
        if not name or not os.path.isfile(path):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = open(path, "rb").read()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and "norange" not in name:
            start = int(rng[6:].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, len(data) - 1, len(data)))
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if "drop" in name and start == 0 and name not in dropped:
            dropped.add(name)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        self.wfile.write(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # clients hang up on purpose here
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--lifetime", type=float, default=120)
    a = ap.parse_args()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.root = a.root
    srv.log_path = a.log
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, a.port_file)
    parent = os.getppid()

    def watchdog():
        import time
        t0 = time.time()
        while time.time() - t0 < a.lifetime:
            if os.getppid() != parent:
                break
            time.sleep(0.5)
        srv.shutdown()

    threading.Thread(target=watchdog, daemon=True).start()
    srv.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
