#!/usr/bin/env bash
# The legacy host: no kubelet. It enrolls into the cluster next to it on the Kubernetes datastore (a placeholder
# Node, Calico IPAM in the API server), publishes its DNS name to pods, and keeps in sync with a systemd timer.
# Idempotent: enroll and dns --apply write nothing the second time; unit files are only rewritten on change.
set -euo pipefail
: "${NODE_IP:?}" "${HOST_NAME:?}"
# shellcheck source=lib.sh
. /calicotool/vagrant/provision/lib.sh
SHARED=/calicotool/vagrant

for _ in $(seq 1 120); do [ -s "${SHARED}/.legacy-kubeconfig" ] && break; sleep 5; done
write_if_changed /etc/calicotool/kubeconfig 0600 < "${SHARED}/.legacy-kubeconfig" || true
write_if_changed /etc/calicotool/host-sync.env <<ENV || true
CALICOTOOL_HOST=${HOST_NAME}
CALICOTOOL_DATASTORE=kubernetes
KUBECONFIG=/etc/calicotool/kubeconfig
ENV
write_if_changed /etc/profile.d/calicotool.sh <<PROFILE || true
export CALICOTOOL_DATASTORE=kubernetes KUBECONFIG=/etc/calicotool/kubeconfig
PROFILE
export CALICOTOOL_DATASTORE=kubernetes KUBECONFIG=/etc/calicotool/kubeconfig

# Calico must have created its default pool before the host can claim a block from it.
for _ in $(seq 1 60); do calicotool get ippools -o json 2>/dev/null | grep -q '"cidr"' && break; sleep 5; done
calicotool host enroll "${HOST_NAME}" --address "${NODE_IP}/24" --labels role=legacy-db
calicotool host dns --apply "${HOST_NAME}"

changed=0
for unit in calicotool-host-sync.service calicotool-host-sync.timer; do
  if write_if_changed "/etc/systemd/system/${unit}" < "/calicotool/deploy/systemd/${unit}"; then changed=1; fi
done
[ "${changed}" = 0 ] || systemctl daemon-reload
systemctl is-enabled --quiet calicotool-host-sync.timer || systemctl enable --now calicotool-host-sync.timer
