#!/usr/bin/env python3
"""sse.py - part of `make bench`: N clients of gatewayd's event stream (GET /v1/events),
held open and read until SIGTERM. Prints "connected N" once every client has its 200
and headers, then at the end "events E, bytes B". Usage: sse.py PORT KEY N"""
import selectors
import signal
import socket
import sys
import time


def main():
    port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    request = (f"GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
               f"Authorization: Bearer {key}\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    heads = {}
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        heads[s] = b""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    ok, events, nbytes, deadline = 0, 0, 0, time.monotonic() + 60
    while not stop:
        for k, _ in sel.select(0.5):
            data = k.fileobj.recv(65536)
            if not data:
                sys.exit(f"sse.py: gatewayd closed a stream ({ok} of {n} had connected)")
            nbytes += len(data)
            events += data.count(b"\ndata:") + data.startswith(b"data:")
            if k.fileobj in heads:
                heads[k.fileobj] += data
                if b"\r\n\r\n" in heads[k.fileobj]:
                    if not heads[k.fileobj].startswith(b"HTTP/1.1 200"):
                        sys.exit("sse.py: " + heads[k.fileobj].split(b"\r\n")[0].decode())
                    del heads[k.fileobj]
                    ok += 1
                    if ok == n:
                        print(f"connected {n}", flush=True)
        if heads and time.monotonic() > deadline:
            sys.exit(f"sse.py: only {ok} of {n} streams opened in 60 s")
    print(f"events {events}, bytes {nbytes}", flush=True)


main()
