"""Extracts the openAPIV3Schema of CustomResourceDefinitions into third_party/crds/ (descriptions
removed: they are documentation, not constraints), for offline validation of deploy/.

Usage: python vendor_crds.py SOURCE.yaml CRD_NAME [CRD_NAME ...] --source "project tag path"

SOURCE.yaml is a published CRD bundle (Agones' install/yaml/install.yaml of a release tag, the
Prometheus Operator's example/prometheus-operator-crd/*.yaml of a release tag). Each CRD is written
as third_party/crds/<crd name>.json: {"source": ..., "crd": name, "group", "kind", "versions":
{version: schema}}. Run it again with a newer release to update; the validator reads only these
files and never the network.
"""

import argparse
import json
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parents[2] / "third_party" / "crds"


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k != "description"}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bundle")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--source", required=True)
    args = parser.parse_args()
    wanted = set(args.names)
    with open(args.bundle, encoding="utf-8") as f:
        for doc in yaml.safe_load_all(f):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            name = doc["metadata"]["name"]
            if name not in wanted:
                continue
            spec = doc["spec"]
            out = {
                "source": args.source,
                "crd": name,
                "group": spec["group"],
                "kind": spec["names"]["kind"],
                "versions": {v["name"]: strip(v["schema"]["openAPIV3Schema"]) for v in spec["versions"]},
            }
            OUT.mkdir(parents=True, exist_ok=True)
            (OUT / f"{name}.json").write_text(json.dumps(out, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
            print(f"wrote third_party/crds/{name}.json ({spec['names']['kind']})")
            wanted.discard(name)
    if wanted:
        raise SystemExit(f"not found in {args.bundle}: {', '.join(sorted(wanted))}")


if __name__ == "__main__":
    main()
