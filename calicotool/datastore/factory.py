"""Choosing and opening a datastore from `--datastore`, the environment, or the embedded default."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from calicotool.datastore.base import Store
from calicotool.errors import InputError

DEFAULT_SPEC = "dir:./cluster"


def resolve_spec(cli_value: str | None, environ: Mapping[str, str], cwd: Path | None = None) -> str:
    """--datastore, else CALICOTOOL_DATASTORE, else calicoctl's DATASTORE_TYPE/ETCD_ENDPOINTS/KUBECONFIG,
    else dir:./cluster."""
    return explain_spec(cli_value, environ)[0]


def explain_spec(cli_value: str | None, environ: Mapping[str, str]) -> tuple[str, str]:
    """The datastore spec and the reason it was chosen (for `datastore which`)."""
    if cli_value:
        return cli_value, "--datastore"
    if environ.get("CALICOTOOL_DATASTORE"):
        return environ["CALICOTOOL_DATASTORE"], "$CALICOTOOL_DATASTORE"
    dtype = environ.get("DATASTORE_TYPE", "").strip().lower()
    if dtype in ("etcdv3", "etcd"):
        endpoints = environ.get("ETCD_ENDPOINTS", "http://127.0.0.1:2379")
        why = "$DATASTORE_TYPE=etcdv3 with $ETCD_ENDPOINTS" if environ.get("ETCD_ENDPOINTS") else "$DATASTORE_TYPE=etcdv3"
        return f"etcdv3:{endpoints}", why
    if dtype == "kubernetes":
        return "kubernetes", "$DATASTORE_TYPE=kubernetes"
    if dtype:
        raise InputError(f"DATASTORE_TYPE={dtype!r} is not one of kubernetes, etcdv3")
    if environ.get("ETCD_ENDPOINTS"):
        return f"etcdv3:{environ['ETCD_ENDPOINTS']}", "$ETCD_ENDPOINTS"
    if environ.get("KUBECONFIG"):
        return "kubernetes", "$KUBECONFIG"
    return DEFAULT_SPEC, "default (no --datastore, $CALICOTOOL_DATASTORE, $DATASTORE_TYPE, $ETCD_ENDPOINTS or $KUBECONFIG)"


def parse_spec(spec: str) -> tuple[str, str]:
    """Split `TYPE:REST` and check TYPE. `kubernetes` alone is allowed (current context)."""
    backend, _, rest = spec.partition(":")
    backend = backend.strip().lower()
    if backend in ("dir", "directory"):
        if not rest:
            raise InputError(f"bad datastore {spec!r}: dir: needs a path, e.g. dir:./cluster")
        return "dir", rest
    if backend in ("kubernetes", "k8s", "kdd"):
        return "kubernetes", rest
    if backend in ("etcdv3", "etcd"):
        if not rest:
            raise InputError(f"bad datastore {spec!r}: etcdv3: needs endpoints, e.g. etcdv3:http://127.0.0.1:2379")
        return "etcdv3", rest
    raise InputError(f"bad datastore {spec!r}: expected dir:PATH, kubernetes[:CONTEXT] or etcdv3:URL[,URL...]")


def open_store(spec: str, kube_context: str | None = None, environ: Mapping[str, str] | None = None) -> Store:
    environ = environ or {}
    backend, rest = parse_spec(spec)
    if backend == "dir":
        from calicotool.datastore.directory import DirectoryStore

        path = Path(rest)
        if rest == "~" or rest.startswith("~/"):  # the shell leaves `dir:~/x` alone: expand it as the user meant
            path = Path(environ.get("HOME") or Path.home()) / rest[2:]
        return DirectoryStore(path)
    if backend == "etcdv3":
        from calicotool.datastore.etcdv3 import EtcdStore

        return EtcdStore.from_spec(rest, environ)
    from calicotool.datastore.kubernetes import KubeStore

    return KubeStore.from_spec(kube_context or rest or None, environ)
