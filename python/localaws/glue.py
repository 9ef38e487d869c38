"""Glue, what moto lacks: DeleteConnection (the connections are moto's: its Glue backend keeps them), and job runs
that run (localaws.gluejobs)."""

from __future__ import annotations

from typing import Any

from moto.glue.models import glue_backends
from werkzeug.wrappers import Request

from localaws import api, gluejobs


def delete_connection(call: api.Call) -> dict[str, Any]:
    backend = glue_backends[call.account][call.region]
    name = call.body["ConnectionName"]
    connection = backend.connections.pop(name, None)
    if connection is None:
        raise api.AwsError(400, "EntityNotFoundException", f"Connection {name} not found")
    backend.tagger.delete_all_tags_for_resource(connection.arn)
    return {}


# Glue speaks JSON 1.1: the operation is named by the X-Amz-Target header, every request goes to /
TARGETS = {"AWSGlue.DeleteConnection": delete_connection, **gluejobs.TARGETS}


def route(request: Request) -> api.Route | None:
    handler = TARGETS.get(request.headers.get("X-Amz-Target", ""))
    return (handler, {}) if handler else None


SERVICE = api.Service("glue", route, content_type="application/x-amz-json-1.1", invalid_input="InvalidInputException")
