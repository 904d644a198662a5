//! `deploy/` validates offline: Kubernetes manifests (rendered with kustomize) against the
//! Kubernetes API schemas, Agones and Prometheus Operator resources against their published CRD
//! schemas (vendored in third_party/crds), and the validators refuse broken copies.
//! `scripts/ops/validate_manifests.py` says exactly what is checked.

#![allow(clippy::unwrap_used)] // integration tests: a failed unwrap is a failed test

use std::path::PathBuf;
use std::process::Command;

use ovhost_test_support::workspace_root;

fn ops_python() -> Option<PathBuf> {
    let venv =
        std::env::var_os("OVHOST_OPS_VENV").map(PathBuf::from).unwrap_or_else(|| workspace_root().join(".venv/ops"));
    let python = venv.join("bin/python");
    python.is_file().then_some(python)
}

#[test]
fn deploy_manifests_validate_offline() {
    let Some(python) = ops_python() else {
        ovhost_test_support::skip("no ops venv (run scripts/ops/setup-venv.sh; scripts/test does)");
        return;
    };
    let output = Command::new(python).arg(workspace_root().join("scripts/ops/validate_manifests.py")).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "validation failed:\n{stdout}\n{stderr}");
    // Every kind was looked at, and the self-checks ran.
    for needle in [
        "kubernetes/cpu: Deployment/ovhost (Kubernetes",
        "kubernetes/nvidia: Deployment/ovhost (Kubernetes",
        "kubernetes/cpu: Service/ovhost (Kubernetes",
        "ServiceMonitor selects the Service",
        "agones/fleet.yaml: Fleet pod template (Kubernetes",
        "FleetAutoscaler (published CRD schema, googleforgames/agones v1.56.0, strict)",
        "ServiceMonitor/ovhost (published CRD schema, prometheus-operator/prometheus-operator v0.93.0, strict)",
        "refused as expected: Fleet with an integer GPU quantity (published CRD)",
        "GameServerAllocation (structural schema: not a CRD",
        "refused as expected: Deployment with a misspelt field (strict)",
    ] {
        assert!(stdout.contains(needle), "{needle} not checked:\n{stdout}");
    }
}
