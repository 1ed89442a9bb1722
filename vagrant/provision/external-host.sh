#!/usr/bin/env bash
# The legacy host: no Kubernetes. calicotool enrolls it into the overlay against the cluster's etcd.
set -euo pipefail
cat > /etc/profile.d/calicotool.sh <<PROFILE
export CALICOTOOL_DATASTORE=etcdv3:http://${CP_IP}:2379
PROFILE
echo "enroll with: sudo calicotool host enroll legacy --address ${NODE_IP}/24 --interface eth1 --labels role=legacy-db"
