"""The one outbound HTTP client of the connectors. Docs: docs/integrations.md#outbound.

``client(config)`` gives a ``Client`` bound to the connector's base URL: every request has
a connect and a read timeout, is signed with the connector's secret (the scheme of
cityfakes/signing.py: ``X-GovDesk-Timestamp`` and ``X-GovDesk-Signature``), and fails
with the layer's errors only — ``TransientError`` for timeouts, refused or reset
connections and HTTP 429/502/503/504, ``PermanentError`` for any other 4xx/5xx or a body
that is not the JSON promised — so a connector never sees a ``requests`` exception and
the retry policy is the same for all. Error texts name the method, path and status,
never the secret or the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import requests

from api.integrations.config import ConnectorConfig
from api.integrations.errors import TRANSIENT_STATUSES, PermanentError, TransientError

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 20.0
MAX_RESPONSE_BYTES = 10 * 1024 * 1024
USER_AGENT = "GovDesk-Integrations/1"


def sign_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    when = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode("utf-8"), str(when).encode("ascii") + b"." + body, hashlib.sha256
    ).hexdigest()
    return {"X-GovDesk-Timestamp": str(when), "X-GovDesk-Signature": "sha256=" + digest}


class Client:
    def __init__(
        self,
        config: ConnectorConfig,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        read_timeout: float = READ_TIMEOUT,
    ) -> None:
        self.config = config
        self.timeout = (connect_timeout, read_timeout)
        self._session = requests.Session()
        self._session.trust_env = False  # no proxy from the environment: the URL is the truth
        self._session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> requests.Response:
        body = b"" if json_body is None else json.dumps(json_body, ensure_ascii=False).encode()
        headers = sign_headers(self.config.secret, body)
        if json_body is not None:
            headers["Content-Type"] = "application/json"
        where = f"{method} {path}"
        try:
            response = self._session.request(
                method,
                self.config.endpoint(path),
                params=params,
                data=body or None,
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise TransientError(f"{where}: timed out") from exc
        except requests.ConnectionError as exc:
            raise TransientError(f"{where}: connection failed ({exc.__class__.__name__})") from exc
        except requests.RequestException as exc:
            raise PermanentError(f"{where}: {exc.__class__.__name__}") from exc
        if response.status_code in TRANSIENT_STATUSES:
            raise TransientError(f"{where}: HTTP {response.status_code}")
        if response.status_code >= 300:
            raise PermanentError(f"{where}: HTTP {response.status_code}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise PermanentError(f"{where}: response larger than {MAX_RESPONSE_BYTES} bytes")
        return response

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return _json(self.request("GET", path, params=params), f"GET {path}")

    def post_json(self, path: str, body: Any) -> Any:
        return _json(self.request("POST", path, json_body=body), f"POST {path}")


def _json(response: requests.Response, where: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise PermanentError(f"{where}: the response is not JSON") from exc


def client(config: ConnectorConfig) -> Client:
    return Client(config)
