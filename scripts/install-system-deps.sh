#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: etcd, BIRD 1.6, iperf3, iproute2, graphviz, openssl
# and xz-utils (kube-apiserver harness), shellcheck and vagrant (checks of vagrant/), python3-venv (.venv).
# Leaves the machine's services as it found them: packaged daemons are neither started (policy-rc.d) nor left
# enabled at boot when they were not enabled before; tests start their own processes in throwaway namespaces.
set -euo pipefail
packages=(etcd-server bird iperf3 iproute2 graphviz procps openssl xz-utils shellcheck vagrant python3-venv)
services=(etcd bird bird6)
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

systemd_running() { [ -d /run/systemd/system ]; }
# Enabled at boot? systemd's view when it runs; otherwise the links systemd and sysvinit would follow.
service_enabled() {
  local svc=$1
  if systemd_running; then
    systemctl is-enabled --quiet "$svc.service" 2>/dev/null
    return
  fi
  compgen -G "/etc/systemd/system/*.wants/$svc.service" >/dev/null || compgen -G "/etc/rc[2-5].d/S[0-9][0-9]$svc" >/dev/null
}
disable_service() {
  local svc=$1
  if systemd_running; then
    systemctl disable --quiet "$svc.service" 2>/dev/null || true
    systemctl stop "$svc.service" 2>/dev/null || true
    return
  fi
  # update-rc.d removes the sysvinit links and (through systemctl, which works offline) the systemd ones;
  # deb-systemd-helper records the choice so a package upgrade does not enable the unit again.
  if [ -e "/etc/init.d/$svc" ] && command -v update-rc.d >/dev/null 2>&1; then
    update-rc.d "$svc" disable >/dev/null 2>&1 || true
  fi
  if [ -e "/lib/systemd/system/$svc.service" ] && command -v deb-systemd-helper >/dev/null 2>&1; then
    DPKG_MAINTSCRIPT_PACKAGE=$(dpkg-query -S "/lib/systemd/system/$svc.service" 2>/dev/null | cut -d: -f1) \
      deb-systemd-helper disable "$svc.service" >/dev/null 2>&1 || true
  fi
  if command -v service >/dev/null 2>&1; then service "$svc" stop >/dev/null 2>&1 || true; fi
}

enabled_before=()
for svc in "${services[@]}"; do
  if service_enabled "$svc"; then enabled_before+=("$svc"); fi
done

# Keep packaged daemons (etcd, bird) from starting while they are installed.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
fi
trap 'if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi' EXIT
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# What the install newly enabled goes back to disabled (and stopped); what was enabled before stays enabled.
for svc in "${services[@]}"; do
  if [[ " ${enabled_before[*]} " == *" $svc "* ]]; then continue; fi
  if service_enabled "$svc"; then
    disable_service "$svc"
    echo "install-system-deps: $svc was not enabled at boot before the install: disabled it again"
  fi
done
exit 0
