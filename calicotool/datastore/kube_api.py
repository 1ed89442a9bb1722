"""The one place that talks HTTP to a Kubernetes API server, through the official client's ApiClient (so kubeconfig
auth — tokens, client certificates, exec plugins, in-cluster service accounts — works unchanged), and maps every
failure onto calicotool.errors: 404 NotFound, 409 AlreadyExists/Conflict, 422/400 Invalid, and 401/403, 5xx,
connection errors and timeouts Unavailable with a one-line cause.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from calicotool.errors import AlreadyExists, Conflict, DatastoreError, Invalid, NotFound, Unavailable
from calicotool.model.kinds import CALICO_V3

Query = list[tuple[str, str]]


def http_status(exc: BaseException) -> int | None:
    """The HTTP status code behind a DatastoreError raised by KubeApi (None for transport failures)."""
    code = getattr(exc, "http_status", None)
    return code if isinstance(code, int) else None


def status_error(code: int, body: str | bytes | None, where: str) -> DatastoreError:
    """Turn an API server error response into our error type, remembering the code as `exc.http_status`.

    The body is normally a metav1.Status (JSON with reason/message); the aggregation layer answers an unavailable
    APIService with a plain-text `service unavailable` (kube-aggregator handler_proxy.go), so text is accepted too."""
    err = _status_error(code, body, where)
    err.http_status = code  # type: ignore[attr-defined]
    return err


def _status_error(code: int, body: str | bytes | None, where: str) -> DatastoreError:
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    reason, message = "", ""
    try:
        doc = json.loads(text) if text else {}
        if isinstance(doc, dict):
            reason, message = str(doc.get("reason") or ""), str(doc.get("message") or "")
    except ValueError:
        message = text.strip().splitlines()[0] if text.strip() else ""
    message = message or reason or f"HTTP {code}"
    if code == 404:
        return NotFound(message)
    if code == 409:
        return AlreadyExists(message) if reason == "AlreadyExists" else Conflict(message)
    if code in (400, 422):
        return Invalid(message)
    if code in (401, 403):
        what = "rejected the credentials" if code == 401 else "denied access"
        return Unavailable(f"Kubernetes API server at {where} {what} ({code} {reason or 'Unauthorized'}): {message}")
    if code == 410:
        return Unavailable(f"Kubernetes API server at {where}: {message} (410 {reason or 'Gone'})")
    status = f"{code} {reason}" if reason else str(code)
    return Unavailable(f"Kubernetes API server at {where} answered {status}: {message}")


def transport_cause(exc: BaseException) -> str:
    """A one-line cause for a connection-level failure (refused, DNS, TLS, timeout)."""
    chain: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and cur not in chain:
        chain.append(cur)
        nxt = cur.reason if isinstance(cur, urllib3.exceptions.MaxRetryError) else None
        cur = nxt or cur.__cause__ or cur.__context__
    text = " ".join(str(e) for e in chain)
    # urllib3's NewConnectionError subclasses its timeout error, so look at what actually happened first.
    if any(isinstance(e, ConnectionRefusedError) for e in chain) or "Connection refused" in text:
        return "connection refused"
    for e in chain:
        if isinstance(e, socket.gaierror):
            return f"cannot resolve host ({e.strerror or e})"
        if isinstance(e, urllib3.exceptions.SSLError):
            return f"TLS error: {str(e).splitlines()[0][:200]}"
    if any(isinstance(e, (socket.timeout, TimeoutError, urllib3.exceptions.TimeoutError)) for e in chain):
        return "timed out"
    last = chain[-1]
    return (str(last).splitlines()[0] if str(last) else type(last).__name__)[:200]


def _seconds(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _apiservice_name(group_version: str) -> str:
    group, _, version = group_version.partition("/")
    return f"{version}.{group}"


class KubeApi:
    """Thin JSON-over-HTTP layer. Paths are API paths (`/apis/g/v/plural/name`); bodies and answers are dicts."""

    def __init__(
        self,
        client: ApiClient,
        timeout: tuple[float, float] = (5.0, 30.0),
        throttle_retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.throttle_retries = throttle_retries
        self.sleep = sleep
        self.where = str(client.configuration.host)
        self._discovery: dict[str, dict[str, dict[str, Any]] | None] = {}

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass

    # -- requests -----------------------------------------------------------------------------------------------
    def request(self, method: str, path: str, query: Query | None = None, body: Any = None) -> dict[str, Any]:
        """One request; returns the decoded JSON answer or raises a calicotool DatastoreError. A 429 (API Priority
        and Fairness rejected it before handling, so any verb is safe to resend) is retried after Retry-After."""
        for attempt in range(1, self.throttle_retries + 2):
            try:
                status, data, retry_after = self._send(method, path, query or [], body)
            except ApiException as exc:  # older generated clients raise for non-2xx
                status, raw = int(exc.status or 0), exc.body or b""
                data = raw.encode() if isinstance(raw, str) else bytes(raw)
                retry_after = _seconds((exc.headers or {}).get("Retry-After"))
                if status != 429 or attempt > self.throttle_retries:
                    raise status_error(status, data, self.where) from None
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise Unavailable(f"cannot reach Kubernetes API server at {self.where}: {transport_cause(exc)}") from None
            if status == 429 and attempt <= self.throttle_retries:
                self.sleep(min(retry_after or float(attempt), 10.0))
                continue
            break
        if not 200 <= status <= 299:
            if status == 503 and path.startswith(f"/apis/{CALICO_V3}/") and not data.lstrip().startswith(b"{"):
                raise self.aggregated_unavailable(CALICO_V3)
            raise status_error(status, data, self.where)
        try:
            doc = json.loads(data) if data else {}
        except ValueError:
            raise Unavailable(f"Kubernetes API server at {self.where} sent a non-JSON answer to {method} {path}") from None
        return doc if isinstance(doc, dict) else {"value": doc}

    def _send(self, method: str, path: str, query: Query, body: Any) -> tuple[int, bytes, float | None]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        client: Any = self.client
        if hasattr(client, "param_serialize"):  # kubernetes >= 35 (openapi-generator 7 layout)
            req = client.param_serialize(
                method, path, query_params=query, header_params=headers, body=body, auth_settings=["BearerToken"]
            )
            resp = client.call_api(*req, _request_timeout=self.timeout)
            resp.read()
            return int(resp.status), bytes(resp.data or b""), _seconds(resp.getheader("Retry-After"))
        resp = client.call_api(  # older layout: raises ApiException for non-2xx
            path,
            method,
            query_params=query,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=self.timeout,
        )
        return int(resp.status), bytes(resp.data or b""), None

    # -- discovery ----------------------------------------------------------------------------------------------
    def served(self, group_version: str) -> dict[str, dict[str, Any]] | None:
        """Resources (`plural` -> APIResource) the server serves for `group/version`, or None if not served."""
        if group_version not in self._discovery:
            path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            try:
                doc = self.request("GET", path)
            except NotFound:
                self._discovery[group_version] = None
            except Unavailable as exc:
                if http_status(exc) == 503 and group_version != "v1":
                    raise self.aggregated_unavailable(group_version) from None
                raise
            else:
                resources = {
                    str(r["name"]): r for r in doc.get("resources") or [] if "/" not in str(r.get("name", "/"))
                }
                self._discovery[group_version] = resources
        return self._discovery[group_version]

    def aggregated_unavailable(self, group_version: str) -> Unavailable:
        """The error for a group whose APIService is registered but whose backend is down: the aggregation layer
        then answers every request under /apis/<group>/<version> with 503 `service unavailable`."""
        hint = " and the calico-apiserver pods" if group_version == CALICO_V3 else ""
        err = Unavailable(
            f"Kubernetes API server at {self.where}: {group_version} is registered but its API server is unavailable "
            f"(HTTP 503); check `kubectl get apiservice {_apiservice_name(group_version)}`{hint}"
        )
        err.http_status = 503  # type: ignore[attr-defined]
        return err

    def version(self) -> dict[str, Any]:
        return self.request("GET", "/version")

