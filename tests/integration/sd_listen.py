#!/usr/bin/env python3
# sd_listen.py SOCKET LOG - the service manager's side of the notify
# protocol (sd_notify(3)), for tests: bind a Unix datagram socket at
# SOCKET ("@name": abstract) and append each datagram to LOG as one line,
# "<CLOCK_MONOTONIC ms> <sender pid> <KEY=value lines joined by '|'>",
# flushed at once. The sender's pid comes from SO_PASSCRED, as systemd
# gets it (NotifyAccess=main checks it). Runs until killed.
import os
import socket
import struct
import sys
import time

path, log = sys.argv[1], sys.argv[2]
addr = "\0" + path[1:] if path.startswith("@") else path
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(addr)
with open(log, "a", buffering=1) as out:
    out.write("%d 0 LISTENING\n" % int(time.monotonic() * 1000))
    while True:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = 0
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", payload[:12])[0]
        text = data.decode("utf-8", "replace").replace("\n", "|")
        out.write("%d %d %s\n" % (int(time.monotonic() * 1000), pid, text))
