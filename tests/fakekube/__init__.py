"""An in-process fake Kubernetes API server over real HTTP, for testing the Kubernetes datastore backend."""

from tests.fakekube.server import FakeKubeServer, Faults
from tests.fakekube.state import ApiError, ResourceType

__all__ = ["ApiError", "FakeKubeServer", "Faults", "ResourceType"]
