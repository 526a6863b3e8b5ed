#!/usr/bin/env python3
"""A plain HTTP test server for vs-ingest's downloads when they fail:
/status/NNN answers status NNN (with Retry-After: 1 for 429 and 503),
/slow sends the headers of 100,000 bytes, then 20 bytes a second;
/hang accepts the request and never answers. Anything else is 404.

Usage: http-status-server.py PORT
"""
import http.server
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path.startswith("/status/") and self.path[8:].isdigit():
            code = int(self.path[8:])
            body = b"no\n"
            self.send_response(code)
            if code in (429, 503):
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            for _ in range(5000):
                self.wfile.write(b"\0" * 20)
                self.wfile.flush()
                time.sleep(1)
        elif self.path == "/hang":
            time.sleep(3600)
        else:
            self.send_error(404)

    def log_message(self, *a):
        pass


http.server.ThreadingHTTPServer.daemon_threads = True
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
