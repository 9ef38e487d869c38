"""Scheduled Glue triggers on the local endpoint (python/localaws/gluetriggers.py): a due trigger runs its job for
real, through the endpoint started in-process, as the lake's maintenance job is run on a deployment."""

import threading
import time
from datetime import UTC, datetime, timedelta

import boto3
import pytest

from localaws import gluetriggers, runtime
from localaws.server import server


@pytest.fixture
def glue(tmp_path):
    runtime.configure(runtime.Runtime("", "127.0.0.1:1", "127.0.0.1:1", "http://127.0.0.1:1", tmp_path,
                                      tmp_path / "runs", tmp_path))
    httpd = server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def client(service):
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{httpd.server_port}", region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    s3 = client("s3")
    s3.create_bucket(Bucket="artifacts")
    s3.put_object(Bucket="artifacts", Key="glue/round.py", Body=b"import sys\nprint('round', sys.argv[1:])\n")
    glue = client("glue")
    glue.create_job(Name="upkeep", Role="arn:aws:iam::123456789012:role/glue", GlueVersion="5.0",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://artifacts/glue/round.py"},
                    DefaultArguments={"--database": "shop"})
    yield glue
    httpd.shutdown()
    thread.join()
    runtime.configure(None)


def test_glue_cron_expressions_read_as_five_field_cron():
    assert gluetriggers.cron_of("cron(0/30 * * * ? *)") == "0/30 * * * *"
    assert gluetriggers.cron_of("cron(15 12 ? * MON-FRI *)") == "15 12 * * MON-FRI"
    assert gluetriggers.cron_of("cron(0 10 ? * 2 *)") == "0 10 * * 1"  # Glue's 2 is Monday
    with pytest.raises(ValueError, match="not a Glue cron expression"):
        gluetriggers.cron_of("rate(5 minutes)")


def test_a_schedule_is_due_once_per_time_it_names():
    half_past = datetime(2026, 12, 2, 5, 30, tzinfo=UTC)
    assert gluetriggers.due("cron(0/30 * * * ? *)", half_past - timedelta(seconds=10), half_past)
    assert not gluetriggers.due("cron(0/30 * * * ? *)", half_past, half_past + timedelta(seconds=10))


def test_a_due_scheduled_trigger_runs_its_job_and_an_inactive_one_does_not(glue, tmp_path):
    glue.create_trigger(Name="every-minute", Type="SCHEDULED", Schedule="cron(* * * * ? *)",
                        Actions=[{"JobName": "upkeep"}], StartOnCreation=True)
    glue.create_trigger(Name="not-started", Type="SCHEDULED", Schedule="cron(* * * * ? *)",
                        Actions=[{"JobName": "upkeep"}], StartOnCreation=False)
    now = datetime.now(UTC)
    (run_id,) = gluetriggers.fire(now - timedelta(minutes=1), now)
    deadline = time.monotonic() + 120
    while (run := glue.get_job_run(JobName="upkeep", RunId=run_id)["JobRun"])["JobRunState"] == "RUNNING":
        assert time.monotonic() < deadline, "the run did not end"
        time.sleep(0.5)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    assert "round ['--database', 'shop'" in (tmp_path / "glue-upkeep.log").read_text()
    assert [r["Id"] for r in glue.get_job_runs(JobName="upkeep")["JobRuns"]] == [run_id]
