"""Accessibility check: axe-core in headless Chromium against a real server.

Design (kept fast on purpose, see tests/checks/conftest.py):

- ONE clone of the seeded test database per run (`database_clone`):
  CREATE DATABASE ... TEMPLATE copies the demo organization in well under a
  second, instead of seeding again; the clone is dropped at the end.
- ONE server process on the clone (`CheckServer`, tests/checks/live_server.py),
  which also signs every persona in once and hands back the session keys.
- ONE headless Chromium per check (`a11y_check_pages`) with one browser
  context per persona whose storage state holds that persona's session
  cookie (a stored login); a few tabs run at once and are reused page after
  page.
- axe-core comes from axe-playwright-python's bundled axe.min.js (no network).
  It is added as an init script of each context, which Chromium runs through
  the DevTools protocol: our Content-Security-Policy (script-src 'self', no
  inline scripts) does not apply to it, so the pages are checked under the
  real CSP and `bypass_csp` is not needed. axe.run is then called with
  page.evaluate, which the CSP does not govern either.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import axe_playwright_python
import psycopg2
from psycopg2 import errors, sql

BASE_DIR = Path(__file__).resolve().parents[2]
AXE_JS = Path(axe_playwright_python.__file__).with_name("axe.min.js")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
BLOCKING_IMPACTS = ("serious", "critical")

# Runs in the page: every violation of the blocking impacts, summarized.
AXE_RUN = """
async (impacts) => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((v) => impacts.includes(v.impact))
    .map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
      count: v.nodes.length,
    }));
}
"""


# --- The database clone -----------------------------------------------------------


def _maintenance_connection(settings_dict):
    conn = psycopg2.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
    )
    conn.autocommit = True
    return conn


def database_clone(settings_dict, target: str) -> None:
    """Copy the (seeded) test database to `target`. Nobody may be connected to the source."""
    from django.db import connections

    connections.close_all()
    source = settings_dict["NAME"]
    conn = _maintenance_connection(settings_dict)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target)))
            for attempt in range(5):
                try:
                    cur.execute(
                        sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                            sql.Identifier(target), sql.Identifier(source)
                        )
                    )
                    return
                except errors.ObjectInUse:
                    if attempt == 4:
                        raise
                    # A connection of this test process that outlived close_all (a
                    # thread's): end it, the clone needs the source to itself.
                    cur.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()",
                        [source],
                    )
                    time.sleep(0.2)
    finally:
        conn.close()


def database_drop(settings_dict, name: str) -> None:
    conn = _maintenance_connection(settings_dict)
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def database_url(settings_dict, name: str) -> str:
    user = settings_dict.get("USER") or ""
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{name}"


# --- The server -------------------------------------------------------------------


@dataclass
class CheckServer:
    base_url: str
    cookie_name: str
    sessions: dict[str, str]
    process: subprocess.Popen
    log_path: Path

    @classmethod
    def start(cls, database_url_: str) -> CheckServer:
        log = Path(tempfile.mkstemp(prefix="plnorg-a11y-server-", suffix=".log")[1])
        env = {**os.environ, "DATABASE_URL": database_url_}
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.checks.live_server"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=10)
            raise RuntimeError(f"the accessibility server did not start:\n{log.read_text()[-3000:]}")
        info = json.loads(line)
        return cls(f"http://127.0.0.1:{info['port']}", info["cookie"], info["sessions"], process, log)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log_path.unlink(missing_ok=True)


# --- The browser ------------------------------------------------------------------


@dataclass
class A11yResult:
    persona: str
    path: str
    status: int | None
    violations: list[str]


def a11y_check_pages(
    server: CheckServer, pairs: list[tuple[str, str]], *, concurrency: int = 3
) -> tuple[list[A11yResult], float]:
    """Run axe on every (persona, path) pair in ONE Chromium; return the results and the seconds taken.

    A few tabs work at once so page rendering on the server overlaps with axe
    in the browser. Uses Playwright's async API in its own event loop, so no
    Playwright instance outlives the call (the e2e tests start their own).
    """
    started = time.perf_counter()
    results = asyncio.run(_check_all(server, pairs, concurrency))
    order = {pair: i for i, pair in enumerate(pairs)}
    return sorted(results, key=lambda r: order[(r.persona, r.path)]), time.perf_counter() - started


async def _check_all(server: CheckServer, pairs: list[tuple[str, str]], concurrency: int) -> list[A11yResult]:
    from playwright.async_api import async_playwright

    queue = list(pairs)
    results: list[A11yResult] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = {}
        for persona in sorted({persona for persona, _path in pairs}):
            contexts[persona] = await _context_with_login(browser, server, persona)

        async def worker():
            tabs = {}
            while queue:
                persona, path = queue.pop(0)
                if persona not in tabs:
                    tabs[persona] = await contexts[persona].new_page()
                results.append(await _check_one(tabs[persona], server, persona, path))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        await browser.close()
    return results


async def _context_with_login(browser, server: CheckServer, persona: str):
    """A browser context holding the persona's stored login (its session cookie) and axe."""
    cookies = []
    if persona in server.sessions:
        cookies.append(
            {
                "name": server.cookie_name,
                "value": server.sessions[persona],
                "url": server.base_url,
                "httpOnly": True,
                "sameSite": "Lax",
            }
        )
    context = await browser.new_context(storage_state={"cookies": cookies, "origins": []})
    await context.add_init_script(path=str(AXE_JS))
    return context


async def _check_one(tab, server: CheckServer, persona: str, path: str) -> A11yResult:
    try:
        response = await tab.goto(server.base_url + path, wait_until="load")
        violations = await tab.evaluate(AXE_RUN, list(BLOCKING_IMPACTS))
    except Exception as exc:  # noqa: BLE001 - one page that cannot be checked must not hide the others
        return A11yResult(persona, path, None, [f"{persona} {path}: could not be checked ({exc})"])
    return A11yResult(
        persona,
        path,
        response.status if response else None,
        [
            f"{persona} {path}: {v['impact']} {v['id']} ({v['help']}) on {v['count']} element(s): "
            + "; ".join(v["nodes"])
            for v in violations
        ],
    )
