"""python -m localaws -H 127.0.0.1 -p 4566: the local AWS endpoint (the `aws` program of config/supervisord.conf)."""

import argparse
import logging
import os
from pathlib import Path

from localaws.gluetriggers import Scheduler
from localaws.runtime import Runtime, configure
from localaws.server import server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localaws", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("-p", "--port", type=int, default=4566, help="port to listen on (default: %(default)s)")
    parser.add_argument("--state-dir", type=Path,
                        help="keep the state in this folder and restore it from there at start (default: in memory)")
    local = parser.add_argument_group("what runs behind the APIs (all or none; without: resources only)")
    local.add_argument("--postgres-admin", metavar="DSN", help="a superuser's libpq connection string (no dbname): "
                       "the Data API's statements run there")
    local.add_argument("--postgres", metavar="HOST:PORT", help="where Kafka Connect reaches PostgreSQL: every Aurora "
                       "cluster's endpoint in a connector's configuration maps here")
    local.add_argument("--kafka", metavar="HOST:PORT", help="the local Kafka: every MSK cluster's brokers")
    local.add_argument("--connect", metavar="URL", help="the Kafka Connect worker MSK Connect connectors run on")
    local.add_argument("--spark-jars", type=Path, metavar="DIR", help="the jars a Glue job run gets")
    local.add_argument("--logs-dir", type=Path, metavar="DIR", help="where a Glue job's output goes (glue-<job>.log)")
    args = parser.parse_args()
    given = [args.postgres_admin, args.postgres, args.kafka, args.connect, args.spark_jars, args.logs_dir]
    if any(given) and not (all(given) and args.state_dir):
        parser.error("--postgres-admin, --postgres, --kafka, --connect, --spark-jars, --logs-dir and --state-dir go "
                     "together")
    if all(given):
        configure(Runtime(args.postgres_admin, args.postgres, args.kafka, args.connect, args.spark_jars,
                          args.state_dir / "runs", args.logs_dir))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # moto builds some URLs it returns (SQS queue URLs, for one) from MOTO_PORT, as moto_server sets it
    os.environ.setdefault("MOTO_PORT", str(args.port))
    httpd = server(args.host, args.port, args.state_dir)
    if all(given):  # scheduled triggers start job runs, which need the runtime
        Scheduler(httpd.app).start()
    kept = f", state in {args.state_dir}" if args.state_dir else ", state in memory only"
    print(f"localaws: moto with localaws' additions on http://{args.host}:{httpd.server_port}{kept}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
