"""A CSV export of the audit trail made in parts, each part in a process of its own over its
own range of ids, every part reading the same snapshot of the database: PostgreSQL's exported
snapshot (``pg_export_snapshot`` / ``SET TRANSACTION SNAPSHOT``, what ``pg_dump --jobs`` reads
with). The file is the one a single process writes: the parts in id order, byte for byte.

Each line costs Python time (the names put back, the changes in words), so a worker with cores
to spare makes a big export in a fraction of the time. The processes are forked from the job's
process (Linux), after its own connection to the database is closed: each opens its own, and
never touches a connection of the job's. Each part is a stream of blocks as `stream_csv` sends
them, into a temporary file of its own: memory stays that of one block per process.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import traceback

import billiard
from django.db import connections, transaction

from audit import reading

# How long a part's process may take to start reading the snapshot.
START_SECONDS = 120
_MAX_ID = 2**63 - 1  # the last part's upper bound (a bigint id)


def possible(using: str) -> bool:
    """Parts need PostgreSQL's snapshots, a fork, and no transaction of the caller's open (the
    other processes would not see what it wrote, and its connection must close first)."""
    connection = connections[using]
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and "fork" in billiard.get_all_start_methods()
    )


def _begin(cursor, snapshot: str | None = None) -> None:
    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    if snapshot is not None:
        reading.set_snapshot(cursor, snapshot)


def _lines(block: str) -> int:
    # A cell never holds a line break as it is: `csv_row`'s line breaks are inside quotes,
    # and the progress only needs to be about right.
    return block.count("\r\n")


def _run_part(pipe, stream, queryset, target, counter) -> None:
    """A forked process's part: wait for the snapshot, read it, write the part's blocks."""
    using = queryset.db
    # The job's connection was closed before the fork: this one is the part's own.
    try:
        snapshot, low, high = pipe.recv()
        with transaction.atomic(using=using):
            with connections[using].cursor() as cursor:
                _begin(cursor, snapshot)
            pipe.send(("reading", None))
            for block in stream(queryset.filter(id__gt=low, id__lte=high), header=False):
                target.write(block.encode())
                with counter.get_lock():
                    counter.value += _lines(block)
        target.flush()
        pipe.send(("done", None))
    except BaseException:  # noqa: BLE001 (told to the job's process, which fails the job)
        pipe.send(("failed", traceback.format_exc()))
    finally:
        connections[using].close()


class PartFailed(RuntimeError):
    pass


def write(stream, queryset, *, processes: int, total: int, target, progress) -> None:
    """Write ``stream(queryset, header=...)``'s blocks to the binary file ``target``, the events
    split into ``processes`` id ranges of about the same size, read in parallel.

    ``total``: the number of events as the caller counted them. The parts' bounds are taken at
    its fractions in the snapshot, without counting them again (~0.4 s for a million events,
    while the parts wait): events written meanwhile only make the last part a little longer.

    ``progress(done)`` is called after each block of the job's own part, with the lines done
    by every part so far."""
    using = queryset.db
    # Celery's multiprocessing (billiard): a worker's pool process, a daemon, may have children
    # there (the standard library's refuses).
    context = billiard.get_context("fork")
    # Nothing of the job's connection crosses the fork (a shared socket would mix replies).
    connections[using].close()
    workers = []
    with contextlib.ExitStack() as files:
        try:
            _run(stream, queryset, processes, total, target, progress, context, files, workers)
        finally:
            for process, pipe, _file, _counter in workers:
                if process.is_alive():
                    # billiard's processes have no kill(): SIGTERM ends a part's reading.
                    process.terminate()
                process.join()
                pipe.close()


def _run(stream, queryset, processes, total, target, progress, context, files, workers) -> None:
    using = queryset.db
    for _ in range(processes - 1):
        ours, theirs = context.Pipe()
        part_file = files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (the stack closes it)
        counter = context.Value("l", 0)  # a C long: 64 bits on Linux
        process = context.Process(
            target=_run_part, args=(theirs, stream, queryset, part_file, counter), daemon=True
        )
        process.start()
        theirs.close()
        workers.append((process, ours, part_file, counter))
    with transaction.atomic(using=using):
        with connections[using].cursor() as cursor:
            _begin(cursor)
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
        # The parts' bounds, in the snapshot: the ids at every 1/processes of the events.
        ids = queryset.order_by("id").values_list("id", flat=True)
        if total >= processes:
            bounds = [ids[total * k // processes - 1] for k in range(1, processes)]
        else:  # nothing to share: the job's own part is every event
            bounds = [_MAX_ID] * (processes - 1)
        for (_p, pipe, _f, _c), low, high in zip(
            workers, bounds, [*bounds[1:], _MAX_ID], strict=True
        ):
            pipe.send((snapshot, low, high))
        for process, pipe, _f, _c in workers:
            _expect(process, pipe, "reading")  # the snapshot is theirs: ours may end
        own = 0
        for block in stream(queryset.filter(id__lte=bounds[0]), header=True):
            target.write(block.encode())
            own += _lines(block)
            progress(own + sum(counter.value for *_x, counter in workers))
    for process, pipe, part_file, _c in workers:
        while not pipe.poll(5):  # the job's progress (its heartbeat) goes on meanwhile
            progress(own + sum(counter.value for *_x, counter in workers))
        _expect(process, pipe, "done")
        process.join()
        part_file.seek(0)
        shutil.copyfileobj(part_file, target, 1 << 20)


def _expect(process, pipe, state: str) -> None:
    if not pipe.poll(START_SECONDS if state == "reading" else None):
        raise PartFailed(f"A part of the export did not start (exit code {process.exitcode}).")
    try:
        told, detail = pipe.recv()
    except EOFError:
        told, detail = "failed", f"exit code {process.exitcode}"
    if told != state:
        raise PartFailed(f"A part of the export failed: {detail}")
