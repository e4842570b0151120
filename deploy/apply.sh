#!/usr/bin/env bash
# Deploy one environment in the only safe order: migrations first, services after.
#
#   deploy/apply.sh <overlay> [<app name>]
#
#   deploy/apply.sh prod                 the whole platform
#   deploy/apply.sh prod risk-service    one service alone (objects labelled
#                                        app.kubernetes.io/name=risk-service)
#
# 1. the previous migration Job is deleted (a Job's pod template cannot change);
# 2. deploy/overlays/<overlay>/migrate is applied and waited for: new pods never start
#    against a schema older than their code;
# 3. the services (all, or one) are applied and their rollouts waited for.
# KUBECTL (default kubectl), NAMESPACE (default trading) and TIMEOUT (default 10m)
# may be set in the environment.
set -euo pipefail

usage() {
    echo "usage: $0 <overlay> [<app name>]   (overlays: $(ls "$(dirname "$0")/overlays" | tr '\n' ' '))" >&2
    exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
overlay_dir="$(cd "$(dirname "$0")" && pwd)/overlays/$1"
app="${2:-}"
[[ -f "$overlay_dir/kustomization.yaml" && -f "$overlay_dir/migrate/kustomization.yaml" ]] || usage

kubectl="${KUBECTL:-kubectl}"
namespace="${NAMESPACE:-trading}"
timeout="${TIMEOUT:-10m}"

echo "==> migrating the database ($1)"
"$kubectl" delete job db-migrate --namespace "$namespace" --ignore-not-found --wait=true
"$kubectl" apply --kustomize "$overlay_dir/migrate"
if ! "$kubectl" wait job/db-migrate --namespace "$namespace" \
        --for=condition=complete --timeout="$timeout"; then
    echo "migration did not complete; nothing else was applied. Its log:" >&2
    "$kubectl" logs job/db-migrate --namespace "$namespace" --all-containers >&2 || true
    exit 1
fi

if [[ -n "$app" ]]; then
    echo "==> applying $app ($1)"
    selector="app.kubernetes.io/name=$app"
else
    echo "==> applying the platform ($1)"
    selector="app.kubernetes.io/part-of=trading-platform"
fi
"$kubectl" apply --kustomize "$overlay_dir" --selector "$selector"

for deployment in $("$kubectl" get deployments --namespace "$namespace" \
        --selector "$selector" --output name); do
    "$kubectl" rollout status "$deployment" --namespace "$namespace" --timeout="$timeout"
done
echo "==> done"
