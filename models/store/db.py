"""Engines, sessions, migrations on first use, and bulk writes that converge.

SQLite is the embedded default and PostgreSQL the scaled one; both go through here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from sqlalchemy import Engine, Executable, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, CursorResult, Result
from sqlmodel import Session

from models.errors import NotFound

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_engines: dict[str, Engine] = {}
_upgraded: set[str] = set()
_lock = threading.Lock()
# Connections a process may hold at once: a web worker's request threads each hold one and
# may open a second (a campaign's organization read while parsing it); the pool must not
# run dry under them (models/store/door.py's callers run at most CAMPAIGN_WEB_THREADS).
POOL: dict[str, Any] = {"pool_size": 10, "max_overflow": 30}
# Any constant will do; it only has to be the same for every process migrating one database.
_PG_MIGRATION_LOCK = 7_202_613


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # We issue BEGIN ourselves (below): pysqlite's own deferred BEGIN lets two writers read
    # the same state and then fail or diverge when both try to write.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Every SQLite transaction takes the write lock up front: writers queue (busy_timeout)
    instead of failing, and a read-then-write (claims, the audit chain) cannot interleave."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def get_engine(url: str) -> Engine:
    """One engine per URL for the process; the SQLite folder is made on first use."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
                engine = create_engine(url, connect_args={"timeout": 30}, **POOL)
                event.listen(engine, "connect", _sqlite_pragmas)
                event.listen(engine, "begin", _sqlite_begin_immediate)
            else:
                engine = create_engine(url, pool_pre_ping=True, **POOL)
            _engines[url] = engine
        return engine


# Alembic is imported where it is used: it costs half a second of every command's start-up.
def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> str | None:
    """Apply every migration not yet applied; safe when several processes start together."""
    from alembic import command

    config = alembic_config()
    sqlite = engine.dialect.name == "sqlite"
    with _sqlite_file_lock(engine), engine.connect() as connection:
        if sqlite:
            # SQLite's batch migrations copy a table and drop the old one, which the foreign
            # keys of the tables referring to it refuse; the pragma is ignored inside a
            # transaction, so it is set on the raw connection before ours begins, and the
            # keys are checked whole before the commit instead.
            raw_connection(connection).execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK}
                    )
                if current_revision(connection) != head_revision():
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                        if broken:
                            raise RuntimeError(f"migration broke foreign keys: {broken[:5]}")
                revision = current_revision(connection)
        finally:
            if sqlite:
                raw_connection(connection).execute("PRAGMA foreign_keys=ON")
        return revision


def raw_connection(connection: Connection) -> Any:
    """The driver's own connection under SQLAlchemy's (sqlite3 or psycopg): Any, as the
    bulk paths call each driver's own API (executemany, COPY)."""
    return connection.connection.dbapi_connection


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """SQLite has no advisory lock: a lock file beside the database serializes migrations."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_schema(engine: Engine) -> None:
    """Migrate once per process and database: the first use of a database creates it."""
    key = str(engine.url)
    if key in _upgraded:
        return
    upgrade(engine)
    _upgraded.add(key)


def dispose_all() -> None:
    """Close every pool (tests, and the end of CLI commands)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
        _upgraded.clear()


def _sqlite_begin_deferred(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN")


def get_reader(url: str) -> Engine:
    """An engine for reads that take no write lock: on SQLite its transactions begin
    deferred (in WAL mode a reader never waits for a writer), so a lookup made while the
    caller holds a write transaction does not wait on itself. Elsewhere, the engine."""
    if not url.startswith("sqlite:///"):
        return get_engine(url)
    key = f"{url}#reader"
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = create_engine(url, connect_args={"timeout": 30}, **POOL)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin_deferred)
            _engines[key] = engine
        return engine


def _autocommit_reader(url: str) -> Engine:
    """The engine's pool with each statement its own transaction (no BEGIN, no ROLLBACK)."""
    key = f"{url}#autocommit"
    with _lock:
        engine = _engines.get(key)
    if engine is None:
        engine = get_engine(url).execution_options(isolation_level="AUTOCOMMIT")
        with _lock:
            _engines.setdefault(key, engine)
    return engine


@contextmanager
def read_session_for(url: str, *, snapshot: bool = True) -> Iterator[Session]:
    """A session for reading only (see get_reader); rolled back at the end. `snapshot=False`
    on PostgreSQL: each statement sees what is committed when it runs, and the transaction's
    two round trips are saved (the web door's page reads, a few small queries each)."""
    ensure_schema(get_engine(url))
    engine = get_reader(url) if snapshot or url.startswith("sqlite") else _autocommit_reader(url)
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


class _SqliteWriters:
    """SQLite has one writer. Threads of one process that wait for it in SQLite's busy
    handler sleep in growing steps (up to 100 ms) and wake late, so under load a write
    waited far longer than the writes before it took. They queue here instead and are woken
    at once. Processes that share the queue (`queue_writers_across_processes`: the web
    door's workers) also queue on a lock file beside the database, which the kernel hands
    on at once; the others still wait in the busy handler. Re-entrant: a thread's nested
    write session proceeds as it did before (the file is locked by the outermost only)."""

    def __init__(self, database: str) -> None:
        self.threads = threading.RLock()
        self.lock_file = f"{database}.writers.lock"
        self.shared = False
        self._depth = 0
        self._handle: Any = None
        self._locked = False  # the file, by the outermost holder (`shared` may change between)

    def __enter__(self) -> None:
        self.threads.acquire()
        if self.shared and self._depth == 0:
            try:
                if self._handle is None:
                    self._handle = open(self.lock_file, "a")  # kept open for the process
                fcntl.flock(self._handle, fcntl.LOCK_EX)
            except BaseException:
                self.threads.release()
                raise
            self._locked = True
        self._depth += 1

    def __exit__(self, *_: object) -> None:
        self._depth -= 1
        if self._locked and self._depth == 0:
            self._locked = False
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        self.threads.release()


_sqlite_writers: dict[str, _SqliteWriters] = {}


def _writers_of(url: str) -> _SqliteWriters:
    with _lock:
        writers = _sqlite_writers.get(url)
        if writers is None:
            writers = _sqlite_writers[url] = _SqliteWriters(url.removeprefix("sqlite:///"))
        return writers


def queue_writers_across_processes(url: str) -> None:
    """This process's SQLite writers queue with those of every other process that calls
    this too (the web door's workers), on a lock file, not in SQLite's busy handler."""
    if url.startswith("sqlite:///"):
        _writers_of(url).shared = True


def execute_plain(session: Session, statement: Executable, params: Any = None) -> CursorResult[Any]:
    """Run a statement whose rows are plain values (or a write that keeps no object in step)
    on the session's connection, in its transaction, past the ORM's execution layer: on the
    small statements a web request runs, that layer cost more than the statement (the
    sign-in check: 124 against 77 µs on SQLite)."""
    return session.connection().execute(statement, params)


def open_connections(url: str, count: int) -> None:
    """Open `count` pooled connections now, held together then given back to the pool: a
    web worker's first requests would otherwise each open one (on PostgreSQL a new server
    process each) while the morning's first requests queue behind them."""
    engine = get_engine(url)
    with contextlib.ExitStack() as held:
        for _ in range(min(count, POOL["pool_size"])):
            held.enter_context(engine.connect())


def one_writer(url: str) -> bool:
    """Whether the database takes one writer at a time (SQLite): what a writer must read
    first is then best read before its write transaction begins."""
    return url.startswith("sqlite")


def _writer_lock(url: str) -> contextlib.AbstractContextManager[Any]:
    if not url.startswith("sqlite:///"):
        return contextlib.nullcontext()
    return _writers_of(url)


@contextmanager
def session_for(url: str) -> Iterator[Session]:
    """A session on a migrated database; commits on success, rolls back on any error."""
    engine = get_engine(url)
    ensure_schema(engine)
    with _writer_lock(url), Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def dialect_insert(session: Session, table: Table) -> Any:
    """An INSERT of the session's dialect (for ON CONFLICT ... RETURNING)."""
    return _insert_for(session, table)


def _insert_for(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str],
) -> None:
    """Insert rows, updating `update` columns where the natural key exists."""
    if not rows:
        return
    stmt = _insert_for(session, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key), set_={c: stmt.excluded[c] for c in update}
    )
    session.execute(stmt, list(rows))


def one_or_not_found(session: Session, stmt: Executable, missing: str) -> Any:
    """The one value `stmt` selects, or NotFound saying `missing`."""
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound(missing)
    return found


def rows_changed(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched (0 when the driver cannot say)."""
    # Session.execute is typed as returning Result; for DML it is a CursorResult.
    return cast("CursorResult[Any]", result).rowcount or 0


def insert_ignore(
    session: Session, table: Table, rows: Sequence[dict[str, Any]], *, key: Sequence[str]
) -> int:
    """Insert rows whose natural key is new; existing ones are left as they are. Returns how
    many were inserted."""
    if not rows:
        return 0
    stmt = _insert_for(session, table).on_conflict_do_nothing(index_elements=list(key))
    return rows_changed(session.execute(stmt, list(rows)))


BULK_CHUNK = 20_000


def id_batches(
    session: Session, column: Any, ids: Sequence[int], size: int = 5000
) -> Iterator[Any]:
    """WHERE clauses that together select the rows with these ids: on PostgreSQL one
    `= ANY(array)` with a single parameter (an IN list of thousands of parameters costs more
    to build and send than the query does); on SQLite IN lists under its parameter limit."""
    if not ids:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy import Integer, any_, bindparam
        from sqlalchemy.dialects.postgresql import ARRAY

        yield column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
        return
    for start in range(0, len(ids), size):
        yield column.in_(ids[start : start + size])


def analyze(url: str, tables: Sequence[str]) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (SQLite needs none)."""
    engine = get_engine(url)
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as conn:
        for table in tables:
            conn.execute(text(f'ANALYZE "{table}"'))
        conn.commit()


def raw_instant(session: Session, value: dt.datetime) -> object:
    """An instant as the bulk path hands it to the driver, stored exactly as UtcDateTime
    stores it through SQLAlchemy (SQLite: UTC wall time as text)."""
    utc = value.astimezone(dt.UTC)
    if session.get_bind().dialect.name == "sqlite":
        return utc.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return utc


def bulk_insert_ignore(
    session: Session,
    table: str,
    columns: Sequence[str],
    key: Sequence[str],
    rows: Iterable[Sequence[object]],
) -> int:
    """The fast path for generated rows (items, reminders): plain tuples straight to the
    driver, skipping rows whose natural key exists. Returns how many were inserted."""
    inserted = 0
    iterator = iter(rows)
    postgres = session.get_bind().dialect.name == "postgresql"
    into = _Into(table, columns, key)
    while chunk := list(islice(iterator, BULK_CHUNK)):
        if postgres:
            inserted += _copy_insert(session, into, chunk)
        else:
            inserted += _executemany_insert(session, into, chunk)
    return inserted


class _Into(NamedTuple):
    """Where a bulk insert goes: the table, its columns in the rows' order, the natural key."""

    table: str
    columns: Sequence[str]
    key: Sequence[str]


def _executemany_insert(session: Session, into: _Into, chunk: list[Sequence[object]]) -> int:
    table, columns, key = into
    marks = ", ".join("?" for _ in columns)
    cursor = raw_connection(session.connection()).cursor()
    try:
        cursor.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) "
            f"ON CONFLICT ({', '.join(key)}) DO NOTHING",
            chunk,
        )
        return cursor.rowcount
    finally:
        cursor.close()


def _copy_insert(session: Session, into: _Into, chunk: list[Sequence[object]]) -> int:
    """COPY straight into the table, optimistically: a first rollout has nothing to collide
    with. On a collision (a re-run, or a rollout running at the same time) the savepoint is
    rolled back and the chunk goes through a temporary table and ON CONFLICT DO NOTHING."""
    import psycopg

    table, columns, key = into
    names = ", ".join(columns)
    raw = raw_connection(session.connection())
    try:
        with raw.transaction(), raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in chunk:
                    copy.write_row(row)
            return len(chunk)
    except psycopg.errors.UniqueViolation:
        pass
    with raw.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {table}_load ON COMMIT DELETE ROWS AS "
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        with cursor.copy(f"COPY {table}_load ({names}) FROM STDIN") as copy:
            for row in chunk:
                copy.write_row(row)
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {table}_load "
            f"ON CONFLICT ({', '.join(key)}) DO NOTHING"
        )
        inserted = cursor.rowcount
        cursor.execute(f"TRUNCATE {table}_load")
        return inserted
