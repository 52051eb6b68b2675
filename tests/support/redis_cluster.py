"""Redis beyond one server, from the Debian package, on free loopback ports: a Redis Cluster of 6 redis-server
processes (3 masters, 3 replicas, made by `redis-cli --cluster create`), and a Sentinel setup (1 master, 1 replica,
3 sentinels: `redis-server --sentinel`). Each has its own folder and ports, so pytest-xdist's workers each start
their own. Fast timeouts (a node or master is taken for down after 1 s), so that a failover happens within a test.

Like tests/support/redis_server.py, the servers run on the real clock whatever the tests' faketime."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.redis_server import _binary, _real_clock_env, _wait_until_ready, free_port

NODE_TIMEOUT_MS = 1000  # a cluster node, or a sentinel's master, silent this long is taken for down
MASTER_NAME = "tickets"  # what the sentinels monitor the master by


def cli(port: int, *command: str, check: bool = True) -> str:
    """`redis-cli -p port command...`: its output (a command Redis refused raises when `check`)."""
    done = subprocess.run(["redis-cli", "-p", str(port), *command], capture_output=True, text=True, timeout=30,
                          env=_real_clock_env())
    if check and (done.returncode != 0 or done.stdout.startswith("ERR") or "(error)" in done.stdout):
        raise RuntimeError(f"redis-cli -p {port} {' '.join(command)}: {done.stdout}{done.stderr}")
    return done.stdout


def _wait_for(what: str, test: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not test():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise RuntimeError(f"waited {seconds:g} s for {what}")
        time.sleep(0.1)


@dataclass
class Servers:
    """The redis-server processes of a setup, by port, each stoppable (SIGKILL: a crash)."""

    workdir: Path
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, port: int, *arguments: str) -> None:
        folder = self.workdir / str(port)
        folder.mkdir(exist_ok=True)
        process = subprocess.Popen([_binary(), *arguments, "--port", str(port), "--bind", "127.0.0.1",
                                    "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                   env=_real_clock_env())
        self.processes[port] = process
        _wait_until_ready(process, port)

    def kill(self, port: int) -> None:
        process = self.processes.pop(port)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.wait(timeout=10)
        self.processes.clear()


@dataclass
class LocalCluster:
    servers: Servers
    ports: list[int]

    @property
    def url(self) -> str:
        """Two of the nodes: either is enough to find the others."""
        return f"redis+cluster://127.0.0.1:{self.ports[0]},127.0.0.1:{self.ports[3]}"

    def roles(self) -> dict[int, str]:
        """Each live node's role, by port: master or slave (as CLUSTER NODES says)."""
        roles = {}
        for line in cli(next(iter(self.servers.processes)), "cluster", "nodes").splitlines():
            _, address, flags, *_ = line.split()
            port = int(address.split("@")[0].rsplit(":", 1)[1])
            if port in self.servers.processes and "fail" not in flags:
                roles[port] = "master" if "master" in flags else "slave"
        return roles

    def masters(self) -> list[int]:
        return sorted(port for port, role in self.roles().items() if role == "master")

    def replica_of(self, master: int) -> int:
        master_id = cli(master, "cluster", "myid").strip()
        for line in cli(master, "cluster", "replicas", master_id).splitlines():
            address = line.split()[1] if len(line.split()) > 1 else ""
            if address:
                return int(address.split("@")[0].rsplit(":", 1)[1])
        raise RuntimeError(f"no replica of {master}")

    def master_of(self, key: str) -> int:
        slot = cli(self.ports[0], "cluster", "keyslot", key).strip()
        for master in self.masters():
            if self._owns(master, int(slot)):
                return master
        raise RuntimeError(f"no master owns slot {slot}")

    def _owns(self, port: int, slot: int) -> bool:
        for line in cli(port, "cluster", "nodes").splitlines():
            parts = line.split()
            if "myself" in parts[2]:
                for span in parts[8:]:
                    low, _, high = span.partition("-")
                    if low.isdigit() and int(low) <= slot <= int(high or low):
                        return True
        return False

    def wait_until_ok(self) -> None:
        def ok() -> bool:
            return all("cluster_state:ok" in cli(port, "cluster", "info", check=False)
                       for port in self.servers.processes)
        _wait_for("the cluster to be ok", ok)

    def fail_over(self, master: int) -> int:
        """A planned failover (CLUSTER FAILOVER on the master's replica: the master stops taking writes, the replica
        catches up, then takes over); the new master's port."""
        replica = self.replica_of(master)
        cli(replica, "cluster", "failover")
        _wait_for(f"{replica} to take over from {master}", lambda: self.roles().get(replica) == "master")
        self.wait_until_ok()
        return replica

    def wait_until_promoted(self, replica: int) -> None:
        """After its master died: until the replica took over and the cluster is ok again."""
        # a busy machine slows the masters' gossip that declares the dead one failed (a CI rehearsal: over 20 s)
        _wait_for(f"{replica} to take over", lambda: "role:master" in cli(replica, "info", "replication"), 60.0)
        self.wait_until_ok()

    def flush_scripts(self) -> None:
        for port in self.servers.processes:
            cli(port, "script", "flush")


@contextmanager
def local_cluster(workdir: Path) -> Iterator[LocalCluster]:
    """6 nodes, 3 masters with a replica each, every slot covered; stopped on the way out."""
    servers = Servers(workdir)
    ports = [free_port() for _ in range(6)]
    try:
        for port in ports:
            servers.start(port, "--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf",
                          "--cluster-port", str(free_port()), "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                          "--save", "", "--appendonly", "no")
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{port}" for port in ports),
                        "--cluster-replicas", "1", "--cluster-yes"], check=True, capture_output=True, timeout=60,
                       env=_real_clock_env())
        cluster = LocalCluster(servers, ports)
        cluster.wait_until_ok()
        _wait_for("every node to know the 6 nodes",
                  lambda: all(len(cli(port, "cluster", "nodes").splitlines()) == 6 for port in ports))
        _wait_for("every replica to be in sync with its master (else it may not take over)", lambda: all(
            "master_link_status:up" in cli(port, "info", "replication") for port, role in cluster.roles().items()
            if role == "slave"))
        yield cluster
    finally:
        servers.stop_all()


@dataclass
class LocalSentinels:
    servers: Servers
    sentinel_ports: list[int]

    @property
    def url(self) -> str:
        return f"redis+sentinel://{','.join(f'127.0.0.1:{port}' for port in self.sentinel_ports)}/{MASTER_NAME}"

    def master(self) -> int:
        answer = cli(self.sentinel_ports[0], "sentinel", "get-master-addr-by-name", MASTER_NAME).split()
        return int(answer[1])

    def fail_over(self) -> int:
        """SENTINEL FAILOVER: a replica is made the master; the new master's port, once every sentinel says so and it
        takes writes."""
        before = self.master()
        cli(self.sentinel_ports[0], "sentinel", "failover", MASTER_NAME)
        _wait_for("the sentinels to name a new master",
                  lambda: all(self._master_per(port) not in (before, None) for port in self.sentinel_ports))
        after = self.master()
        _wait_for(f"{after} to be a master", lambda: "role:master" in cli(after, "info", "replication"))
        return after

    def _master_per(self, sentinel: int) -> int | None:
        answer = cli(sentinel, "sentinel", "get-master-addr-by-name", MASTER_NAME, check=False).split()
        return int(answer[1]) if len(answer) == 2 else None

    def flush_scripts(self) -> None:
        for port in self.servers.processes:
            if port not in self.sentinel_ports:
                cli(port, "script", "flush")


@contextmanager
def local_sentinels(workdir: Path, *, replicas: int = 1) -> Iterator[LocalSentinels]:
    """A master, `replicas` replicas and 3 sentinels watching them; stopped on the way out."""
    servers = Servers(workdir)
    master, *others = [free_port() for _ in range(1 + replicas)]
    sentinels = [free_port() for _ in range(3)]
    common = ("--save", "", "--appendonly", "no")
    with ExitStack() as stack:
        stack.callback(servers.stop_all)
        servers.start(master, *common)
        for port in others:
            servers.start(port, *common, "--replicaof", "127.0.0.1", str(master))
        for port in sentinels:
            config = workdir / f"sentinel-{port}.conf"  # the sentinel rewrites it: its own file
            config.write_text(f"sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n"
                              f"sentinel down-after-milliseconds {MASTER_NAME} {NODE_TIMEOUT_MS}\n"
                              f"sentinel failover-timeout {MASTER_NAME} 10000\n")
            servers.start(port, str(config), "--sentinel")
        setup = LocalSentinels(servers, sentinels)

        def watching() -> bool:
            for port in sentinels:
                state = cli(port, "sentinel", "master", MASTER_NAME, check=False).split("\n")
                fields = dict(zip(state[::2], state[1::2], strict=False))
                if fields.get("num-slaves") != str(replicas) or fields.get("num-other-sentinels") != "2":
                    return False
            return True
        _wait_for("the sentinels to see the replicas and each other", watching, seconds=30)
        yield setup
