#!/usr/bin/env python3
"""Validates rendered Kubernetes manifests offline.

    validate_manifests.py --k8s-version 1.33.0 --schemas deploy/schemas RENDERED.yaml [...]

1. Schemas: built-in kinds against kubernetes-validate's bundled schemas (strict: unknown fields
   fail); custom resources (ScaledObject, ServiceMonitor, TriggerAuthentication) against the JSON
   Schemas vendored in deploy/schemas/, generated from the upstream CRDs. A kind with neither is
   an error, so a new custom resource cannot slip through unchecked.
2. Cross-references a schema cannot see, per rendered file: selectors match the pod labels,
   ports and ConfigMaps/PVCs/ServiceAccounts referenced exist, the KEDA target exists and its
   maxReplicaCount is at most the input topic's partitions, the grace period exceeds the
   service's SHUTDOWN_GRACE_MS plus its force-exit slack, GPU pods ask for nvidia.com/gpu in limits.
Runs in the validation venv (kubernetes-validate, jsonschema, PyYAML). Exit 1 on any error.
"""
import argparse
import json
import os
import sys

import jsonschema
import kubernetes_validate
import yaml

# The service force-exits SHUTDOWN_GRACE_MS + 10 s after SIGTERM (src/cli/run.ts); the kubelet's
# SIGKILL must come later than that, with a margin for the preStop/unregister path.
FORCE_EXIT_SLACK_S = 10
MARGIN_S = 5
PARTITIONS_ANNOTATION = "news-entity-enricher/input-topic-partitions"


class Report:
    def __init__(self):
        self.errors = 0

    def ok(self, msg):
        print(f"  ok    {msg}")

    def error(self, msg):
        self.errors += 1
        print(f"  ERROR {msg}")


def name_of(doc):
    return f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"


def group_version(api_version):
    group, _, version = api_version.rpartition("/")
    return group, version


def validate_schema(doc, k8s_version, schemas_dir, report):
    try:
        kubernetes_validate.validate(doc, k8s_version, strict=True)
        report.ok(f"{name_of(doc)} ({doc['apiVersion']}): kubernetes {k8s_version} schema, strict")
        return
    except kubernetes_validate.ValidationError as e:
        path = ".".join(str(p) for p in e.path)
        report.error(f"{name_of(doc)}: {path}: {e.message}")
        return
    except kubernetes_validate.SchemaNotFoundError:
        pass  # a custom resource: vendored schema below
    group, version = group_version(doc["apiVersion"])
    schema_file = os.path.join(schemas_dir, f"{doc['kind'].lower()}-{group}-{version}.json")
    if not os.path.exists(schema_file):
        report.error(f"{name_of(doc)} ({doc['apiVersion']}): no schema (vendor one into {schemas_dir}, see its README)")
        return
    with open(schema_file, encoding="utf-8") as f:
        schema = json.load(f)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if errors:
        for e in errors:
            report.error(f"{name_of(doc)}: {'.'.join(str(p) for p in e.path) or '(root)'}: {e.message}")
    else:
        report.ok(f"{name_of(doc)} ({doc['apiVersion']}): {os.path.basename(schema_file)}, strict")


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def check_references(docs, report):
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    deployments = by_kind.get("Deployment", {})
    configmaps = by_kind.get("ConfigMap", {})
    services = by_kind.get("Service", {})
    for dname, dep in deployments.items():
        spec = dep["spec"]
        pod = spec["template"]
        pod_labels = pod["metadata"].get("labels", {})
        pspec = pod["spec"]
        if matches(spec["selector"].get("matchLabels", {}), pod_labels):
            report.ok(f"Deployment/{dname}: selector matches its pod labels")
        else:
            report.error(f"Deployment/{dname}: selector does not match the pod labels")
        sa = pspec.get("serviceAccountName")
        if sa and sa not in by_kind.get("ServiceAccount", {}):
            report.error(f"Deployment/{dname}: ServiceAccount {sa} is not in the render")
        claims = {v["persistentVolumeClaim"]["claimName"] for v in pspec.get("volumes", []) if "persistentVolumeClaim" in v}
        for c in claims:
            if c not in by_kind.get("PersistentVolumeClaim", {}):
                report.error(f"Deployment/{dname}: PVC {c} is not in the render")
        for v in pspec.get("volumes", []):
            cm = v.get("configMap")
            if cm and not cm.get("optional") and cm["name"] not in configmaps:
                report.error(f"Deployment/{dname}: volume ConfigMap {cm['name']} is not in the render (and not optional)")
        env_data = {}
        for c in pspec.get("initContainers", []) + pspec["containers"]:
            for ef in c.get("envFrom", []):
                ref = ef.get("configMapRef")
                if ref:
                    if ref["name"] not in configmaps:
                        report.error(f"Deployment/{dname}: {c['name']} reads ConfigMap {ref['name']}, not in the render")
                    else:
                        env_data.update(configmaps[ref["name"]].get("data", {}))
                sref = ef.get("secretRef")
                if sref and not sref.get("optional"):
                    report.error(f"Deployment/{dname}: {c['name']} requires Secret {sref['name']}; mark it optional or ship it")
            sc = c.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or "ALL" not in sc.get("capabilities", {}).get("drop", []):
                report.error(f"Deployment/{dname}: {c['name']} must drop ALL capabilities and disallow privilege escalation")
        if pspec.get("securityContext", {}).get("runAsNonRoot") is not True:
            report.error(f"Deployment/{dname}: pod must set runAsNonRoot")
        main = pspec["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in main.get("ports", []) if "name" in p}
        http_port = int(env_data.get("HTTP_PORT", "8080"))
        if ports.get("http") != http_port:
            report.error(f"Deployment/{dname}: containerPort 'http' ({ports.get('http')}) differs from HTTP_PORT ({http_port})")
        before = report.errors
        for probe, path in (("startupProbe", "/healthz"), ("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")):
            p = main.get(probe, {}).get("httpGet")
            if not p:
                report.error(f"Deployment/{dname}: no {probe}")
            elif p.get("path") != path or (p.get("port") not in ports and p.get("port") not in ports.values()):
                report.error(f"Deployment/{dname}: {probe} should GET {path} on a declared port (has {p})")
        if report.errors == before:
            report.ok(f"Deployment/{dname}: probes /healthz (startup, liveness) and /readyz (readiness) on port http={http_port}")
        grace_ms = int(env_data.get("SHUTDOWN_GRACE_MS", "30000"))
        tgps = pspec.get("terminationGracePeriodSeconds", 30)
        need = grace_ms / 1000 + FORCE_EXIT_SLACK_S + MARGIN_S
        if tgps < need:
            report.error(f"Deployment/{dname}: terminationGracePeriodSeconds {tgps} < SHUTDOWN_GRACE_MS {grace_ms} ms + {FORCE_EXIT_SLACK_S} s slack + {MARGIN_S} s")
        else:
            report.ok(f"Deployment/{dname}: terminationGracePeriodSeconds {tgps} s ≥ SHUTDOWN_GRACE_MS {grace_ms} ms + {FORCE_EXIT_SLACK_S + MARGIN_S} s")
        if env_data.get("EXECUTION_PROVIDER") == "cuda":
            limits = main.get("resources", {}).get("limits", {})
            if int(limits.get("nvidia.com/gpu", 0)) < 1:
                report.error(f"Deployment/{dname}: EXECUTION_PROVIDER=cuda but no nvidia.com/gpu limit")
            elif not any(t.get("key") == "nvidia.com/gpu" for t in pspec.get("tolerations", [])):
                report.error(f"Deployment/{dname}: GPU pod without a nvidia.com/gpu toleration")
            else:
                report.ok(f"Deployment/{dname}: cuda → nvidia.com/gpu: {limits['nvidia.com/gpu']} in limits, GPU toleration")
        elif any("nvidia.com/gpu" in c.get("resources", {}).get("limits", {}) for c in pspec["containers"]):
            report.error(f"Deployment/{dname}: asks for a GPU but EXECUTION_PROVIDER is not cuda")

        for kind in ("Service", "PodDisruptionBudget"):
            for n, d in by_kind.get(kind, {}).items():
                sel = d["spec"].get("selector", {})
                sel = sel.get("matchLabels", sel) if kind == "PodDisruptionBudget" else sel
                if matches(sel, pod_labels):
                    report.ok(f"{kind}/{n}: selects the pods of Deployment/{dname}")
                else:
                    report.error(f"{kind}/{n}: selector {sel} does not select the pods of Deployment/{dname}")

    for n, sm in by_kind.get("ServiceMonitor", {}).items():
        sel = sm["spec"]["selector"].get("matchLabels", {})
        targets = [s for s in services.values() if matches(sel, s["metadata"].get("labels", {}))]
        port_names = {p.get("name") for s in targets for p in s["spec"]["ports"]}
        if not targets:
            report.error(f"ServiceMonitor/{n}: selector {sel} matches no Service")
        elif any(ep.get("port") not in port_names for ep in sm["spec"]["endpoints"]):
            report.error(f"ServiceMonitor/{n}: endpoint port not among the Service ports {sorted(port_names)}")
        else:
            report.ok(f"ServiceMonitor/{n}: selects Service/{targets[0]['metadata']['name']}, port {sm['spec']['endpoints'][0]['port']}")

    for n, so in by_kind.get("ScaledObject", {}).items():
        ref = so["spec"]["scaleTargetRef"]
        if ref.get("kind", "Deployment") != "Deployment" or ref["name"] not in deployments:
            report.error(f"ScaledObject/{n}: scaleTargetRef {ref} is not a Deployment in the render")
        parts = so["metadata"].get("annotations", {}).get(PARTITIONS_ANNOTATION)
        mx, mn = so["spec"].get("maxReplicaCount", 100), so["spec"].get("minReplicaCount", 0)
        if parts is None:
            report.error(f"ScaledObject/{n}: annotation {PARTITIONS_ANNOTATION} (input topic partitions) missing")
        elif mx > int(parts):
            report.error(f"ScaledObject/{n}: maxReplicaCount {mx} > {parts} input partitions (extra consumers would idle)")
        else:
            report.ok(f"ScaledObject/{n}: replicas {mn}..{mx} ≤ {parts} input partitions")
        cm = next(iter(configmaps.values()), {}).get("data", {})
        for t in so["spec"]["triggers"]:
            if t["type"] != "kafka":
                continue
            md = t["metadata"]
            want = {"bootstrapServers": cm.get("KAFKA_BROKERS"), "consumerGroup": cm.get("KAFKA_GROUP_ID"), "topic": cm.get("KAFKA_INPUT_TOPIC")}
            bad = {k: (md.get(k), v) for k, v in want.items() if md.get(k) != v}
            if bad:
                report.error(f"ScaledObject/{n}: kafka trigger differs from the service's ConfigMap: {bad}")
            else:
                report.ok(f"ScaledObject/{n}: kafka trigger watches group {md['consumerGroup']} on {md['topic']} (same as the ConfigMap)")
            if md.get("allowIdleConsumers") == "true":
                report.error(f"ScaledObject/{n}: allowIdleConsumers=true lets replicas exceed partitions")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k8s-version", default="1.33.0")
    ap.add_argument("--schemas", default="deploy/schemas")
    ap.add_argument("--no-references", action="store_true", help="schemas only (for loose example files)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    report = Report()
    for path in args.files:
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d]
        print(f"{path}: {len(docs)} resources")
        for d in docs:
            validate_schema(d, args.k8s_version, args.schemas, report)
        if not args.no_references:
            check_references(docs, report)
    if report.errors:
        print(f"validate_manifests: {report.errors} error(s)")
        sys.exit(1)


if __name__ == "__main__":
    main()
