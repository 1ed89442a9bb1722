"""Calico datastores behind one Store protocol: dir: (GitOps), kubernetes, etcdv3."""

from calicotool.datastore.base import BatchResult, Change, Op, Store, StoreInfo

__all__ = ["BatchResult", "Change", "Op", "Store", "StoreInfo"]
