from tests.fixtures.netns import make_netns, netns_registry  # noqa: F401
