"""``python -m cloudsim``: run the simulator."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import fields

from werkzeug.serving import make_server

from .app import Config, Simulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m cloudsim", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8776, help="0 picks a free port")
    p.add_argument(
        "--seed",
        choices=("demo", "empty"),
        default="empty",
        help="demo: volumes and ~40 snapshots; empty: projects and users only",
    )
    p.add_argument(
        "--seed-snapshots",
        type=int,
        default=0,
        metavar="N",
        help="add N snapshots over the demo volumes",
    )
    p.add_argument(
        "--seed-projects",
        type=int,
        default=0,
        metavar="P",
        help="put the --seed-snapshots in P projects of their own (one volume each)",
    )
    p.add_argument(
        "--state",
        default=None,
        metavar="FILE",
        help="keep the state in this SQLite file (default: in memory)",
    )
    p.add_argument("--password", default="secret", help="password of every demo user")
    p.add_argument("--create-delay", type=float, default=3.0, metavar="SECONDS")
    p.add_argument("--delete-delay", type=float, default=2.0, metavar="SECONDS")
    p.add_argument("--token-ttl", type=float, default=3600.0, metavar="SECONDS")
    p.add_argument("--latency-ms", type=int, default=0)
    p.add_argument(
        "--snapshot-quota", type=int, default=100000, help="snapshots per project (-1 = unlimited)"
    )
    p.add_argument(
        "--like-filters",
        action="store_true",
        help='list "name~" and "description~" in the snapshot filters non-admins may use',
    )
    p.add_argument("--log-requests", action="store_true", help="log every request on stderr")
    p.add_argument(
        "--notify-url",
        default="",
        help="publish Cinder's notifications (messagingv2) to this bus: amqp://, redis:// or "
        "filesystem:///folder",
    )
    p.add_argument(
        "--gigabytes-quota",
        type=int,
        default=-1,
        help="GiB per project for volumes and snapshots (-1 = unlimited)",
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # every Config field has the option of the same name (--create-delay: create_delay)
    config = Config(**{f.name: getattr(args, f.name) for f in fields(Config)})
    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    sim = Simulator(config)
    server = make_server(args.host, args.port, sim, threaded=True)
    host = args.host
    print(f"cloudsim listening on http://{host}:{server.server_port}", flush=True)
    print(f"cloudsim seeded in {sim.seed_seconds:.2f} s", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
