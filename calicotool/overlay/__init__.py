"""Host enrollment: IPAM claims in the datastore plus host programming through a small netlink adapter.

Layers, importing downward only: config/vtep/ipam/desired/dns are pure; ipamstore and records speak the Store
protocol; netlink is the only module that touches the kernel; enroll ties them into one reversible transaction.
"""
