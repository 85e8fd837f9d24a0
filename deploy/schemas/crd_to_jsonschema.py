#!/usr/bin/env python3
"""Turns a CustomResourceDefinition into a strict JSON Schema (draft 07) for one version.

    python3 crd_to_jsonschema.py CRD.yaml VERSION > kind_version.json

What it does to the CRD's openAPIV3Schema (what `kubectl apply` with server-side validation
would enforce, as closely as a static schema can):
- objects with `properties` and no `additionalProperties`/`x-kubernetes-preserve-unknown-fields`
  get `additionalProperties: false` (the API server prunes or rejects unknown fields),
- `nullable: true` becomes a `null` alternative,
- apiVersion and kind are pinned to the CRD's group/version and kind.
Needs PyYAML (in the validation venv).
"""
import json
import sys

import yaml


def strict(node):
    if isinstance(node, list):
        return [strict(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: strict(v) for k, v in node.items()}
    if out.pop("nullable", False) and "type" in out:
        out["type"] = [out["type"], "null"] if isinstance(out["type"], str) else [*out["type"], "null"]
    preserve = out.get("x-kubernetes-preserve-unknown-fields") is True
    if "properties" in out and "additionalProperties" not in out and not preserve:
        out["additionalProperties"] = False
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        crd = yaml.safe_load(f)
    group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
    versions = {v["name"]: v for v in crd["spec"]["versions"]}
    version = versions.get(sys.argv[2])
    if version is None:
        sys.exit(f"{sys.argv[1]}: no version {sys.argv[2]} (has {', '.join(versions)})")
    schema = strict(version["schema"]["openAPIV3Schema"])
    schema.setdefault("properties", {})
    schema["properties"]["apiVersion"] = {"type": "string", "enum": [f"{group}/{sys.argv[2]}"]}
    schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
    schema["properties"]["metadata"] = {"type": "object"}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind", "metadata"})
    schema["additionalProperties"] = False
    doc = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": f"{kind} ({group}/{sys.argv[2]})",
        "description": f"Generated from the CustomResourceDefinition {crd['metadata']['name']} by crd_to_jsonschema.py",
        **schema,
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
