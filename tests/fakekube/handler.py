"""HTTP side of the fake API server: routing a request to discovery, a verb on the state, or a watch stream, and
answering errors as metav1.Status objects."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from tests.fakekube.selectors import SelectorError, field_matcher, label_matcher
from tests.fakekube.state import ApiError, ResourceType

if TYPE_CHECKING:
    from tests.fakekube.server import FakeKubeServer, Route


class KubeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 65536  # headers and body leave in one segment (no Nagle/delayed-ACK stalls); flushed per request
    server_ref: FakeKubeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def _send(self, code: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        self.send_response(code)
        if code == 429:  # API Priority and Fairness rejections say when to come back
            self.send_header("Retry-After", "1")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_text(self, code: int, text: str) -> None:
        """What Go's http.Error writes (the aggregation layer's answer for an unavailable APIService)."""
        data = (text + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format") from None

    def _handle(self, method: str) -> None:
        srv = self.server_ref
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        srv.requests.append((method, self.path))
        try:
            body = self._body()
            if srv.faults.delay:
                time.sleep(srv.faults.delay)
            if srv.token is not None and self.headers.get("Authorization") != f"Bearer {srv.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if srv.aggregated_unavailable and (split.path + "/").startswith("/apis/projectcalico.org/v3/"):
                return self._send_text(503, "service unavailable")
            route = srv.route(split.path)
            fault = srv.faults.take(method, route.rt.plural if route else None)
            if fault is not None:
                raise ApiError(fault.status, fault.reason, fault.message)
            if method == "GET" and route is None:
                doc = srv.discovery(split.path.rstrip("/") or "/")
                if doc is None:
                    raise ApiError(404, "NotFound", "the server could not find the requested resource")
                return self._send(200, doc)
            if route is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            if method == "GET" and route.name is None and query.get("watch") in ("1", "true"):
                return self._watch(route, query)
            dry = query.get("dryRun") == "All"
            if method == "DELETE" and isinstance(body, dict) and body.get("kind") == "DeleteOptions":
                dry = "All" in (body.get("dryRun") or [])  # as a real server: a DeleteOptions body wins over ?dryRun
            if method != "GET" and dry:
                with srv.state.dry_run():
                    code, doc = self._verb(method, route, query, body)
            else:
                code, doc = self._verb(method, route, query, body)
            self._send(code, doc)
        except ApiError as exc:
            try:
                self._send(exc.code, exc.status())
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout tests)

    def _verb(self, method: str, route: Route, query: dict[str, str], body: Any) -> tuple[int, dict[str, Any]]:
        srv, rt, ns, name = self.server_ref, route.rt, route.namespace, route.name
        if rt.namespaced and name is not None and ns is None:
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if route.subresource not in (None, "status") or (route.subresource == "status" and not rt.status_subresource):
            raise ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET":
            return (200, srv.state.get(rt, ns, name)) if name else (200, srv.list_doc(route, query))
        if rt.read_only:
            raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
        if method == "POST" and name is None:
            return 201, srv.state.create(rt, ns, body)
        if method == "PUT" and name is not None:
            return 200, srv.state.update(rt, ns, name, body, status=route.subresource == "status")
        if method == "DELETE" and name is not None:
            return 200, srv.state.delete(rt, ns, name, body if isinstance(body, dict) else None)
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")

    def _watch(self, route: Route, query: dict[str, str]) -> None:
        """Stream watch events (one JSON object per chunk) until timeoutSeconds or server stop."""
        srv, state = self.server_ref, self.server_ref.state
        try:
            labels, fields = label_matcher(query.get("labelSelector")), field_matcher(query.get("fieldSelector"))
        except SelectorError as exc:
            raise ApiError(400, "BadRequest", str(exc)) from None
        timeout = min(float(query.get("timeoutSeconds") or 30), 30.0)
        deadline = time.monotonic() + timeout
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        def emit(kind: str, obj: dict[str, Any]) -> None:
            data = json.dumps({"type": kind, "object": obj}).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def wanted(rt: ResourceType, obj: dict[str, Any]) -> bool:
            o_ns = obj["metadata"].get("namespace")
            return (rt == route.rt and (route.namespace is None or o_ns == route.namespace)
                    and labels(obj["metadata"].get("labels") or {}) and fields(obj))

        with state.lock:
            rv_text = query.get("resourceVersion") or ""
            if rv_text in ("", "0"):
                items, last = state.list(route.rt, route.namespace, labels, fields)
                pending = [("ADDED", o) for o in items]
            else:
                last = int(rv_text)
                oldest = state.events[0].rv if state.events else state.rv + 1
                if last < oldest - 1 and last < state.rv:
                    pending = [("ERROR", ApiError(410, "Expired", f"too old resource version: {last}").status())]
                    last = -1
                else:
                    pending = []
        try:
            for kind, obj in pending:
                emit(kind, obj)
            while last >= 0 and not srv.stopping.is_set():
                with state.changed:
                    fresh = [e for e in state.events if e.rv > last]
                    if not fresh:
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        state.changed.wait(min(remaining, 0.2))
                        continue
                for event in fresh:
                    last = max(last, event.rv)
                    if wanted(event.rt, event.obj):
                        emit(event.type, event.obj)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True
