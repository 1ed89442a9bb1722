"""Finding the cluster the way kubectl does: KUBECONFIG (several files, first one to define a name or the current
context wins), else ~/.kube/config, an optional context, and the in-cluster service account when there is no
kubeconfig at all but KUBERNETES_SERVICE_HOST is set. The environment is passed in, never read globally."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import urllib3
import yaml
from kubernetes.client import ApiClient, Configuration
from kubernetes.config.config_exception import ConfigException
from kubernetes.config.incluster_config import SERVICE_CERT_FILENAME, SERVICE_TOKEN_FILENAME, InClusterConfigLoader
from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

from calicotool.errors import InputError, Unavailable


@dataclass(frozen=True)
class ClusterTarget:
    """Where the store connects and how that was decided (for `datastore check` and error messages)."""

    client: ApiClient
    host: str
    source: str  # "kubeconfig /path[:/path2]" or "in-cluster service account"
    context: str | None


def kubeconfig_paths(environ: Mapping[str, str]) -> list[str]:
    """The kubeconfig files kubectl would read, existing ones only, in precedence order."""
    home = environ.get("HOME") or os.path.expanduser("~")
    raw = environ.get("KUBECONFIG")
    if raw:
        candidates = [p for p in raw.split(os.pathsep) if p.strip()]
    else:
        candidates = [os.path.join(home, ".kube", "config")]
    out: list[str] = []
    for path in candidates:
        full = os.path.join(home, path[2:]) if path.startswith("~/") else path
        if os.path.isfile(full) and full not in out:
            out.append(full)
    return out


def _configuration() -> Configuration:
    cfg = Configuration()
    # One quick reconnect on connection failures, never a replay of a request the server may have seen; 429s are
    # resent by KubeApi (any verb, after Retry-After), so urllib3 must not consume them itself.
    cfg.retries = urllib3.util.Retry(total=1, connect=1, read=0, status=0, other=0, redirect=0, backoff_factor=0.05,
                                     respect_retry_after_header=False)
    return cfg


def _why(exc: Exception) -> str:
    """One line for a kubeconfig problem: YAML errors carry a multi-line snippet; keep the problem and its line."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return f"not valid YAML: {where}{exc.problem or exc.context}"
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# What the client library raises on garbage: YAML errors, and attribute/type errors on a non-mapping document.
_BAD_KUBECONFIG = (ConfigException, OSError, ValueError, yaml.YAMLError, AttributeError, TypeError, KeyError)


def _from_kubeconfig(paths: list[str], context: str | None) -> ClusterTarget:
    try:
        merged = KubeConfigMerger(os.pathsep.join(paths))
    except _BAD_KUBECONFIG as exc:
        raise InputError(f"cannot read kubeconfig {':'.join(paths)}: {_why(exc)}") from None
    if merged.config is None:
        raise InputError(f"kubeconfig {':'.join(paths)} is empty")
    try:
        return _target(merged, paths, context)
    except _BAD_KUBECONFIG as exc:
        raise InputError(f"kubeconfig {':'.join(paths)}: {_why(exc)}") from None


def _target(merged: KubeConfigMerger, paths: list[str], context: str | None) -> ClusterTarget:
    # kubectl: the first file that sets current-context wins (the client library lets the last one win).
    for path in merged.paths:
        current = (merged.config_files.get(path) or {}).get("current-context")
        if current:
            merged.config.value["current-context"] = current
            break
    contexts = [str(c["name"]) for c in merged.config.value.get("contexts") or []]
    if context is not None and context not in contexts:
        raise InputError(
            f"context {context!r} not found in kubeconfig {':'.join(paths)} (contexts: {', '.join(contexts) or 'none'})"
        )
    if context is None and not merged.config.value.get("current-context"):
        raise InputError(f"kubeconfig {':'.join(paths)} sets no current-context: pass --context or kubernetes:CONTEXT")
    cfg = _configuration()
    loader = KubeConfigLoader(config_dict=merged.config, active_context=context, config_base_path=None)
    loader.load_and_set(cfg)
    if not cfg.host:
        raise InputError(f"kubeconfig {':'.join(paths)}: the cluster of context "
                         f"{context or merged.config.value.get('current-context')!r} sets no server")
    active = context or str(merged.config.value.get("current-context"))
    return ClusterTarget(ApiClient(configuration=cfg), str(cfg.host), f"kubeconfig {':'.join(paths)}", active)


def _in_cluster(environ: Mapping[str, str]) -> ClusterTarget:
    cfg = _configuration()
    try:
        InClusterConfigLoader(SERVICE_TOKEN_FILENAME, SERVICE_CERT_FILENAME, environ=environ).load_and_set(cfg)
    except ConfigException as exc:
        raise Unavailable(f"in-cluster Kubernetes config unusable: {exc}") from None
    return ClusterTarget(ApiClient(configuration=cfg), str(cfg.host), "in-cluster service account", None)


def resolve_cluster(context: str | None, environ: Mapping[str, str]) -> ClusterTarget:
    """An ApiClient for the cluster kubectl would talk to with the same environment and `--context`."""
    paths = kubeconfig_paths(environ)
    if paths:
        return _from_kubeconfig(paths, context)
    if environ.get("KUBERNETES_SERVICE_HOST") and context is None:
        return _in_cluster(environ)
    where = environ.get("KUBECONFIG") or "~/.kube/config"
    raise Unavailable(
        f"no kubeconfig found (looked at {where}) and not running in a cluster (KUBERNETES_SERVICE_HOST unset)"
    )
