#!/usr/bin/env bash
# Installs calicotool into the project virtual environment .venv and runs its main jobs on the embedded default:
# no cluster, the local manifest directory ./cluster as the datastore, the sample rule set in policies/ and the
# sample topologies in topologies/. Needs only git and python3 (with venv): no Graphviz, no root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
ensure_venv ""   # no extras: calicotool and its runtime dependencies
export CALICOTOOL_DATASTORE=${CALICOTOOL_DATASTORE:-dir:./cluster}
bold='' plain=''
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\033[1m' plain=$'\033[0m'; fi  # colour only on a terminal
step() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; "$@"; }

echo "calicotool $(calicotool --version | cut -d' ' -f2), datastore: $(calicotool datastore which 2>/dev/null)"

# 1. Firewall rules as Calico policy
step calicotool policy validate --env prod
step calicotool policy lint --env prod
step calicotool policy apply --env prod
step calicotool policy diff --env prod
step calicotool policy explain --src api --dst db --port 5432/TCP --policies policies --env prod
# a denied flow exits 1, like a failed check: show it without stopping the tour
step calicotool policy explain --src frontend --dst db --port 5432/TCP --policies policies --env prod || true
step calicotool get globalnetworkpolicies

# 2. Route reflectors for a sample cluster (the picture needs no Graphviz: without it a built-in layout draws it)
mkdir -p out
step calicotool rr plan --topology topologies/medium-60-3zone-racks.yaml --graph out/rr-plan.svg
# reconcile a model cluster kept in its own directory datastore: seed it, converge, and show a repeat writes nothing
rm -rf out/rr-cluster
step calicotool --datastore dir:out/rr-cluster rr seed --topology topologies/medium-60-3zone-racks.yaml
step calicotool --datastore dir:out/rr-cluster rr reconcile --once --no-wait -o json > out/rr-reconcile.json
step calicotool --datastore dir:out/rr-cluster rr reconcile --once --no-wait

echo
echo "Policy manifests are in ./cluster (kustomization.yaml included); the RR graph is out/rr-plan.svg;"
echo "the reconciled model cluster is out/rr-cluster (first run's report: out/rr-reconcile.json)."
venv_hint
