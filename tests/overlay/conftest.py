from tests.fixtures.etcd import etcd_clean, etcd_server  # noqa: F401
from tests.fixtures.netns import make_netns, netns_registry  # noqa: F401
