"""The deployed Glue job's run and connector: started, stopped, and waited for until they run."""

from __future__ import annotations

import sys
import time

import boto3

LIVE = ("STARTING", "RUNNING", "STOPPING", "WAITING")


def live_runs(glue, job: str) -> list[dict]:
    runs = glue.get_job_runs(JobName=job)["JobRuns"]
    return [r for r in runs if r["JobRunState"] in LIVE]


def start(job: str, timeout: float = 900) -> str:
    """A run of the streaming job, RUNNING: the live one if there is one (a rerun changes nothing), else a new one."""
    glue = boto3.client("glue")
    running = live_runs(glue, job)
    run_id = running[0]["Id"] if running else glue.start_job_run(JobName=job)["JobRunId"]
    print(f"==> Glue job {job}: run {run_id} {'already running' if running else 'started'}", file=sys.stderr)
    deadline = time.monotonic() + timeout
    while True:
        run = glue.get_job_run(JobName=job, RunId=run_id)["JobRun"]
        if run["JobRunState"] == "RUNNING":
            return run_id
        if run["JobRunState"] not in LIVE:
            raise SystemExit(f"error: Glue job {job} run {run_id} {run['JobRunState']}: "
                             f"{run.get('ErrorMessage', 'no message')} (its log: /aws-glue/jobs/output)")
        if time.monotonic() > deadline:
            raise SystemExit(f"error: Glue job {job} run {run_id} still {run['JobRunState']} after {timeout:.0f} s")
        time.sleep(5)


def stop(job: str, timeout: float = 900) -> None:
    """Stop every live run of the job and wait until none is left (a running streaming job holds network interfaces
    in the job's subnet and security group, which could not be deleted while it runs)."""
    glue = boto3.client("glue")
    runs = [r["Id"] for r in live_runs(glue, job)]
    if runs:
        glue.batch_stop_job_run(JobName=job, JobRunIds=runs)
        print(f"==> Glue job {job}: stopping {', '.join(runs)}", file=sys.stderr)
    deadline = time.monotonic() + timeout
    while live_runs(glue, job):
        if time.monotonic() > deadline:
            raise SystemExit(f"error: Glue job {job} still has runs {timeout:.0f} s after it was asked to stop")
        time.sleep(5)


def wait_connector(arn: str, timeout: float = 1200) -> None:
    client = boto3.client("kafkaconnect")
    deadline = time.monotonic() + timeout
    while True:
        connector = client.describe_connector(connectorArn=arn)
        state = connector["connectorState"]
        if state == "RUNNING":
            return
        if state == "FAILED" or time.monotonic() > deadline:
            reason = connector.get("stateDescription", {}).get("message", "")
            raise SystemExit(f"error: connector {connector['connectorName']} {state} {reason}".rstrip())
        time.sleep(5)
