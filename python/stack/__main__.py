"""Command line of the local stack's operations: `python -m stack <command>` (called by scripts/)."""

import argparse
import os
import sys
from pathlib import Path

from stack import connect, probes, render, repair, waiting, watch
from stack.settings import components, setting

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TEMPLATE = ROOT / "connectors" / "postgres-source.json.tmpl"


def cmd_render_connector(args: argparse.Namespace) -> None:
    import json
    config = render.render_connector(render.load_template(args.template), os.environ)
    print(json.dumps(config, indent=2))


def cmd_put_connector_secret(args: argparse.Namespace) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    from stack import secrets
    from stack.settings import local_client

    name = setting("CONNECTOR_DB_SECRET")
    try:
        ref = secrets.password_ref(name)
    except ValueError as bad:
        raise SystemExit(f"error: CONNECTOR_DB_SECRET: {bad}") from None
    value = {"username": setting("PG_CDC_USER"), "password": setting("PG_CDC_PASSWORD")}
    try:
        outcome = secrets.put_json_secret(local_client("secretsmanager"), name, value)
    except (BotoCoreError, ClientError) as error:  # their messages name the call, never the secret's value
        raise SystemExit(f"error: cannot write secret {name} on the local AWS endpoint: {error}") from None
    print(f"==> secret {name} (the connector's database credentials, local AWS endpoint): {outcome}",
          file=sys.stderr)
    print(ref)


def cmd_bootstrap_db(args: argparse.Namespace) -> None:
    from stack import database

    # the superuser over the private cluster's socket, or wherever the libpq variables point (Compose)
    admin = "" if os.environ.get("PGHOST") else f"host={setting('STATE_DIR')}/postgres/run port={setting('PG_PORT')} " \
        "user=postgres"
    names = database.Names(setting("PG_DATABASE"), setting("PG_SCHEMA"), setting("PG_APP_USER"),
                           setting("PG_CDC_USER"), setting("PG_PUBLICATION"))
    database.bootstrap_local(admin, names, setting("PG_APP_PASSWORD"), setting("PG_CDC_PASSWORD"))


def cmd_check_ports(args: argparse.Namespace) -> None:
    for name in args.components:
        component = components()[name]
        if probes.port_in_use(component):
            raise SystemExit(
                f"error: port {component.port} ({component.port_setting}) is already in use by another "
                f"process, so {name} cannot start; stop that process or set {component.port_setting} in .env")


def cmd_wait(args: argparse.Namespace) -> None:
    timeout = float(args.timeout or setting("READY_TIMEOUT"))
    for name in args.components:
        component = components()[name]
        waiting.wait_until(f"{name} at {component.address}", lambda c=component, n=name: probes.PROBES[n](c),
                           timeout, log_component=name)


def cmd_wait_connector(args: argparse.Namespace) -> None:
    timeout = float(args.timeout or setting("READY_TIMEOUT"))
    connect.wait_running(args.name, timeout)
    print(f"==> connector {args.name}: RUNNING", file=sys.stderr)


def cmd_wait_job(args: argparse.Namespace) -> None:
    from stack import job  # imports the Glue package (pyspark): only for this command

    timeout = float(args.timeout or setting("JOB_READY_TIMEOUT"))
    waiting.wait_until("the Glue job's first committed micro-batch", job.probe_first_batch, timeout,
                       log_component="glue")


def cmd_status(args: argparse.Namespace) -> None:
    from stack import status  # supervisord's client: not in Compose's setup image, which never asks for it

    print(status.report())


def cmd_watch(args: argparse.Namespace) -> None:
    watch.watch(args.table, args.from_beginning)


def cmd_resync(args: argparse.Namespace) -> None:
    repair.resync(args.table, args.timeout, wait=not args.no_wait)


def cmd_rebuild(args: argparse.Namespace) -> None:
    repair.rebuild(args.table, args.timeout)


def cmd_recover_slot(args: argparse.Namespace) -> None:
    repair.recover_slot(args.timeout, args.force)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    names = sorted(components())

    p = sub.add_parser("render-connector", help="print the connector config rendered from the settings")
    p.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE)
    p.set_defaults(func=cmd_render_connector)

    p = sub.add_parser("put-connector-secret",
                       help="create or update the connector's database secret (CONNECTOR_DB_SECRET) on the local "
                            "AWS endpoint; print the connector's reference to its password")
    p.set_defaults(func=cmd_put_connector_secret)

    p = sub.add_parser("bootstrap-db", help="the local cluster's roles, database and pipeline objects (idempotent)")
    p.set_defaults(func=cmd_bootstrap_db)

    p = sub.add_parser("check-ports", help="fail if a component's port is taken by another process")
    p.add_argument("components", nargs="+", choices=names)
    p.set_defaults(func=cmd_check_ports)

    p = sub.add_parser("wait", help="wait until components answer")
    p.add_argument("components", nargs="+", choices=names)
    p.add_argument("--timeout", type=float)
    p.set_defaults(func=cmd_wait)

    p = sub.add_parser("wait-connector", help="wait until a connector and its tasks are RUNNING")
    p.add_argument("name")
    p.add_argument("--timeout", type=float)
    p.set_defaults(func=cmd_wait_connector)

    p = sub.add_parser("wait-job", help="wait until the local Glue job has committed a micro-batch")
    p.add_argument("--timeout", type=float)
    p.set_defaults(func=cmd_wait_job)

    p = sub.add_parser("status", help="connector states and replication slot lag")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("watch", help="print a table's change events as they arrive")
    p.add_argument("table")
    p.add_argument("--from-beginning", action="store_true")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser("resync", help="have Debezium re-read one table (an incremental snapshot) and wait until it has")
    p.add_argument("table")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--no-wait", action="store_true", help="request it and return")
    p.set_defaults(func=cmd_resync)

    p = sub.add_parser("rebuild", help="have the running job rebuild one mirror from the change log, and wait")
    p.add_argument("table")
    p.add_argument("--timeout", type=float, default=3600)
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("recover-slot", help="replace a lost replication slot and re-read every table into the lake")
    p.add_argument("--timeout", type=float, default=3600)
    p.add_argument("--force", action="store_true", help="even when the slot is not lost")
    p.set_defaults(func=cmd_recover_slot)

    args = parser.parse_args(argv)
    try:
        args.func(args)
    except (render.RenderError, waiting.NotReady, connect.ConnectorFailed, repair.RepairFailed) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
