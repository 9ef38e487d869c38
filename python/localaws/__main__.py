"""python -m localaws -H 127.0.0.1 -p 4566: the local AWS endpoint (the `aws` program of config/supervisord.conf)."""

import argparse
import logging
import os
from pathlib import Path

from localaws.server import server


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localaws", description=__doc__)
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("-p", "--port", type=int, default=4566, help="port to listen on (default: %(default)s)")
    parser.add_argument("--state-dir", type=Path,
                        help="keep the state in this folder and restore it from there at start (default: in memory)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # moto builds some URLs it returns (SQS queue URLs, for one) from MOTO_PORT, as moto_server sets it
    os.environ.setdefault("MOTO_PORT", str(args.port))
    httpd = server(args.host, args.port, args.state_dir)
    kept = f", state in {args.state_dir}" if args.state_dir else ", state in memory only"
    print(f"localaws: moto with localaws' additions on http://{args.host}:{httpd.server_port}{kept}", flush=True)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
