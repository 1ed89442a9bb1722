#!/usr/bin/env bash
# Proves the enrolled host is in the overlay, both ways, by name. Run it from vagrant/ on the workstation
# (`./check.sh`: it runs the two halves inside the VMs), or each half inside its VM:
#   vagrant ssh cp -c 'bash /calicotool/vagrant/check.sh cluster'   # pod -> legacy: ping, and its DNS name
#   vagrant ssh legacy -c 'bash /calicotool/vagrant/check.sh legacy' # legacy -> pod: ping, and a Service name
# The cluster half leaves the pod IP and CoreDNS addresses in the synced folder for the legacy half.
set -euo pipefail
SHARED=/calicotool/vagrant
FACTS="${SHARED}/.check-facts"
HOST_NAME="${HOST_NAME:-legacy}"
fail() { echo "FAIL: $*" >&2; exit 1; }

cluster_half() {
  export KUBECONFIG=/etc/kubernetes/admin.conf
  kubectl -n default rollout status deployment/calicotool-check --timeout=180s >/dev/null
  local pod pod_ip host_ip dns_ips
  pod="$(kubectl -n default get pod -l app=calicotool-check -o jsonpath='{.items[0].metadata.name}')"
  pod_ip="$(kubectl -n default get pod "${pod}" -o jsonpath='{.status.podIP}')"
  host_ip="$(kubectl get node "${HOST_NAME}" -o jsonpath='{.metadata.annotations.hosts\.calicotool\.io/host-ip}')"
  dns_ips="$(kubectl -n kube-system get pod -l k8s-app=kube-dns -o jsonpath='{.items[*].status.podIP}')"
  [ -n "${host_ip}" ] || fail "Node ${HOST_NAME} has no calicotool host IP: is it enrolled?"
  kubectl -n default exec "${pod}" -- ping -c 3 -W 2 "${host_ip}" >/dev/null || fail "pod ${pod_ip} cannot ping ${HOST_NAME} (${host_ip})"
  echo "ok: pod ${pod_ip} pings ${HOST_NAME} at ${host_ip}"
  local answer
  answer="$(kubectl -n default exec "${pod}" -- nslookup "${HOST_NAME}.calicotool-hosts.svc.cluster.local" 2>/dev/null || true)"
  grep -q "${host_ip}" <<<"${answer}" || fail "pods do not resolve ${HOST_NAME}.calicotool-hosts.svc.cluster.local to ${host_ip}"
  echo "ok: pods resolve ${HOST_NAME}.calicotool-hosts.svc.cluster.local to ${host_ip}"
  printf 'POD_IP=%s\nDNS_IPS="%s"\n' "${pod_ip}" "${dns_ips}" > "${FACTS}"
}

legacy_half() {
  [ -s "${FACTS}" ] || fail "run the cluster half first (no ${FACTS})"
  # shellcheck disable=SC1090
  . "${FACTS}"
  : "${POD_IP:?}" "${DNS_IPS:?}"
  ping -c 3 -W 2 "${POD_IP}" >/dev/null || fail "${HOST_NAME} cannot ping pod ${POD_IP}"
  echo "ok: ${HOST_NAME} pings pod ${POD_IP}"
  local server answer
  for server in ${DNS_IPS}; do
    answer="$(dig +short +time=2 +tries=1 "@${server}" kubernetes.default.svc.cluster.local || true)"
    if [ -n "${answer}" ]; then
      echo "ok: ${HOST_NAME} resolves kubernetes.default.svc.cluster.local -> ${answer} (CoreDNS pod ${server})"
      return 0
    fi
  done
  fail "${HOST_NAME} cannot resolve kubernetes.default.svc.cluster.local through CoreDNS (${DNS_IPS})"
}

case "${1:-both}" in
  cluster) cluster_half ;;
  legacy) legacy_half ;;
  both)
    command -v vagrant >/dev/null || fail "run inside the VMs: check.sh cluster (on cp), then check.sh legacy"
    vagrant ssh cp -c "sudo bash ${SHARED}/check.sh cluster"
    vagrant ssh legacy -c "bash ${SHARED}/check.sh legacy"
    ;;
  *) fail "usage: check.sh [cluster|legacy|both]" ;;
esac
