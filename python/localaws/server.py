"""The WSGI application: requests to an operation localaws adds go to its handler, all others to moto's server.

Every service shares one port, as with moto_server: the service is the one named in the SigV4 credential scope of
the Authorization header (Credential=<key>/<date>/<region>/<service>/aws4_request), which is how moto, too, tells
them apart (DomainDispatcherApplication.infer_service_region_host).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from moto.iam.models import get_account_id_from
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request

from localaws import api, glue, kafka, kafkaconnect, moto_fixes  # noqa: F401  (moto_fixes patches moto on import)

SERVICES = {service.name: service for service in (kafka.SERVICE, kafkaconnect.SERVICE, glue.SERVICE)}
CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")


class LocalAws:
    def __init__(self) -> None:
        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        scope = CREDENTIAL_SCOPE.search(request.headers.get("Authorization", ""))
        if scope:
            access_key, region, name = scope.groups()
            service = SERVICES.get(name)
            route = service.route(request) if service else None
            if route:
                handler, path_values = route
                response = api.handle(service, handler, path_values, request, get_account_id_from(access_key), region)
                return response(environ, start_response)
        return self.moto(environ, start_response)


def server(host: str, port: int) -> BaseWSGIServer:
    """A threaded server of LocalAws (port 0: a free one), with moto's request handler (it keeps the headers with
    underscores that S3 metadata may have)."""
    return make_server(host, port, LocalAws(), threaded=True, request_handler=MotoRequestHandler)
