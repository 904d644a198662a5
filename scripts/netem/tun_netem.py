"""A network emulator in user space, for machines whose kernel has no `netem` qdisc.

Puts a client network namespace behind two TUN devices and forwards every IP packet between them
through this process, which drops a fraction of them and delays the rest (each direction), so TCP
and UDP see the same real packet loss and delay. The host stays in the root namespace.

    root namespace                         namespace NS (the client)
    host on 0.0.0.0  <-  ovtunh 10.77.0.1  <== this process ==>  ovtunc 10.77.1.2  <-  client

Usage (root): python3 tun_netem.py --ns NS [--loss 0.02] [--delay-ms 40] [--seconds N]
Prints "ready <host address> <client address>" once the path works, then runs until killed (or N
seconds) and prints one JSON line of counters at the end. Run the client with
`ip netns exec NS ...` and point it at http://10.77.0.1:<port>.
"""

import argparse
import fcntl
import heapq
import json
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
HOST_ADDR, CLIENT_ADDR = "10.77.0.1", "10.77.1.2"


def sh(*args):
    subprocess.run(args, check=True)


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def setup(ns):
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, check=False)
    sh("ip", "netns", "add", ns)
    host_fd, client_fd = open_tun("ovtunh"), open_tun("ovtunc")
    # The client's device moves into the namespace; this process keeps its file descriptor.
    sh("ip", "link", "set", "ovtunc", "netns", ns)
    sh("ip", "addr", "add", HOST_ADDR + "/32", "dev", "ovtunh")
    sh("ip", "link", "set", "ovtunh", "up")
    sh("ip", "route", "add", CLIENT_ADDR + "/32", "dev", "ovtunh")
    for cmd in (
        ["ip", "link", "set", "lo", "up"],
        ["ip", "addr", "add", CLIENT_ADDR + "/32", "dev", "ovtunc"],
        ["ip", "link", "set", "ovtunc", "up"],
        ["ip", "route", "add", HOST_ADDR + "/32", "dev", "ovtunc"],
    ):
        sh("ip", "netns", "exec", ns, *cmd)
    for conf in ("all", "ovtunh"):
        subprocess.run(["sysctl", "-qw", f"net.ipv4.conf.{conf}.rp_filter=0"], check=False)
    return host_fd, client_fd


def teardown(ns):
    subprocess.run(["ip", "netns", "del", ns], stderr=subprocess.DEVNULL, check=False)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ns", required=True)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=0.0)
    args = parser.parse_args()
    host_fd, client_fd = setup(args.ns)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    print(f"ready {HOST_ADDR} {CLIENT_ADDR}", flush=True)
    counters = {"to_host": 0, "to_client": 0, "dropped_to_host": 0, "dropped_to_client": 0}
    queue = []  # (due, seq, fd, packet)
    seq = 0
    delay = args.delay_ms / 1000.0
    end = time.monotonic() + args.seconds if args.seconds > 0 else None
    try:
        while not stop and (end is None or time.monotonic() < end):
            now = time.monotonic()
            timeout = max(0.0, queue[0][0] - now) if queue else 0.05
            readable, _, _ = select.select([host_fd, client_fd], [], [], min(timeout, 0.05))
            for fd in readable:
                while True:
                    try:
                        packet = os.read(fd, 65535)
                    except BlockingIOError:
                        break
                    to_host = fd == client_fd
                    out = host_fd if to_host else client_fd
                    key = "to_host" if to_host else "to_client"
                    if random.random() < args.loss:
                        counters["dropped_" + key] += 1
                        continue
                    counters[key] += 1
                    seq += 1
                    heapq.heappush(queue, (time.monotonic() + delay, seq, out, packet))
            now = time.monotonic()
            while queue and queue[0][0] <= now:
                _, _, out, packet = heapq.heappop(queue)
                try:
                    os.write(out, packet)
                except OSError:
                    pass
    finally:
        teardown(args.ns)
        print(json.dumps(counters), flush=True)


if __name__ == "__main__":
    sys.exit(main())
