#!/usr/bin/env bash
# Cluster nodes: containerd + kubeadm/kubelet/kubectl at exactly K8S_VERSION from pkgs.k8s.io, held there.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
: "${K8S_VERSION:?}" "${NODE_IP:?}"
K8S_MINOR="${K8S_VERSION%.*}"
PKG_VERSION="${K8S_VERSION}-1.1"

if swapon --show | grep -q .; then
  swapoff -a
  sed -i '/ swap / s/^#*/#/' /etc/fstab
fi
if ! dpkg-query -W -f='${Status}' containerd 2>/dev/null | grep -q "install ok installed"; then
  apt-get update -qq
  apt-get install -y -qq containerd apt-transport-https ca-certificates
fi
mkdir -p /etc/containerd
if ! grep -q 'SystemdCgroup = true' /etc/containerd/config.toml 2>/dev/null; then
  containerd config default | sed 's/SystemdCgroup = false/SystemdCgroup = true/' > /etc/containerd/config.toml
  systemctl restart containerd
fi

install -d -m 0755 /etc/apt/keyrings
if [ ! -s /etc/apt/keyrings/kubernetes.gpg ]; then
  curl -fsSL "https://pkgs.k8s.io/core:/stable:/v${K8S_MINOR}/deb/Release.key" | gpg --dearmor --yes -o /etc/apt/keyrings/kubernetes.gpg
fi
REPO="deb [signed-by=/etc/apt/keyrings/kubernetes.gpg] https://pkgs.k8s.io/core:/stable:/v${K8S_MINOR}/deb/ /"
if [ "$(cat /etc/apt/sources.list.d/kubernetes.list 2>/dev/null)" != "${REPO}" ]; then
  echo "${REPO}" > /etc/apt/sources.list.d/kubernetes.list
  apt-get update -qq
fi
if [ "$(dpkg-query -W -f='${Version}' kubelet 2>/dev/null)" != "${PKG_VERSION}" ]; then
  apt-mark unhold kubelet kubeadm kubectl >/dev/null 2>&1 || true
  apt-get install -y -qq --allow-downgrades "kubelet=${PKG_VERSION}" "kubeadm=${PKG_VERSION}" "kubectl=${PKG_VERSION}"
  apt-mark hold kubelet kubeadm kubectl >/dev/null
fi
if [ "$(cat /etc/default/kubelet 2>/dev/null)" != "KUBELET_EXTRA_ARGS=--node-ip=${NODE_IP}" ]; then
  echo "KUBELET_EXTRA_ARGS=--node-ip=${NODE_IP}" > /etc/default/kubelet
  systemctl restart kubelet || true
fi
systemctl is-enabled --quiet kubelet || systemctl enable --now kubelet
