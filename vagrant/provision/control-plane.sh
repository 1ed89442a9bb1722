#!/usr/bin/env bash
# Control plane: kubeadm init, Calico (manifest at the pinned tag, Kubernetes datastore, VXLAN), the RBAC and a
# kubeconfig for the enrolled host, a pod for vagrant/check.sh, the join command for workers. Idempotent.
set -euo pipefail
: "${NODE_IP:?}" "${CALICO_VERSION:?}" "${CHECK_IMAGE:?}"
# shellcheck source=lib.sh
. /calicotool/vagrant/provision/lib.sh
SHARED=/calicotool/vagrant

if [ ! -f /etc/kubernetes/admin.conf ]; then
  kubeadm init --apiserver-advertise-address="${NODE_IP}" --pod-network-cidr=10.244.0.0/16
fi
export KUBECONFIG=/etc/kubernetes/admin.conf
write_if_changed /root/.kube/config 0600 < /etc/kubernetes/admin.conf || true
if write_if_changed /home/vagrant/.kube/config 0600 < /etc/kubernetes/admin.conf; then
  chown -R vagrant: /home/vagrant/.kube
fi

# Calico on the Kubernetes datastore, VXLAN, no BGP: see calico-manifest.sed for the edits.
manifest="/var/cache/calicotool/calico-${CALICO_VERSION}.yaml"
if [ ! -s "${manifest}" ]; then
  install -d /var/cache/calicotool
  curl -fsSL -o "${manifest}.orig" "https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml"
  sed -f /calicotool/vagrant/provision/calico-manifest.sed "${manifest}.orig" > "${manifest}"
fi
kubectl apply --server-side --force-conflicts -f "${manifest}" >/dev/null

# What the enrolled host may do (deploy/host/rbac.yaml), in the namespaces it names.
for ns in calicotool calico-system; do
  kubectl get namespace "${ns}" >/dev/null 2>&1 || kubectl create namespace "${ns}"
done
kubectl apply --server-side -f /calicotool/deploy/host/rbac.yaml >/dev/null
kubectl get clusterrolebinding calicotool-host-observe >/dev/null 2>&1 ||
  kubectl create clusterrolebinding calicotool-host-observe --clusterrole calicotool-host-observe \
    --serviceaccount calicotool:calicotool-host

# A kubeconfig for `legacy` acting as the calicotool-host ServiceAccount (made once; a year-long token).
if [ ! -s "${SHARED}/.legacy-kubeconfig" ]; then
  token="$(kubectl -n calicotool create token calicotool-host --duration 8760h)"
  ca="$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}')"
  umask 077
  cat > "${SHARED}/.legacy-kubeconfig" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
  - name: vagrant
    cluster: {server: "https://${NODE_IP}:6443", certificate-authority-data: "${ca}"}
users:
  - name: calicotool-host
    user: {token: "${token}"}
contexts:
  - name: legacy
    context: {cluster: vagrant, user: calicotool-host}
current-context: legacy
KUBECONFIG
fi

# The pod vagrant/check.sh pings from and to, and resolves names in.
kubectl apply --server-side -f - >/dev/null <<POD
apiVersion: apps/v1
kind: Deployment
metadata: {name: calicotool-check, namespace: default}
spec:
  replicas: 1
  selector: {matchLabels: {app: calicotool-check}}
  template:
    metadata: {labels: {app: calicotool-check}}
    spec:
      containers:
        - name: probe
          image: ${CHECK_IMAGE}
          command: [sleep, "2147483647"]
POD

# Workers join with a token that is still valid; a new one only when the old one is gone.
joined_token="$(sed -n 's/.*--token \([^ ]*\).*/\1/p' "${SHARED}/.join.sh" 2>/dev/null || true)"
if [ -z "${joined_token}" ] || ! kubeadm token list -o jsonpath='{.token}{"\n"}' | grep -qx "${joined_token}"; then
  kubeadm token create --print-join-command > "${SHARED}/.join.sh"
fi
