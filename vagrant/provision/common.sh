#!/usr/bin/env bash
# Every VM: packages calicotool needs, forwarding sysctls, the project installed from the synced folder.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq curl gpg python3 python3-pip python3-venv iproute2 bird iperf3 graphviz etcd-client
cat > /etc/sysctl.d/90-calicotool.conf <<SYSCTL
net.ipv4.ip_forward = 1
net.ipv4.conf.all.rp_filter = 0
net.bridge.bridge-nf-call-iptables = 1
SYSCTL
modprobe br_netfilter || true
modprobe vxlan || true
modprobe ipip || true
sysctl --system >/dev/null
python3 -m venv /opt/calicotool
/opt/calicotool/bin/pip install -q -e /calicotool
ln -sf /opt/calicotool/bin/calicotool /usr/local/bin/calicotool
