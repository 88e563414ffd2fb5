"""SQLite's writers: the web door's worker processes queue on a lock file beside the
database (the kernel hands it on at once), not in SQLite's busy handler."""

from __future__ import annotations

import fcntl
import multiprocessing
import time
from multiprocessing.synchronize import Event
from pathlib import Path

from sqlalchemy import text

from models.store import db


def _held(lock_file: Path) -> bool:
    """Whether some other holder has the lock file (a new open file is another holder,
    even in this process)."""
    with open(lock_file, "a") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(other, fcntl.LOCK_UN)
        return False


def test_a_web_workers_write_session_holds_the_shared_lock_until_the_outermost_ends(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    lock_file = tmp_path / "campaign.db.writers.lock"
    with db.session_for(url) as session:  # a process that did not opt in: no lock file
        session.execute(text("SELECT 1"))
    assert not lock_file.exists()

    db.queue_writers_across_processes(url)
    with db.session_for(url):
        assert _held(lock_file)
        with db.session_for(url):  # a nested write session of the same thread
            assert _held(lock_file)
        assert _held(lock_file)  # the inner end did not free it for the others
    assert not _held(lock_file)
    with db.read_session_for(url):  # a reader queues for nothing
        assert not _held(lock_file)


def _hold_for(url: str, seconds: float, entered: Event, released: Event) -> None:
    db.queue_writers_across_processes(url)
    with db.session_for(url) as session:
        session.execute(text("CREATE TABLE IF NOT EXISTS mark (at REAL)"))
        entered.set()
        time.sleep(seconds)
        session.execute(text("INSERT INTO mark VALUES (:at)"), {"at": time.time()})
    released.set()


def test_another_workers_write_waits_for_the_first_and_sees_what_it_wrote(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'campaign.db'}"
    db.ensure_schema(db.get_engine(url))
    spawn = multiprocessing.get_context("spawn")  # as uvicorn starts its workers
    entered, released = spawn.Event(), spawn.Event()
    other = spawn.Process(target=_hold_for, args=(url, 1.0, entered, released))
    other.start()
    try:
        assert entered.wait(60), "the other worker never began its write"
        assert _held(tmp_path / "campaign.db.writers.lock")  # its write holds the queue
        db.queue_writers_across_processes(url)
        with db.session_for(url) as session:
            written = session.execute(text("SELECT count(*) FROM mark")).scalar_one()
        assert written == 1  # in only once the other's write was committed
        assert released.wait(60)
    finally:
        other.join(60)
    assert other.exitcode == 0
