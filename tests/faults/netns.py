"""Three "machines" on one host: network namespaces joined by a bridge.

`machines()` builds worker machine a, worker machine b and a feed host, each
a network namespace with a veth pair into a Linux bridge in the root
namespace, on a free 10.213.X.0/24. The root namespace holds the .1 address,
so private PostgreSQL and Redis listening there are reached over the bridge
exactly as another machine would reach them. Names carry the pid, so runs in
parallel (or one aborted earlier) never clash; everything is removed again,
even when the test fails or the run is interrupted (atexit), and what a killed
run left behind is removed by the next one (remove_leftovers).
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

ROLES = {"a": 2, "b": 3, "feeds": 10}
# The feed host answers on several addresses: several sites, one machine.
FEED_HOST_NUMBERS = (10, 11, 12)


def _ip(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["ip", *args], capture_output=True, text=True)


def _free_subnet() -> str:
    used = _ip("-o", "addr").stdout
    for number in range(1, 255):
        prefix = f"10.213.{number}"
        if f" {prefix}." not in used:
            return prefix
    raise RuntimeError("no free 10.213.X.0/24")


@dataclass
class Network:
    prefix: str
    bridge: str
    namespaces: dict[str, str] = field(default_factory=dict)
    veths: list[str] = field(default_factory=list)

    @property
    def root_address(self) -> str:
        return f"{self.prefix}.1"

    @property
    def subnet(self) -> str:
        return f"{self.prefix}.0/24"

    def address(self, role: str) -> str:
        return f"{self.prefix}.{ROLES[role]}"

    def feed_hosts(self) -> list[str]:
        return [f"{self.prefix}.{number}" for number in FEED_HOST_NUMBERS]

    def prefix_command(self, role: str) -> list[str]:
        """Run a command on that machine: ``[*net.prefix_command("a"), ...]``."""
        return ["ip", "netns", "exec", self.namespaces[role]]

    def kill_machine(self, role: str) -> list[int]:
        """SIGKILL every process on that machine (its power cord pulled)."""
        pids = [int(pid) for pid in _ip("netns", "pids", self.namespaces[role]).stdout.split()]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return pids

    def remove(self) -> None:
        for role in list(self.namespaces):
            self.kill_machine(role)
            _ip("netns", "del", self.namespaces.pop(role))
        for veth in self.veths:
            _ip("link", "del", veth)
        self.veths.clear()
        _ip("link", "del", self.bridge)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> list[str]:
    """Remove the namespaces, veths and bridges of runs that were killed (atexit
    never ran): their names carry a pid that no longer lives. Returns what it removed."""
    removed = []
    for line in _ip("netns", "list").stdout.splitlines():
        match = re.fullmatch(r"(plnorg-(?:a|b|feeds)-(\d+))(?: \(id: \d+\))?", line.strip())
        if match and not _alive(int(match.group(2))):
            _ip("netns", "del", match.group(1))
            removed.append(match.group(1))
    for line in _ip("-o", "link").stdout.splitlines():
        match = re.match(r"\d+: (mh(?:br|a|b|f)(\d+)p?)[@:]", line)
        if match and not _alive(int(match.group(2))) and _ip("link", "del", match.group(1)).returncode == 0:
            removed.append(match.group(1).removesuffix("p"))  # a veth goes with its peer
    return removed


def _check(done: subprocess.CompletedProcess, what: str) -> None:
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr.strip()}")


def namespaces_or_skip() -> None:
    """Skip the test, saying why, where network namespaces cannot be made."""
    if os.geteuid() != 0:
        pytest.skip("the multi-host test builds network namespaces (run as root)")
    if shutil.which("ip") is None:
        pytest.skip("`ip` is missing (apt-get install iproute2)")


@contextmanager
def machines() -> Iterator[Network]:
    """The three machines; skips the test when namespaces cannot be made here."""
    namespaces_or_skip()
    remove_leftovers()
    pid = os.getpid()
    net = Network(prefix=_free_subnet(), bridge=f"mhbr{pid}")
    atexit.register(net.remove)
    try:
        probe = _ip("netns", "add", f"plnorg-a-{pid}")
        if probe.returncode != 0:
            pytest.skip(f"ip netns add failed: {probe.stderr.strip()}")
        net.namespaces["a"] = f"plnorg-a-{pid}"
        _check(_ip("link", "add", net.bridge, "type", "bridge"), "creating the bridge")
        _check(_ip("addr", "add", f"{net.root_address}/24", "dev", net.bridge), "addressing the bridge")
        _check(_ip("link", "set", net.bridge, "up"), "starting the bridge")
        for role in ROLES:
            namespace = f"plnorg-{role}-{pid}"
            if role not in net.namespaces:
                _check(_ip("netns", "add", namespace), f"ip netns add {namespace}")
                net.namespaces[role] = namespace
            outside, inside = f"mh{role[0]}{pid}", f"mh{role[0]}{pid}p"
            _check(_ip("link", "add", outside, "type", "veth", "peer", "name", inside), f"veth for {role}")
            net.veths.append(outside)
            _check(_ip("link", "set", outside, "master", net.bridge, "up"), f"bridging {role}")
            _check(_ip("link", "set", inside, "netns", namespace), f"moving the veth into {namespace}")
            numbers = FEED_HOST_NUMBERS if role == "feeds" else (ROLES[role],)
            for number in numbers:
                _check(_ip("-n", namespace, "addr", "add", f"{net.prefix}.{number}/24", "dev", inside), "address")
            _check(_ip("-n", namespace, "link", "set", inside, "up"), f"starting {role}'s veth")
            _check(_ip("-n", namespace, "link", "set", "lo", "up"), f"starting {role}'s loopback")
        yield net
    finally:
        net.remove()
        atexit.unregister(net.remove)
