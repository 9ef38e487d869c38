"""The WSGI application: requests to an operation localaws adds go to its handler, all others to moto's server.

Every service shares one port, as with moto_server: the service is the one named in the SigV4 credential scope of
the Authorization header (Credential=<key>/<date>/<region>/<service>/aws4_request), which is how moto, too, tells
them apart (DomainDispatcherApplication.infer_service_region_host).

Requests are served one at a time, and after one that may have changed something, what it used is saved
(localaws.persistence) before its answer goes out.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request

# moto_fixes patches moto on import
from localaws import api, athena, glue, gluejobs, kafka, kafkaconnect, moto_fixes, rdsdata  # noqa: F401
from localaws.persistence import Snapshots

SERVICES = {service.name: service for service in (kafka.SERVICE, kafkaconnect.SERVICE, glue.SERVICE, rdsdata.SERVICE,
                                                              athena.SERVICE)}
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
# the stores of localaws' own operations, saved with moto's
OWN_STORES = {"kafka.configurations": kafka.CONFIGURATIONS, "kafkaconnect.plugins": kafkaconnect.PLUGINS,
              "kafkaconnect.worker_configurations": kafkaconnect.WORKER_CONFIGURATIONS,
              "kafkaconnect.connectors": kafkaconnect.CONNECTORS, "glue.job_runs": gluejobs.RUNS}
# operations that only read, by their names' first word, in every protocol that names the operation
READ_ONLY = ("Get", "List", "Describe", "Head", "BatchGet", "Lookup", "Search", "Check", "Validate")
CBOR_OPERATION = re.compile(r"^/service/[^/]+/operation/([^/]+)$")


def operation_name(request: Request) -> str | None:
    """The operation a request calls, where its protocol names it (JSON: the target header; query: the Action
    parameter; RPC v2 CBOR: the path); None for REST protocols (S3, MSK), whose method says what it does."""
    target = request.headers.get("X-Amz-Target")
    if target:
        return target.rsplit(".", 1)[-1]
    cbor = CBOR_OPERATION.match(request.path)
    if cbor:
        return cbor.group(1)
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        body = request.get_data(cache=True)
        request.environ["wsgi.input"] = io.BytesIO(body)  # moto reads the body again from the stream
        action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        return action[0] if action else None
    return request.args.get("Action")


def changes_state(request: Request) -> bool:
    operation = operation_name(request)
    if operation is None:
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return not operation.startswith(READ_ONLY)


class LocalAws:
    def __init__(self, snapshots: Snapshots | None = None) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)
        self.snapshots = snapshots
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        save = self.snapshots is not None and changes_state(request)  # before the body is read by the handler
        with self.lock:
            Snapshots.begin()
            own = self._own_route(request)
            if own:
                service, handler, path_values, account, region = own
                body = api.handle(service, handler, path_values, request, account, region)(environ, start_response)
            else:
                body = self.moto(environ, start_response)
            if save:
                self.snapshots.save(own=own is not None)
        return body

    @staticmethod
    def _own_route(request: Request) -> tuple | None:
        """(service, handler, path values, account, region) when localaws serves the request itself."""
        scope = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
        if not scope:
            return None
        access_key, region, name = scope.groups()
        service = SERVICES.get(name)
        route = service.route(request) if service else None
        if not route:
            return None
        handler, path_values = route
        return service, handler, path_values, get_account_id_from(access_key), region


def server(host: str, port: int, state_dir: Path | None = None) -> BaseWSGIServer:
    """A threaded server of LocalAws (port 0: a free one), with moto's request handler (it keeps the headers with
    underscores that S3 metadata may have). With state_dir, the state is restored from there and kept there."""
    snapshots = None
    if state_dir is not None:
        snapshots = Snapshots(state_dir, OWN_STORES)
        snapshots.restore()
    return make_server(host, port, LocalAws(snapshots), threaded=True, request_handler=MotoRequestHandler)
