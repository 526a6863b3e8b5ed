#!/usr/bin/env python3
"""A TLS test server for vs-ingest's downloads: serves DIR over https on
127.0.0.1:PORT with CERT/KEY, and answers /to-http with a redirect to
http://127.0.0.1:HTTP_PORT/lecture.mp4 (a downgrade vs-ingest must refuse).

Usage: https-server.py PORT DIR CERT KEY HTTP_PORT
"""
import http.server
import os
import ssl
import sys

port, root, cert, key, http_port = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


class Handler(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=root, **kw)

    def do_GET(self):
        if self.path == "/to-http":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:%s/lecture.mp4" % http_port)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *a):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
