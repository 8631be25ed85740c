"""Load for a memcached server over its text protocol: several client
threads set and get keys for the given number of seconds.

    memcache_load.py PORT SECONDS
"""
import socket
import sys
import threading
import time

port = int(sys.argv[1])
seconds = float(sys.argv[2])


def client(n):
    deadline = time.monotonic() + seconds
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=2)
        f = s.makefile("rb")
        i = 0
        while time.monotonic() < deadline:
            key = b"k%d-%d" % (n, i % 500)
            s.sendall(b"set %s 0 0 5\r\nvalue\r\nget %s\r\n" % (key, key))
            f.readline()           # STORED
            while f.readline() not in (b"END\r\n", b""):
                pass
            i += 1
    except OSError:
        pass  # the server was killed: the test does that on purpose


threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
for t in threads:
    t.start()
for t in threads:
    t.join()
