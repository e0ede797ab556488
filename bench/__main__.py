"""`python -m bench [--quick]`: set up the database, run every part, print the table, write the
results file. A part that cannot run reports its figures as "not available: <why>"."""

from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import config, database, report, yardstick


def _part(details: dict, name: str, only: set[str], run, *, rounds: int) -> None:
    if only and name not in only:
        details[name] = {"error": "not run (--only)"}
        return
    speed_before = yardstick.template_ms(rounds)
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    print(f"· {name} …", flush=True)
    try:
        details[name] = run()
    except Exception as error:  # noqa: BLE001 (a broken part must not hide the others)
        traceback.print_exc()
        details[name] = {"error": f"{type(error).__name__}: {error}"}
    details[name]["part_seconds"] = round(time.monotonic() - started, 1)
    # Anything else running on the machine skews the figures: the load says how much.
    details[name]["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    # And the machine's own speed before and after (it can halve for seconds on a shared host,
    # with no other load on it): a part measured in a slow phase says so.
    details[name]["template_ms"] = [speed_before, yardstick.template_ms(rounds)]
    print(
        f"  {name}: {details[name]['part_seconds']} s; the yardstick "
        f"{speed_before} -> {details[name]['template_ms'][1]} ms",
        flush=True,
    )


def _ensure_wrk() -> None:
    """wrk is a Debian package: installed when missing and we may (else the Python client)."""
    if shutil.which("wrk") is None:
        subprocess.run(  # noqa: S603 (the project's own script)
            [str(config.ROOT / "scripts" / "ensure-system-packages.sh"), "wrk"], check=False
        )


def main(argv=None) -> int:
    args = config.parse_args(argv)
    _ensure_wrk()
    size = config.SIZES[args.size]
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    smtp_port = config.free_port()
    env = config.environment(args, smtp_port=smtp_port)
    os.environ.update(env)
    print(
        f"PolicyFlow benchmark, size {size.name}: {size.municipalities} municipalities, "
        f"{size.events:,} audit events; database {config.database_name(args.database_url)}",
        flush=True,
    )
    generation_seconds, generated = database.prepare(
        env,
        url=args.database_url,
        seed=args.seed,
        municipalities=size.municipalities,
        events=size.events,
        fresh=args.fresh,
    )
    print(f"· data: {generated}", flush=True)
    # Every run on a copy of the generated data, dropped at the end: earlier runs' steps and
    # emails never count in this one's.
    run_url, clone_seconds = database.clone(args.database_url)
    env["DATABASE_URL"] = run_url
    os.environ.update(env)
    print(f"· the run's copy: {config.database_name(run_url)} ({clone_seconds:.1f} s)", flush=True)
    try:
        return _run(args, env, size, only, smtp_port, generation_seconds, generated, clone_seconds)
    finally:
        from django.db import connections

        connections.close_all()
        database.drop_copy(args.database_url)


def _run(args, env, size, only, smtp_port, generation_seconds, generated, clone_seconds) -> int:
    if os.getloadavg()[0] > 1.0:
        print(
            f"  note: load average {os.getloadavg()[0]:.1f}: other work on this machine "
            "slows every figure (recorded with each part)",
            flush=True,
        )

    import django

    django.setup()
    from django.db import connection
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (viewflow nodes reverse URLs)
    from . import export, notifications, pages, steps, verify, writers

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        postgresql = cursor.fetchone()[0].split(" on ")[0]
    user = pages.bench_user()
    template_ms = yardstick.template_ms(size.yardstick_rounds)
    print(f"· the machine: {template_ms} ms a rendering of the yardstick template", flush=True)
    details: dict = {}
    rounds = size.yardstick_rounds
    # Read-only parts first, on exactly the generated data; then the parts that write.
    _part(details, "verify", only, lambda: verify.measure(env), rounds=rounds)
    _part(
        details,
        "export",
        only,
        lambda: export.measure(env, user_id=user.pk),
        rounds=rounds,
    )
    _part(
        details,
        "pages",
        only,
        lambda: pages.measure(
            env, workers=args.workers, connections=args.connections, seconds=size.page_seconds
        ),
        rounds=rounds,
    )
    _part(
        details,
        "step",
        only,
        lambda: steps.measure(steps=size.steps, leader_username=pages.BENCH_USERNAME),
        rounds=rounds,
    )
    _part(
        details,
        "writers",
        only,
        lambda: writers.measure(leader_username=pages.BENCH_USERNAME, seconds=size.writer_seconds),
        rounds=rounds,
    )
    with tempfile.TemporaryDirectory(prefix="pf-bench-") as workdir:
        _part(
            details,
            "notifications",
            only,
            lambda: notifications.measure(
                env,
                smtp_port=smtp_port,
                drain=size.notifications,
                latency=size.latency_messages,
                rate=size.latency_rate,
                workdir=Path(workdir),
            ),
            rounds=rounds,
        )
    figures = report.figures_from(details)
    assessed = report.assess(figures)
    results = {
        "run_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "size": size.__dict__,
        "machine": report.machine(postgresql, template_ms=template_ms),
        "data": {
            "database": config.database_name(env["DATABASE_URL"]),
            "copy_of": config.database_name(args.database_url),
            "copy_seconds": round(clone_seconds, 1),
            "seed": args.seed,
            "generated_seconds": round(generation_seconds, 1) if generation_seconds else None,
            "generator": generated,
        },
        "figures": assessed,
        "targets_missed": [n for n, e in assessed.items() if e.get("met") is False],
        "details": details,
    }
    report.write(args.output, results)
    print()
    print(report.table(assessed))
    if layout := report.layout_line(assessed):
        print(f"\n{layout}")
    if paced := report.paced_mail_line(details):
        print(f"\n{paced}")
    print(f"\n{report.machine_line(results['machine'])}")
    if slow := report.slow_phase_line(details, results["machine"]):
        print(f"\n{slow}")
    print(f"\nResults written to {args.output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
