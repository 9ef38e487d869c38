"""Command line: `python -m deploy <command>`, what Terraform's provisioners and `make aws-apply`/`aws-destroy` run
(terraform/modules/bootstrap and glue; the Makefile), and the steps of a CloudFormation deployment (`--stack NAME`
takes every name from the stack's outputs and parameters). The AWS endpoint, region and credentials are boto3's usual
(AWS_ENDPOINT_URL=http://127.0.0.1:4566 for the local one)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

# command -> (what it needs, what it does)
COMMANDS = {
    "bootstrap": (("cluster_arn", "master_secret_arn", "cdc_secret_arn", "database", "schema", "cdc_user",
                   "publication"), "the database's roles and objects, through the RDS Data API"),
    "teardown": (("cluster_arn", "master_secret_arn", "database", "slot", "publication", "cdc_user"),
                 "drop the deployment's slot, publication and role, through the RDS Data API"),
    "start-job": (("job_name",), "start the Glue job's run (unless one runs) and wait until it runs"),
    "stop-job": (("job_name",), "stop the Glue job's runs and wait until they have stopped"),
}


def run(command: str, values: dict[str, str]) -> None:
    from deploy import database, jobs

    if command == "bootstrap":
        database.bootstrap(**values)
    elif command == "teardown":
        database.teardown(**values)
    elif command == "start-job":
        jobs.start(values["job_name"])
    else:
        jobs.stop(values["job_name"])


def ready(outputs: Path) -> None:
    """Wait until the connector and its task run and the job's run runs; then say where to look."""
    from deploy import jobs

    out = json.loads(outputs.read_text())["pipeline"]["value"]
    if out.get("connector_arn"):
        jobs.wait_connector(out["connector_arn"])
        print(f"==> connector {out['connector_name']}: RUNNING", file=sys.stderr)
    jobs.start(out["glue_job_name"])
    print(f"""
The pipeline is deployed and changes flow:
  lake tables   Glue database {out['glue_database']} in s3://{out['lake_bucket']}/warehouse (Athena workgroup \
{out.get('athena_workgroup')})
  logs          the job's: /aws-glue/jobs/output ({out['glue_job_name']}); the connector's: \
{out.get('connector_log_group')}
  dashboard     {out.get('dashboard_name')}; alarms to {out.get('alarm_topic_arn')}
""")


def check_destroy(outputs: Path) -> None:
    """Refuse a destroy that deletion protection would stop halfway (Aurora refuses, after the rest is gone)."""
    deployed = json.loads(outputs.read_text()).get("pipeline", {}).get("value", {})
    if deployed.get("deletion_protection"):
        raise SystemExit("error: this deployment has deletion protection on: first run make aws-apply TARGET=aws "
                         "TF_ARGS='-var deletion_protection=false', then make aws-destroy TARGET=aws again")


def sql(outputs: Path, text: str) -> None:
    from deploy import athena

    out = json.loads(outputs.read_text())["pipeline"]["value"]
    print(athena.table(athena.query(out["athena_workgroup"], out["glue_database"], text)))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command, (needs, text) in COMMANDS.items():
        p = sub.add_parser(command, help=text)
        p.add_argument("--stack", help="a CloudFormation stack of cloudformation.yaml: every name from it")
        for name in needs:
            p.add_argument(f"--{name.replace('_', '-')}", dest=name)
    p = sub.add_parser("ready", help="wait until the connector and the job run, then say where to look")
    p.add_argument("--outputs", type=Path, required=True, help="`terraform output -json` of the root")
    p = sub.add_parser("check-destroy", help="refuse to destroy a deployment with deletion protection on")
    p.add_argument("--outputs", type=Path, required=True, help="`terraform output -json` of the root")
    p = sub.add_parser("sql", help="run a query over the deployed lake through its Athena workgroup")
    p.add_argument("--outputs", type=Path, required=True, help="`terraform output -json` of the root")
    p.add_argument("query")
    args = parser.parse_args(argv)
    try:
        if args.command == "ready":
            ready(args.outputs)
        elif args.command == "check-destroy":
            check_destroy(args.outputs)
        elif args.command == "sql":
            sql(args.outputs, args.query)
        else:
            needs = COMMANDS[args.command][0]
            values = {name: getattr(args, name) for name in needs if getattr(args, name) is not None}
            if args.stack:
                from deploy import stack

                values = {**{k: v for k, v in stack.values(args.stack).items() if k in needs}, **values}
            missing = [f"--{n.replace('_', '-')}" for n in needs if n not in values]
            if missing:
                parser.error(f"{args.command} needs {', '.join(missing)} (or --stack)")
            run(args.command, values)
    except (BotoCoreError, ClientError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
