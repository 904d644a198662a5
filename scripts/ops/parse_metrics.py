"""Parses a Prometheus text exposition from stdin with prometheus_client's own parser (the one
Prometheus' Python client ships) and prints every sample as JSON: [{name, labels, value}].
Exits non-zero, with the parser's error, when the text does not parse."""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    text = sys.stdin.read()
    samples = []
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                samples.append({"name": s.name, "labels": dict(s.labels), "value": s.value, "type": family.type})
    except Exception as e:  # the parser raises ValueError and friends; report any as a refusal
        print(f"not valid Prometheus text: {e!r}", file=sys.stderr)
        return 1
    if not samples:
        print("no samples in the document", file=sys.stderr)
        return 1
    json.dump(samples, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
