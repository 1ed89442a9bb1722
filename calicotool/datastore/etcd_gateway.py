"""A thin adapter over etcd's grpc-gateway JSON API (through the etcd3gw client) for what the Store needs.

etcd3gw gives us the HTTP session, API-path discovery (/v3/ on etcd 3.4+), leases and error classes; range with
limit/revision, transactions with mod-revision compares and UTF-8 values are JSON bodies built here. Every transport
failure becomes Unavailable naming the endpoints; nothing else in calicotool sees HTTP or base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import requests
from etcd3gw import exceptions as etcd_exc
from etcd3gw.client import Etcd3Client
from etcd3gw.lease import Lease

from calicotool.errors import DatastoreError, Invalid, Unavailable


@dataclass(frozen=True)
class KeyValue:
    key: str
    value: bytes
    mod_revision: str
    create_revision: str
    lease: str = "0"


def b64(data: str | bytes) -> str:
    return binascii.b2a_base64(data.encode() if isinstance(data, str) else data, newline=False).decode("ascii")


# Request bodies are compact JSON (a 1,000-change transaction is ~1 MB; the default separators add ~5% to build,
# send and parse) and, like requests' own json=, ASCII with no NaN.
_BODY = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_JSON_HEADERS = {"Content-Type": "application/json"}


def prefix_end(prefix: str) -> str:
    """The range end that selects every key starting with `prefix` (etcd's "prefix + 1")."""
    raw = bytearray(prefix.encode())
    while raw and raw[-1] == 0xFF:
        raw.pop()
    raw[-1] += 1
    return b64(bytes(raw))


def key_after(key: str) -> str:
    """The range end that stops right after `key` (key + NUL), for a range over [some key, `key`]."""
    return b64(key.encode() + b"\x00")


def _kv(raw: dict[str, Any]) -> KeyValue:
    return KeyValue(
        key=base64.b64decode(raw["key"]).decode(),
        value=base64.b64decode(raw.get("value", "")),
        mod_revision=str(raw.get("mod_revision", "0")),
        create_revision=str(raw.get("create_revision", "0")),
        lease=str(raw.get("lease", "0")),
    )


# -- transaction building blocks (grpc-gateway JSON) ---------------------------------------------------------------
def cmp_absent(key: str) -> dict[str, Any]:
    return {"key": b64(key), "target": "CREATE", "result": "EQUAL", "create_revision": 0}


def cmp_present(key: str) -> dict[str, Any]:
    return {"key": b64(key), "target": "CREATE", "result": "GREATER", "create_revision": 0}


def cmp_mod(key: str, revision: str) -> dict[str, Any]:
    return {"key": b64(key), "target": "MOD", "result": "EQUAL", "mod_revision": int(revision)}


def op_put(key: str, value: bytes, lease: int = 0) -> dict[str, Any]:
    req: dict[str, Any] = {"key": b64(key), "value": b64(value)}
    if lease:
        req["lease"] = lease
    return {"request_put": req}


def op_delete(key: str) -> dict[str, Any]:
    return {"request_delete_range": {"key": b64(key)}}


def op_get(key: str) -> dict[str, Any]:
    return {"request_range": {"key": b64(key)}}


def txn_ranges(response: dict[str, Any]) -> list[KeyValue | None]:
    """The single-key range answers of a txn branch, in order (None where the key is absent)."""
    out: list[KeyValue | None] = []
    for item in response.get("responses", []):
        if "response_range" in item:
            kvs = item["response_range"].get("kvs") or []
            out.append(_kv(kvs[0]) if kvs else None)
    return out


class EtcdGateway:
    """One or more client URLs of one etcd cluster; fails over to the next URL when one cannot be reached."""

    def __init__(
        self,
        endpoints: list[str],
        ca_cert: str | None = None,
        cert_file: str | None = None,
        key_file: str | None = None,
        timeout: float = 5.0,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.credentials = (username, password or "") if username else None
        self._token: str | None = None
        self.session = requests.Session()
        if ca_cert:
            # requests lets REQUESTS_CA_BUNDLE/CURL_CA_BUNDLE override a session's CA; the configured CA must win.
            self.session.trust_env = False
            self.session.verify = ca_cert
        if cert_file and key_file:
            self.session.cert = (cert_file, key_file)
        self.timeout = timeout
        self._clients = [self._client(url) for url in endpoints]
        self._active = 0

    def _client(self, url: str) -> Etcd3Client:
        scheme, _, rest = url.partition("://")
        host, _, port = rest.rstrip("/").rpartition(":")
        return Etcd3Client(host=host.strip("[]"), port=int(port), protocol=scheme, timeout=self.timeout, session=self.session)

    @property
    def where(self) -> str:
        return ",".join(self.endpoints)

    def _each_client(self) -> list[tuple[int, Etcd3Client]]:
        order = list(range(self._active, len(self._clients))) + list(range(self._active))
        return [(i, self._clients[i]) for i in order]

    def post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST to `/v3/<path>` on the first reachable endpoint; map failures onto calicotool errors. With
        credentials, authenticates first and once more when etcd says the token expired."""
        if self.credentials and self._token is None and path != "/auth/authenticate":
            self._authenticate()
        try:
            return self._post(path, payload)
        except _TokenExpired:
            self._authenticate()
            return self._post(path, payload)

    def _authenticate(self) -> None:
        assert self.credentials is not None
        self.session.headers.pop("Authorization", None)
        name, password = self.credentials
        token = self._post("/auth/authenticate", {"name": name, "password": password}).get("token")
        if not token:
            raise Unavailable(f"etcd at {self.where} gave no auth token for user {name!r}")
        self._token = str(token)
        self.session.headers["Authorization"] = self._token

    def _post(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        reason = ""
        body = _BODY.encode(payload).encode("ascii")
        for index, client in self._each_client():
            try:
                url = client.get_url(path)  # discovers the API path (GET /version) on first use: nothing sent yet
            except (etcd_exc.ConnectionFailedError, etcd_exc.ConnectionTimeoutError) as exc:
                reason = _reason(exc)
                continue
            except etcd_exc.Etcd3Exception as exc:
                raise _server_error(exc, self.where) from None
            except (requests.RequestException, ValueError, TypeError, KeyError, AttributeError) as exc:
                # something answered GET /version, but not etcd's JSON (a web server, a proxy's error page...)
                raise Unavailable(f"{client.base_url} does not answer like etcd's v3 API: {type(exc).__name__}: {exc}") from None
            try:
                result = client.post(url, data=body, headers=_JSON_HEADERS)
                self._active = index
                return result if isinstance(result, dict) else {}
            except (etcd_exc.ConnectionFailedError, etcd_exc.ConnectionTimeoutError) as exc:
                reason = _reason(exc)
                if path == "/kv/txn" and not _never_sent(reason):
                    # The write may have been applied: trying it on another member would misreport the outcome.
                    raise Unavailable(
                        f"etcd at {client.base_url} did not answer a write ({reason}); it may or may not have been "
                        "applied: re-read before retrying"
                    ) from None
            except etcd_exc.Etcd3Exception as exc:
                if self._token and "invalid auth token" in (exc.detail_text or ""):
                    self._token = None
                    raise _TokenExpired() from None
                raise _server_error(exc, self.where) from None
            except (requests.RequestException, ValueError) as exc:
                raise Unavailable(f"etcd at {self.where} answered badly: {exc}") from None
        raise Unavailable(f"cannot reach etcd at {self.where}: {reason}")

    def version(self) -> dict[str, Any]:
        reason = ""
        for index, client in self._each_client():
            try:
                resp = self.session.get(client.base_url + "/version", timeout=self.timeout)
                resp.raise_for_status()
                self._active = index
                data = resp.json()
                return data if isinstance(data, dict) else {}
            except (requests.RequestException, ValueError) as exc:
                reason = _reason(exc)
        raise Unavailable(f"cannot reach etcd at {self.where}: {reason}")

    # -- key-value ---------------------------------------------------------------------------------------------
    def get(self, key: str) -> KeyValue | None:
        kvs, _, _ = self.range(key)
        return kvs[0] if kvs else None

    def range(
        self, key: str, end: str | None = None, limit: int = 0, revision: str = "0", keys_only: bool = False
    ) -> tuple[list[KeyValue], str, bool]:
        """One range request: (key-values, header revision, more?). `end` is already base64 (see prefix_end)."""
        payload: dict[str, Any] = {"key": b64(key)}
        if end:
            payload["range_end"] = end
        if limit:
            payload["limit"] = limit
        if revision != "0":
            payload["revision"] = int(revision)
        if keys_only:
            payload["keys_only"] = True
        result = self.post("/kv/range", payload)
        kvs = [_kv(raw) for raw in result.get("kvs") or []]
        return kvs, str(result.get("header", {}).get("revision", "0")), bool(result.get("more"))

    def scan(self, prefix: str, page: int = 1000, keys_only: bool = False) -> list[KeyValue]:
        """Every key under `prefix`, read in pages of `page` at one pinned revision (a consistent snapshot)."""
        end, start, revision = prefix_end(prefix), prefix, "0"
        out: list[KeyValue] = []
        while True:
            kvs, header_rev, more = self.range(start, end, limit=page, revision=revision, keys_only=keys_only)
            out.extend(kvs)
            revision = revision if revision != "0" else header_rev
            if not more or not kvs:
                return out
            start = kvs[-1].key + "\x00"

    def txn(
        self, compare: list[dict[str, Any]], success: list[dict[str, Any]], failure: list[dict[str, Any]] | None = None
    ) -> tuple[bool, dict[str, Any]]:
        result = self.post("/kv/txn", {"compare": compare, "success": success, "failure": failure or []})
        return bool(result.get("succeeded")), result

    # -- leases ------------------------------------------------------------------------------------------------
    def lease(self, ttl: int) -> Lease:
        result = self.post("/lease/grant", {"TTL": ttl, "ID": 0})
        if "ID" not in result:
            raise Unavailable(f"etcd at {self.where} granted no lease: {result.get('error', result)}")
        return Lease(int(result["ID"]), client=self._clients[self._active])

    def close(self) -> None:
        self.session.close()


# requests buries the cause ("Connection refused", an SSL alert) deep in its message: say it in a few words.
_REASONS = (
    ("Connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("Name or service not known", "unknown host"),
    ("CERTIFICATE_VERIFY_FAILED", "TLS certificate verify failed (check ETCD_CA_CERT_FILE)"),
    ("BAD_CERTIFICATE", "TLS handshake refused: bad or missing client certificate (ETCD_CERT_FILE/ETCD_KEY_FILE)"),
    ("CERTIFICATE_REQUIRED", "TLS handshake refused: client certificate required (ETCD_CERT_FILE/ETCD_KEY_FILE)"),
    ("WRONG_VERSION_NUMBER", "TLS handshake failed: is the endpoint http rather than https?"),
    ("RemoteDisconnected", "connection closed without an answer: is the endpoint https rather than http?"),
    ("SSLError", "TLS handshake failed"),
)


class _TokenExpired(Exception):
    """etcd no longer accepts our auth token: authenticate again and repeat the request once."""


def _never_sent(reason: str) -> bool:
    """True when the request cannot have reached etcd (so failing over to another member is safe)."""
    return reason in ("connection refused", "unknown host") or reason.startswith("TLS")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "detail_text", None) or str(exc) or type(exc).__name__
    for marker, reason in _REASONS:
        if marker in text:
            return reason
    return text.splitlines()[0][:200]


def _server_error(exc: etcd_exc.Etcd3Exception, where: str) -> DatastoreError:
    text = exc.detail_text or str(exc)
    lowered = text.lower()
    text = _message(text)
    if "too many operations" in lowered or "too large" in lowered or "exceeds" in lowered:
        return Invalid(f"etcd at {where} rejected the request: {text.strip()} (lower the batch size: max_txn_ops)")
    if "user name is empty" in lowered:
        return Unavailable(f"etcd at {where} requires authentication: set ETCD_USERNAME and ETCD_PASSWORD")
    if "permission denied" in lowered or "authentication" in lowered or "token" in lowered:
        return Unavailable(f"etcd at {where} refused access: {_message(text)}")
    if "compacted" in lowered:
        return Unavailable(f"etcd at {where}: {text.strip()} (retry)")
    return Unavailable(f"etcd at {where} failed: {text.strip()[:300]}")


def _message(text: str) -> str:
    """The `error` of a grpc-gateway JSON error body, else the text itself (one line)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text.strip().splitlines()[0][:300] if text.strip() else "(no message)"
    return str(body.get("error") or body.get("message") or text)[:300] if isinstance(body, dict) else text[:300]
