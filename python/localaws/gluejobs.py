"""Glue job runs on the local endpoint: StartJobRun runs the job's script, downloaded from the S3 location the job
names, with its DefaultArguments (and the run's Arguments over them), through spark-submit on this machine; GetJobRun,
GetJobRuns and BatchStopJobRun report and stop the process, whose state is the run's. The jobs themselves are moto's.

What Glue gives a job and a local run gives it instead: `--extra-py-files` and `--extra-jars` are downloaded and put on
the driver's paths, `--conf` becomes spark-submit's, `--datalake-formats iceberg` is the local Iceberg jars; Glue's own
options (metrics, logs, job language) are dropped; the lake's S3, the Glue catalog and every AWS API the script calls
(AWS_ENDPOINT_URL) are this endpoint; Kafka is the local one, in plaintext (`--kafka-auth none`: MSK's TLS and IAM are
not emulated); an Aurora endpoint in `--source-jdbc-url` is the local PostgreSQL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.glue.models import glue_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from localaws import api, runtime

log = logging.getLogger("localaws")

# Glue's own job parameters (docs: "Using job parameters in AWS Glue jobs"): Glue acts on them, the script never sees
# them; those a local run acts on are handled apart
GLUE_OWN = {"--job-language", "--class", "--scriptLocation", "--extra-files", "--user-jars-first", "--TempDir",
            "--job-bookmark-option", "--enable-metrics", "--enable-observability-metrics",
            "--enable-continuous-cloudwatch-log", "--enable-continuous-log-filter", "--continuous-log-logGroup",
            "--continuous-log-logStreamPrefix", "--enable-spark-ui", "--spark-event-logs-path", "--enable-job-insights",
            "--enable-auto-scaling", "--enable-glue-datacatalog", "--enable-s3-parquet-optimized-committer",
            "--enable-rename-algorithm-v2", "--additional-python-modules", "--python-modules-installer-option",
            "--use-postgres-driver", "--datalake-formats", "--extra-py-files", "--extra-jars", "--conf"}
LIVE = ("STARTING", "RUNNING", "STOPPING")


@dataclass
class JobRun:
    id: str
    job_name: str
    arguments: dict[str, str]
    folder: str
    started: float = field(default_factory=time.time)
    pid: int | None = None
    process_start: str | None = None  # the process's start time in /proc, so a reused pid is not taken for it
    stop_requested: bool = False
    failure: str | None = None  # why it could not be started
    log: str = ""  # the job's log (STATE_DIR/logs/glue-<job>.log) and where this run's output starts in it
    log_offset: int = 0

    def state(self) -> str:
        if self.failure:
            return "FAILED"
        if self.alive():
            return "STOPPING" if self.stop_requested else "RUNNING"
        if self.stop_requested:
            return "STOPPED"
        return "SUCCEEDED" if self.exit_code() == 0 else "FAILED"

    def alive(self) -> bool:
        return self.pid is not None and _process_start(self.pid) == self.process_start

    def exit_code(self) -> int | None:
        path = Path(self.folder) / "exit_code"
        return int(path.read_text().strip() or 1) if path.exists() else None

    def describe(self, job: Any) -> dict[str, Any]:
        state = self.state()
        run = {"Id": self.id, "Attempt": 0, "JobName": self.job_name, "StartedOn": self.started,
               "LastModifiedOn": time.time(), "JobRunState": state, "Arguments": self.arguments,
               "GlueVersion": job.glue_version if job else None, "WorkerType": job.worker_type if job else None,
               "NumberOfWorkers": job.number_of_workers if job else None,
               "ExecutionTime": int(time.time() - self.started), "LogGroupName": "/aws-glue/jobs"}
        if state in ("FAILED", "SUCCEEDED", "STOPPED"):
            run["CompletedOn"] = Path(self.folder, "exit_code").stat().st_mtime if self.exit_code() is not None \
                else time.time()
        if state == "FAILED":
            run["ErrorMessage"] = self.failure or last_error(Path(self.log), self.log_offset)
        return {k: v for k, v in run.items() if v is not None}


RUNS: dict[str, JobRun] = {}  # by run id, of every account and region


def _process_start(pid: int) -> str | None:
    """The start time of a live process; None once it has ended (a child of this endpoint that ended is reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if fields[0] == "Z":
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
        return None
    return fields[19]


def last_error(path: Path, offset: int) -> str:
    """The run's last log line that reports a failure (its traceback's end), or a generic message."""
    if not path.exists():
        return "the job's process ended"
    with path.open("rb") as handle:
        handle.seek(offset)
        lines = handle.read().decode(errors="replace").splitlines()[-400:]
    for line in reversed(lines):
        if re.search(r"\b(Error|Exception)\b", line) and not line.startswith(("\tat ", "  File")):
            return " ".join(line.split())[:1000]
    return "the job's process ended with an error"


def _job(call: api.Call, name: str) -> Any:
    job = glue_backends[call.account][call.region].jobs.get(name)
    if job is None:
        raise api.AwsError(400, "EntityNotFoundException", f"Job {name} not found")
    return job


def _download(call: api.Call, uri: str, folder: Path) -> Path:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    found = s3_backends[call.account][get_partition(call.region)].get_object(bucket, key)
    if found is None:
        raise api.AwsError(400, "InvalidInputException", f"{uri} does not exist")
    path = folder / key.rsplit("/", 1)[-1]
    path.write_bytes(found.value)
    return path


def endpoint_url() -> str:
    """This endpoint, as the job reaches it (python -m localaws sets MOTO_PORT to its port)."""
    return f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '4566')}"


def command(local: runtime.Runtime, script: Path, arguments: dict[str, str], py_files: list[Path],
            jars: list[Path], endpoint: str, folder: Path) -> list[str]:
    """The spark-submit command line of a run: Glue's options turned into spark-submit's, the script's passed on."""
    import pyspark

    class_path = [str(j) for j in sorted(local.spark_jars.glob("*.jar"))] + [str(j) for j in jars]
    cmd = [str(Path(pyspark.__file__).parent / "bin" / "spark-submit"), "--master", "local[2]",
           "--name", arguments.get("--JOB_NAME", script.stem), "--driver-memory", "2g",
           "--driver-class-path", os.pathsep.join(class_path)]
    conf = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2",
            "spark.local.dir": str(folder / "tmp"), "spark.sql.warehouse.dir": str(folder / "warehouse")}
    # Glue's --conf holds one setting, or several joined by " --conf "
    for setting in re.split(r"\s+--conf\s+", arguments.get("--conf", "")):
        if "=" in setting:
            key, value = setting.split("=", 1)
            conf[key.strip()] = value.strip()
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    if py_files:
        cmd += ["--py-files", ",".join(str(p) for p in py_files)]
    script_args = {k: v for k, v in arguments.items() if k not in GLUE_OWN and k != "--JOB_NAME"}
    script_args.update({"--kafka-auth": "none", "--s3-endpoint": endpoint})
    if script_args.get("--catalog") == "glue":
        script_args["--glue-endpoint"] = endpoint
    cmd.append(str(script))
    for key, value in script_args.items():
        cmd += [key, value]
    return cmd


def local_jdbc_url(call: api.Call, url: str, local: runtime.Runtime) -> str:
    """A JDBC URL with an Aurora cluster's endpoint (and port) replaced by the local PostgreSQL's."""
    found = re.match(r"(jdbc:postgresql://)([^:/]+)(?::\d+)?(/.*)?$", url)
    if not found or not runtime.is_aurora_endpoint(call.account, call.region, found.group(2)):
        return url
    return f"{found.group(1)}{local.postgres_address}{found.group(3) or ''}"


def launch(call: api.Call, job: Any, arguments: dict[str, str]) -> JobRun:
    local = runtime.current()
    run_id = f"jr_{uuid.uuid4().hex}"
    folder = local.runs_dir / run_id
    folder.mkdir(parents=True)
    run = JobRun(run_id, job.name, arguments, str(folder))
    if "--source-jdbc-url" in arguments:
        arguments = {**arguments, "--source-jdbc-url": local_jdbc_url(call, arguments["--source-jdbc-url"], local)}
    try:
        script = _download(call, job.command["ScriptLocation"], folder)
        py_files = [_download(call, u, folder) for u in arguments.get("--extra-py-files", "").split(",") if u]
        jars = [_download(call, u, folder) for u in arguments.get("--extra-jars", "").split(",") if u]
        cmd = command(local, script, arguments, py_files, jars, endpoint_url(), folder)
    except api.AwsError as error:
        run.failure = error.message
        return run
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the job's code is the package it was given
    env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": call.region,
                "AWS_ENDPOINT_URL": endpoint_url(), "PYSPARK_PYTHON": sys.executable})
    log_path = local.logs_dir / f"glue-{job.name}.log"
    with log_path.open("ab") as job_log:
        run.log, run.log_offset = str(log_path), job_log.tell()
        job_log.write(f"==> job run {run_id}: {shlex.join(cmd)}\n".encode())
    # the exit code is written beside the run when it ends, so a restarted endpoint still knows how it ended; a
    # session of its own, so that BatchStopJobRun stops Spark's whole process group, and the endpoint's death does not
    env.update({"JOB_RUN_LOG": str(log_path), "JOB_RUN_EXIT": str(folder / "exit_code")})
    wrapper = ["sh", "-c", '"$@" >> "$JOB_RUN_LOG" 2>&1; echo $? > "$JOB_RUN_EXIT"', "job-run", *cmd]
    process = subprocess.Popen(wrapper, env=env, cwd=folder, start_new_session=True, stdin=subprocess.DEVNULL)
    run.pid, run.process_start = process.pid, _process_start(process.pid)
    (folder / "pid").write_text(f"{process.pid}\n")  # for make teardown and local-down, which stop live runs
    log.info("job run %s of %s started (pid %d)", run_id, job.name, process.pid)
    return run


def start_job_run(call: api.Call) -> dict[str, Any]:
    job = _job(call, call.body["JobName"])
    if runtime.current() is None:
        raise api.AwsError(400, "InvalidInputException", "no local runtime behind this endpoint to run jobs")
    running = [r for r in RUNS.values() if r.job_name == job.name and r.state() in LIVE]
    if len(running) >= (job.execution_property or {}).get("MaxConcurrentRuns", 1):
        raise api.AwsError(400, "ConcurrentRunsExceededException",
                           f"Concurrent runs exceeded for {job.name}: {', '.join(r.id for r in running)}")
    run = launch(call, job, {**job.default_arguments, **call.body.get("Arguments", {})})
    RUNS[run.id] = run
    return {"JobRunId": run.id}


def _run(call: api.Call, name: str, run_id: str) -> JobRun:
    run = RUNS.get(run_id)
    if run is None or run.job_name != name:
        raise api.AwsError(400, "EntityNotFoundException", f"Job run {run_id} of {name} not found")
    return run


def get_job_run(call: api.Call) -> dict[str, Any]:
    job = _job(call, call.body["JobName"])
    return {"JobRun": _run(call, job.name, call.body["RunId"]).describe(job)}


def get_job_runs(call: api.Call) -> dict[str, Any]:
    job = _job(call, call.body["JobName"])
    runs = sorted((r for r in RUNS.values() if r.job_name == job.name), key=lambda r: r.started, reverse=True)
    return {"JobRuns": [r.describe(job) for r in runs]}


def batch_stop_job_run(call: api.Call) -> dict[str, Any]:
    name, stopped, errors = call.body["JobName"], [], []
    for run_id in call.body["JobRunIds"]:
        run = RUNS.get(run_id)
        if run is None or run.job_name != name:
            errors.append({"JobName": name, "JobRunId": run_id,
                           "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "not found"}})
            continue
        if run.alive():
            run.stop_requested = True
            os.killpg(run.pid, signal.SIGTERM)
        stopped.append({"JobName": name, "JobRunId": run_id})
    return {"SuccessfulSubmissions": stopped, "Errors": errors}


TARGETS = {"AWSGlue.StartJobRun": start_job_run, "AWSGlue.GetJobRun": get_job_run,
           "AWSGlue.GetJobRuns": get_job_runs, "AWSGlue.BatchStopJobRun": batch_stop_job_run}
