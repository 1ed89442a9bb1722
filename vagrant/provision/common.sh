#!/usr/bin/env bash
# Every VM: packages calicotool needs, forwarding sysctls, the project installed from the synced folder.
# Idempotent: a second `vagrant provision` installs nothing new and rewrites no file whose content is unchanged.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# shellcheck source=lib.sh
. /calicotool/vagrant/provision/lib.sh

ensure_packages curl gpg python3 python3-pip python3-venv iproute2 bird iperf3 graphviz dnsutils iputils-ping

if write_if_changed /etc/sysctl.d/90-calicotool.conf <<SYSCTL
net.ipv4.ip_forward = 1
net.ipv4.conf.all.rp_filter = 0
net.bridge.bridge-nf-call-iptables = 1
SYSCTL
then
  modprobe br_netfilter || true
  sysctl --system >/dev/null
fi
modprobe vxlan || true

[ -x /opt/calicotool/bin/python ] || python3 -m venv /opt/calicotool
/opt/calicotool/bin/python -c 'import calicotool' 2>/dev/null || /opt/calicotool/bin/pip install -q -e /calicotool
[ -L /usr/local/bin/calicotool ] || ln -s /opt/calicotool/bin/calicotool /usr/local/bin/calicotool
