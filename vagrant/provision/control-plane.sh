#!/usr/bin/env bash
# Control plane: kubeadm init, Calico (operator manifests), an etcd for non-cluster hosts, join command for workers.
set -euo pipefail
if [ ! -f /etc/kubernetes/admin.conf ]; then
  kubeadm init --apiserver-advertise-address="${NODE_IP}" --pod-network-cidr=10.244.0.0/16
fi
mkdir -p /root/.kube /home/vagrant/.kube
cp /etc/kubernetes/admin.conf /root/.kube/config
cp /etc/kubernetes/admin.conf /home/vagrant/.kube/config && chown -R vagrant: /home/vagrant/.kube
cp /etc/kubernetes/admin.conf /calicotool/vagrant/.kubeconfig
curl -fsSL -o /tmp/calico.yaml "https://raw.githubusercontent.com/projectcalico/calico/${CALICO_VERSION}/manifests/calico.yaml"
# The default pool (192.168.0.0/16) would overlap the VMs' private network: use kubeadm's pod CIDR, VXLAN.
sed -i -e 's|# - name: CALICO_IPV4POOL_CIDR|- name: CALICO_IPV4POOL_CIDR|' \
       -e 's|#   value: "192.168.0.0/16"|  value: "10.244.0.0/16"|' \
       -e 's|value: "Always"  # CALICO_IPV4POOL_IPIP|value: "Never"|' /tmp/calico.yaml
kubectl apply --server-side -f /tmp/calico.yaml
kubeadm token create --print-join-command > /calicotool/vagrant/.join.sh
# A standalone etcd (Calico's etcdv3 datastore) for the external host's enrollment exercises.
apt-get install -y -qq etcd-server
sed -i "s|^#*ETCD_LISTEN_CLIENT_URLS=.*|ETCD_LISTEN_CLIENT_URLS=\"http://${NODE_IP}:2379,http://127.0.0.1:2379\"|" /etc/default/etcd
sed -i "s|^#*ETCD_ADVERTISE_CLIENT_URLS=.*|ETCD_ADVERTISE_CLIENT_URLS=\"http://${NODE_IP}:2379\"|" /etc/default/etcd
systemctl restart etcd
