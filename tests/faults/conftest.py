"""Private services for the fault drills, and the Hypothesis profiles.

The drills break things on purpose, so they never touch the machine's shared
PostgreSQL (5432) or Redis (6379). This file starts, once per run:

* a private PostgreSQL cluster (``initdb`` as the postgres user in a folder it
  owns under /tmp, on a spare port from 5499), migrated and seeded ONCE into a
  template database; every drill gets its own clone (CREATE DATABASE ...
  TEMPLATE ...);
* per drill: two private redis-servers (broker and cache) on spare ports in
  6420-6439, a gunicorn serving the site, Celery workers (tests/feeds
  test_workers.Worker) and a file email backend, all pointed at the clone.

Hypothesis: the "ci" profile (fixed seed, bounded examples) is loaded unless
HYPOTHESIS_PROFILE names another ("fuzz" in `make fuzz`).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg2
import pytest
from django.conf import settings as django_settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from tests.feeds.servers import FeedServer
from tests.feeds.test_workers import CELERY, Worker, wait_for

hypothesis_settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
hypothesis_settings.register_profile(
    "fuzz",
    max_examples=5000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
FUZZ = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
TEMPLATE_DB = "plnorg_faults_template"
SECRET_KEY = secrets.token_urlsafe(50)
# The legitimate feed servers of the drills live on an allowlisted address.
FEED_HOST = "127.0.0.2"


def _pg_bin() -> Path:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not versions:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    return versions[-1].parent


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(first: int, last: int, taken: set[int] = frozenset()) -> int:
    for port in range(first, last + 1):
        if port not in taken and port_is_free(port):
            return port
    raise RuntimeError(f"no free port in {first}-{last}")


class PrivatePostgres:
    """A PostgreSQL cluster of our own; stop() and start() are the drill's levers."""

    def __init__(self, *, listen: str = "127.0.0.1", trusted_network: str | None = None) -> None:
        """``listen``: listen_addresses; ``trusted_network``: a CIDR whose
        clients connect without a password (other machines' workers)."""
        self.bin = _pg_bin()
        self.listen = listen
        self.folder = Path(tempfile.mkdtemp(prefix="plnorg-faults-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.port = free_port(5499, 5599)
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8"
        )
        if trusted_network:
            with open(self.data / "pg_hba.conf", "a") as hba:
                hba.write(f"host all all {trusted_network} trust\n")
        self.start()

    def _as_postgres(self, *command: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, capture_output=True, cwd="/tmp")

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses={self.listen} -k {self.folder} -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c max_connections=60"
        )
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "log"), "-w", "start"
        )

    def stop(self, mode: str = "immediate") -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def connect(self, name: str = "postgres"):
        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres", dbname=name)
        connection.autocommit = True
        return connection

    def execute(self, sql: str, name: str = "postgres") -> None:
        self.query(name, sql, None, fetch=False)

    def query(self, name: str, sql: str, params: tuple | None = (), *, fetch: bool = True) -> list[tuple]:
        """Run one statement on database ``name``; its rows (if ``fetch``)."""
        connection = self.connect(name)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if fetch else []
        finally:
            connection.close()

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    def __init__(self, taken: set[int], *, bind: str = "127.0.0.1") -> None:
        """``bind``: the addresses to listen on, space-separated (127.0.0.1 first)."""
        self.bind = bind
        self.port = free_port(6420, 6439, taken)
        taken.add(self.port)
        self.folder = tempfile.mkdtemp(prefix="plnorg-faults-redis-")
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", *self.bind.split(), "--save", "", "--appendonly", "no",
             "--dir", self.folder, *self._open_to_others()],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(lambda: not port_is_free(self.port), timeout=10, what=f"redis on {self.port}")

    def _open_to_others(self) -> list[str]:
        """Redis refuses other machines' clients without a password unless told
        otherwise; bound to a private test network, that is what we want."""
        return [] if self.bind == "127.0.0.1" else ["--protected-mode", "no"]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        wait_for(lambda: port_is_free(self.port), timeout=10, what=f"redis on {self.port} to stop")

    def url(self, db: int = 0, host: str = "127.0.0.1") -> str:
        return f"redis://{host}:{self.port}/{db}"

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def private_env(*, database_url: str, broker_url: str, cache_url: str, email_dir: Path, queue: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "DJANGO_SETTINGS"))  # the subprocess is not the test run
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=SECRET_KEY,
        DATABASE_URL=database_url,
        REDIS_URL=broker_url,
        CACHE_URL=cache_url,
        CACHE_KEY_PREFIX="plnorg-faults",
        CELERY_QUEUE=queue,
        ALLOWED_HOSTS="*",
        STATIC_MANIFEST="0",
        SESSION_COOKIE_SECURE="0",
        EMAIL_URL=f"filemail:///{email_dir}",
        FETCH_ALLOWED_PRIVATE_NETWORKS=f"{FEED_HOST}/32",
        CONN_MAX_AGE="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 300) -> str:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout


def helper(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    """Run tests/faults/helper.py (Django set up against the private services)."""
    done = subprocess.run(
        [PYTHON, "-m", "tests.faults.helper", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise AssertionError(f"helper {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer(FEED_HOST)
    yield server
    server.stop()


def _copy_test_database(cluster: PrivatePostgres, source: dict) -> bool:
    """Copy the run's migrated test database (schema and data) into the
    template: seconds, where migrating from scratch takes minutes on a busy
    machine. False when it cannot (then we migrate)."""
    dump = subprocess.run(
        [str(cluster.bin / "pg_dump"), "-h", source["HOST"] or "127.0.0.1", "-p", str(source["PORT"] or 5432),
         "-U", source["USER"] or "postgres", "--no-owner", "--no-privileges", "-Fc", source["NAME"]],
        capture_output=True, timeout=120,
    )  # fmt: skip
    if dump.returncode != 0:
        return False
    restore = subprocess.run(
        [str(cluster.bin / "pg_restore"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
         "--no-owner", "--no-privileges", "-d", TEMPLATE_DB],
        input=dump.stdout, capture_output=True, timeout=120,
    )  # fmt: skip
    return restore.returncode == 0


@pytest.fixture(scope="session")
def django_db_setup_name(django_db_setup, django_db_blocker) -> dict:
    """The run's test database (created and migrated by pytest-django)."""
    from django.db import connection

    with django_db_blocker.unblock():
        connection.ensure_connection()
    return dict(connection.settings_dict)


@pytest.fixture(scope="session")
def private_postgres(feed_server, django_db_setup_name) -> Iterator[PrivatePostgres]:
    """The private cluster with a migrated, seeded template database."""
    if os.geteuid() != 0:
        pytest.skip("the drills start their own PostgreSQL as the postgres user (run as root)")
    started = time.monotonic()
    cluster = PrivatePostgres()
    try:
        cluster.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        folder = Path(tempfile.mkdtemp(prefix="plnorg-faults-setup-"))
        env = private_env(
            database_url=cluster.url(TEMPLATE_DB),
            broker_url="redis://127.0.0.1:9/0",
            cache_url="",
            email_dir=folder,
            queue="plnorg-faults-setup",
        )
        if not _copy_test_database(cluster, django_db_setup_name):
            manage(env, "migrate", "--noinput")
        helper(env, "prepare", feed_server.url(""))
        shutil.rmtree(folder, ignore_errors=True)
        cluster.setup_seconds = round(time.monotonic() - started, 1)  # type: ignore[attr-defined]
        yield cluster
    finally:
        cluster.destroy()


class Beat:
    """``celery beat`` with the real schedule (plnorg/celery.py), in its own session."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.log = folder / "beat.log"
        self.process = subprocess.Popen(
            [CELERY, "-A", "plnorg", "beat", "--schedule", str(folder / "beat-schedule"), "--loglevel", "INFO",
             "--logfile", str(self.log)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: self.log.exists() and "beat: Starting" in self.log.read_text(), what="beat to start")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


@dataclass
class Site:
    """One drill's world: a clone of the template, two Redis, gunicorn, workers."""

    postgres: PrivatePostgres
    database: str
    broker: PrivateRedis
    cache: PrivateRedis
    folder: Path
    env: dict[str, str]
    port: int = 0
    server: subprocess.Popen | None = None
    workers: list[Worker] = field(default_factory=list)
    beats: list[Beat] = field(default_factory=list)
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def email_dir(self) -> Path:
        return self.folder / "mail"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start_server(self, *, workers: int = 1, threads: int = 4, timeout_seconds: int = 60) -> None:
        """Serve the site with gunicorn. ``start_server(workers=4, threads=1,
        timeout_seconds=30)`` is production's shape (Dockerfile: four sync
        workers, gunicorn's default 30-second worker timeout)."""
        self.port = free_port(8790, 8899)
        self.server = subprocess.Popen(
            [GUNICORN, "plnorg.wsgi:application", "-b", f"127.0.0.1:{self.port}", "-w", str(workers),
             "--threads", str(threads), "--timeout", str(timeout_seconds), "--graceful-timeout", "2",
             "--access-logfile", "-"],
            cwd=ROOT, env=self.env, stdout=open(self.folder / "server.log", "w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        wait_for(self._serving, timeout=60, what="the site to serve")

    def restart_server(self, **options) -> None:
        """Stop gunicorn and start it again with other options (see start_server)."""
        self._stop_server()
        self.start_server(**options)

    def server_log(self) -> str:
        return (self.folder / "server.log").read_text(errors="replace")

    def _serving(self) -> bool:
        if self.server and self.server.poll() is not None:
            raise AssertionError("gunicorn died:\n" + (self.folder / "server.log").read_text()[-3000:])
        try:
            return httpx.get(self.url("/healthz"), timeout=2, verify=False).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def get(self, path: str, *, signed_in: bool = True, timeout: float = 15) -> httpx.Response:
        # Plain HTTP to the local site: no TLS context to build per request.
        with httpx.Client(verify=False, timeout=timeout, cookies=self.cookies if signed_in else {}) as client:
            return client.get(self.url(path))

    def worker(self, name: str, **options) -> Worker:
        names = (
            "DATABASE_URL",
            "CACHE_URL",
            "EMAIL_URL",
            "SECRET_KEY",
            "CELERY_QUEUE",
            "FETCH_ALLOWED_PRIVATE_NETWORKS",
        )
        env = {name: self.env[name] for name in names}
        worker = Worker(name, redis_url=self.env["REDIS_URL"], **env, **options)
        self.workers.append(worker)
        return worker

    def beat(self) -> Beat:
        beat = Beat(self.env, self.folder)
        self.beats.append(beat)
        return beat

    def manage(self, *args: str) -> str:
        return manage(self.env, *args)

    def helper(self, *args: str) -> str:
        return helper(self.env, *args)

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.postgres.query(self.database, sql, params)

    def sent_messages(self) -> list[str]:
        """Message-IDs of every email the file backend delivered."""
        ids = []
        for path in sorted(self.email_dir.glob("*")):
            for line in path.read_text(errors="replace").splitlines():
                if line.lower().startswith("message-id:"):
                    ids.append(line.split(":", 1)[1].strip())
        return ids

    def stop(self) -> None:
        for beat in self.beats:
            beat.stop()
        for worker in self.workers:
            worker.stop()
        self._stop_server()

    def _stop_server(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            try:
                self.server.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait(10)


_drill_counter = iter(range(1, 1000))


@pytest.fixture
def site(private_postgres) -> Iterator[Site]:
    """A fresh clone of the template database with its own Redis, site and mail folder."""
    number = next(_drill_counter)
    database = f"plnorg_drill_{number}"
    private_postgres.execute(f"DROP DATABASE IF EXISTS {database}")
    private_postgres.execute(f"CREATE DATABASE {database} TEMPLATE {TEMPLATE_DB}")
    taken: set[int] = set()
    broker, cache = PrivateRedis(taken), PrivateRedis(taken)
    folder = Path(tempfile.mkdtemp(prefix=f"plnorg-drill-{number}-"))
    (folder / "mail").mkdir()
    env = private_env(
        database_url=private_postgres.url(database),
        broker_url=broker.url(0),
        cache_url=cache.url(0),
        email_dir=folder / "mail",
        # The broker is private; the queue name is the one Worker (tests/feeds) consumes.
        queue=django_settings.CELERY_TASK_DEFAULT_QUEUE,
    )
    world = Site(private_postgres, database, broker, cache, folder, env)
    try:
        session_key = world.helper("session")
        world.cookies = {"sessionid": session_key}
        world.start_server()
        yield world
    finally:
        world.stop()
        broker.destroy()
        cache.destroy()
        if not private_postgres.data.joinpath("postmaster.pid").exists():
            private_postgres.start()
        private_postgres.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        shutil.rmtree(folder, ignore_errors=True)


class Traffic:
    """Requests pages in a loop in a thread, recording every answer."""

    def __init__(self, site: Site, paths: list[str], *, pause: float = 0.15) -> None:
        self.site, self.paths, self.pause = site, paths, pause
        self.answers: list[tuple[float, str, int, float, str]] = []  # (at, path, status, seconds, body)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(30)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            path = self.paths[n % len(self.paths)]
            n += 1
            started = time.monotonic()
            try:
                response = self.site.get(path)
                status, body = response.status_code, response.text
            except httpx.HTTPError as exc:
                status, body = 0, f"{exc.__class__.__name__}: {exc}"
            self.answers.append((started, path, status, time.monotonic() - started, body))
            self._stop.wait(self.pause)

    def statuses(self) -> list[int]:
        return [answer[2] for answer in self.answers]


@pytest.fixture
def traffic() -> Callable[..., Traffic]:
    return Traffic
