#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: etcd, BIRD 1.6, iperf3, iproute2, graphviz.
# Services are never started by the package: tests start their own processes in throwaway namespaces.
set -euo pipefail
packages=(etcd-server bird iperf3 iproute2 graphviz procps openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-system-deps: need root to apt-get install: ${missing[*]}" >&2
  exit 2
fi
# Keep packaged daemons (etcd, bird) from starting as system services.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
[ "$created_policy" -eq 1 ] && rm -f "$policy"
# A packaged daemon may still have been started by a non-systemd init: stop it, tests run their own.
for svc in etcd bird bird6; do
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
done
exit 0
