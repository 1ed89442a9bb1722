# Calico's manifests/calico.yaml -> the dev VMs' install (applied by control-plane.sh, checked by
# tests/overlay/test_vagrant_scripts.py against Calico's v3.32 manifest):
# pool inside kubeadm's pod CIDR (the default 192.168.0.0/16 overlaps the VMs' private network), VXLAN not IPIP,
# no BGP (calico_backend vxlan, BIRD probes dropped), node IP from the private network (eth0 is the provider's NAT
# interface and has the same address on every VM).
s|# - name: CALICO_IPV4POOL_CIDR|- name: CALICO_IPV4POOL_CIDR|
s|#   value: "192.168.0.0/16"|  value: "10.244.0.0/16"|
/name: CALICO_IPV4POOL_IPIP/{n;s/"Always"/"Never"/}
/name: CALICO_IPV4POOL_VXLAN/{n;s/"Never"/"Always"/}
s|calico_backend: "bird"|calico_backend: "vxlan"|
/- -bird-live/d
/- -bird-ready/d
/- name: IP$/{n;s|value: "autodetect"|value: "autodetect"\n            - name: IP_AUTODETECTION_METHOD\n              value: "cidr=192.168.56.0/24"|}
