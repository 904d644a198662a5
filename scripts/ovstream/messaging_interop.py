"""Drives the wheel's own ovstream_utils.messaging (pure-Python file, loaded without importing
the package, so no native library is touched) for ovhost's interop test.

    python messaging_interop.py encode < {"cases":[{"event_type","id","payload_json","part_size"}]}
        -> [[message, ...], ...]            (AppMessenger.send with the id pinned)
    python messaging_interop.py decode < {"messages":[text, ...]}
        -> [{"event_type", "payload_json"}]  (AppMessenger's receive path, in order)
"""
import importlib.util
import json
import pathlib
import sys
import uuid

ROOT = pathlib.Path(__file__).resolve().parents[2]
PATH = ROOT / "third_party/ovstream/ovstream_utils/messaging.py"


def load():
    spec = importlib.util.spec_from_file_location("ovstream_messaging", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeServer:
    """Stands in for ovstream.Server: records what AppMessenger sends."""

    def __init__(self):
        self.on_app_message = None
        self.sent = []

    def send_app_message(self, text):
        self.sent.append(text)


def encode(m, request):
    out = []
    for case in request["cases"]:
        server = FakeServer()
        messenger = m.AppMessenger(server, part_size=case["part_size"])
        m.uuid.uuid4 = lambda case=case: uuid.UUID(case["id"])
        messenger.send(case["event_type"], json.loads(case["payload_json"]))
        out.append(server.sent)
    return out


def decode(m, request):
    received = []
    server = FakeServer()
    m.AppMessenger(server, on_unhandled=lambda et, p: received.append({"event_type": et, "payload_json": m._dumps(p)}))
    for text in request["messages"]:
        server.on_app_message(text)
    return received


def main():
    m = load()
    request = json.load(sys.stdin)
    result = {"encode": encode, "decode": decode}[sys.argv[1]](m, request)
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
