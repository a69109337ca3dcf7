"""Apache Kafka for tests and benchmarks: a real KRaft broker process on 127.0.0.1, no Docker.

Users run Apache Kafka, so the tests should too. This runs the version ``deploy/compose.yaml``
deploys, from its Maven Central artifacts: Java 17 and Maven are all it needs. The jars are
resolved once into ``~/.cache/roostr/kafka-<version>/`` (later runs start at once); each broker
formats fresh KRaft storage under its work directory, writes its log to ``server.log`` there and
removes its storage when stopped.

    python tests/apache_kafka.py [--port N]   # prints the bootstrap address, serves until Ctrl-C
    python tests/apache_kafka.py --nodes 3    # a replicated cluster; SIGTERM or Ctrl-C stops it

One node with the broker and controller roles, one PLAINTEXT listener for clients. The properties
are built from a listener table and a voter list. Given SCRAM users, the node also serves a
SASL_SSL listener (SCRAM-SHA-512, a certificate of a CA made for it) and authorizes every request
with ACLs; PLAINTEXT and the controller stay open as super user ``ANONYMOUS``.

``KafkaCluster`` runs several such nodes as one KRaft quorum (one cluster id, every node a voter),
with replicated internal topics and ``min.insync.replicas`` a majority: the fault drills' broker
(tests/test_replicated_cluster_rides_out_broker_faults.py) kills and pauses its nodes.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from deploy_files import compose
from tls_certificates import write_ca_and_server_cert

from roostr.embedded_broker import BrokerProcess, BrokerStartError, Started, free_port

__all__ = ["KAFKA_VERSION", "ApacheKafka", "KafkaCluster", "SaslSsl", "available", "classpath"]


def _pinned_version() -> str:
    """The Kafka version of the deployment's image (``apache/kafka:<version>``)."""
    image: str = compose()["services"]["kafka"]["image"]
    name, _, version = image.partition(":")
    if name != "apache/kafka" or not version:
        raise ValueError(f"deploy/compose.yaml: not an apache/kafka:<version> image: {image}")
    return version


KAFKA_VERSION = _pinned_version()
CACHE = Path.home() / ".cache" / "roostr"
# A cluster formats its nodes in parallel threads, each asking for the class path: on a cold
# cache, one Maven run resolves it while the others wait (concurrent runs copying into the same
# directory fail with "Failed to copy full contents").
_RESOLVING = threading.Lock()

# kafka_2.13 and its runtime dependencies. It declares slf4j without a binding: log4j's binding is
# added afterwards, at the log4j version Kafka itself brings, so its log reaches log4j's file.
_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>roostr.tests</groupId>
  <artifactId>apache-kafka</artifactId>
  <version>{version}</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>{version}</version>
    </dependency>
  </dependencies>
</project>
"""

_LOG4J = """status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = {path}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
"""


def _cache_dir(version: str) -> Path:
    return CACHE / f"kafka-{version}"


def available(version: str = KAFKA_VERSION) -> bool:
    """Java is installed, and the jars are cached or Maven is there to fetch them."""
    cached = (_cache_dir(version) / "classpath.txt").exists()
    return shutil.which("java") is not None and (cached or shutil.which("mvn") is not None)


def _mvn(pom: Path, *goal: str) -> None:
    result = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(pom), *goal], capture_output=True, text=True, timeout=900
    )
    if result.returncode != 0:
        raise BrokerStartError(f"mvn {goal[0]} failed: {(result.stdout + result.stderr)[-2000:]}")


def classpath(version: str = KAFKA_VERSION) -> str:
    """The broker's class path: resolved with Maven on first use, then read from the cache."""
    home = _cache_dir(version)
    done = home / "classpath.txt"
    with _RESOLVING:
        if not done.exists():
            _resolve(version, home, done)
    return done.read_text()


def _resolve(version: str, home: Path, done: Path) -> None:
    """Copy the broker's jars into ``home`` with Maven and write their class path to ``done``."""
    libs = home / "libs"
    home.mkdir(parents=True, exist_ok=True)
    pom = home / "pom.xml"
    pom.write_text(_POM.format(version=version))
    _mvn(pom, "dependency:copy-dependencies", "-DincludeScope=runtime", f"-DoutputDirectory={libs}")
    (log4j_core,) = libs.glob("log4j-core-*.jar")
    log4j_version = log4j_core.stem.removeprefix("log4j-core-")
    binding = f"org.apache.logging.log4j:log4j-slf4j-impl:{log4j_version}"
    _mvn(pom, "dependency:copy", f"-Dartifact={binding}", f"-DoutputDirectory={libs}")
    path = os.pathsep.join(sorted(str(jar) for jar in libs.glob("*.jar")))
    partial = home / f"classpath.{os.getpid()}"
    partial.write_text(path)
    partial.replace(done)  # last, and atomic: a cache holding classpath.txt is complete


def _cluster_id() -> str:
    """A random KRaft cluster id: a UUID in Kafka's form (URL-safe base64, no padding), never
    starting with "-", which the storage tool would read as an option (Kafka's own ids avoid it)."""
    while (found := base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode())[0] == "-":
        pass
    return found


@dataclass(frozen=True)
class SaslSsl:
    """How a client reaches the SASL_SSL listener: its address, the CA that signed the broker's
    certificate (``ROOSTR_SSL_CA_LOCATION``), the SCRAM-SHA-512 users (name → password, random
    per broker, so a test can look for them in logs) and the broker's own logs."""

    bootstrap_servers: str
    ca_location: Path
    users: dict[str, str]
    broker_logs: tuple[Path, ...]

    mechanism = "SCRAM-SHA-512"


class ApacheKafka(BrokerProcess):
    """One Apache Kafka node (broker and controller) on free loopback ports.

    ``work_dir`` holds its storage (``data/``, removed on stop), its properties, its log
    (``server.log``) and the JVM's own output (``stdout.log``); the log outlives the broker for
    post-mortems. Settings suit tests: few partitions for internal topics, no initial rebalance
    delay, and topics auto-created with 4 partitions as the embedded broker does. Alone, it is
    its own quorum and its topics have one replica; in a ``KafkaCluster``, ``quorum`` names every
    voter (node id → controller port) and internal and new topics get one replica per node.
    """

    super_user = "admin"

    def __init__(
        self,
        work_dir: Path,
        port: int | None = None,
        version: str = KAFKA_VERSION,
        scram_users: Iterable[str] = (),
        node_id: int = 1,
        quorum: dict[int, int] | None = None,
        jvm_options: tuple[str, ...] = ("-Xms256m", "-Xmx768m"),
    ):
        """``scram_users``: when given, also serve SASL_SSL for them (and ``admin``, a super
        user), with ACLs enforced there."""
        work_dir.mkdir(parents=True, exist_ok=True)
        stdout_log = work_dir / "stdout.log"
        super().__init__(port or free_port(), log_path=stdout_log)
        self.work_dir = work_dir
        self.version = version
        self.node_id = node_id
        self.quorum = quorum or {node_id: free_port()}
        self.controller_port = self.quorum[node_id]
        self.jvm_options = jvm_options
        self.sasl_ssl: SaslSsl | None = None
        if names := sorted({*scram_users}):
            self.sasl_ssl = SaslSsl(
                f"127.0.0.1:{free_port()}",
                work_dir / "tls" / "ca.pem",
                {name: secrets.token_urlsafe(18) for name in [self.super_user, *names]},
                (self.server_log, stdout_log),
            )

    @property
    def server_log(self) -> Path:
        return self.work_dir / "server.log"

    @property
    def _key_store(self) -> Path:
        """The broker's private key and certificate, one PEM file."""
        return self.work_dir / "tls" / "broker.pem"

    def _listeners(self) -> dict[str, tuple[str, int]]:
        """Listener name → (security protocol, port); clients use PLAINTEXT (and SASL_SSL)."""
        listeners = {
            "PLAINTEXT": ("PLAINTEXT", self.port),
            "CONTROLLER": ("PLAINTEXT", self.controller_port),
        }
        if self.sasl_ssl:
            port = int(self.sasl_ssl.bootstrap_servers.rpartition(":")[2])
            listeners["SASL_SSL"] = ("SASL_SSL", port)
        return listeners

    def _security_properties(self) -> dict[str, object]:
        """SCRAM on the SASL_SSL listener, a PEM key store, and ACLs: the controller and the
        inter-broker listener (PLAINTEXT, principal ANONYMOUS) must be super users."""
        if not self.sasl_ssl:
            return {}
        mechanism = self.sasl_ssl.mechanism
        return {
            "sasl.enabled.mechanisms": mechanism,
            f"listener.name.sasl_ssl.{mechanism.lower()}.sasl.jaas.config": (
                "org.apache.kafka.common.security.scram.ScramLoginModule required;"
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": self._key_store,
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:ANONYMOUS;User:{self.super_user}",
        }

    def _scram_arguments(self) -> list[str]:
        """StorageTool's ``--add-scram`` per user: the credentials exist from the first start."""
        if not self.sasl_ssl:
            return []
        mechanism = self.sasl_ssl.mechanism
        return [
            argument
            for name, password in self.sasl_ssl.users.items()
            for argument in ("--add-scram", f"{mechanism}=[name={name},password={password}]")
        ]

    def _voters(self) -> str:
        return ",".join(f"{node}@127.0.0.1:{port}" for node, port in sorted(self.quorum.items()))

    def _replication_properties(self) -> dict[str, object]:
        """A replica per node, for internal and auto-created topics; a write needs a majority of
        them in sync, so one node of three may be down without stopping a produce."""
        replicas = len(self.quorum)
        majority = replicas // 2 + 1
        properties: dict[str, object] = {
            "default.replication.factor": replicas,
            "offsets.topic.replication.factor": replicas,
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": majority,
            "min.insync.replicas": majority,
        }
        if replicas > 1:
            # Until the controller fences a node that stopped heartbeating, it stays in the ISR
            # of every partition it replicates, and each acks=all write there waits for it: 4 s
            # of that instead of Kafka's default 9 s, still well above a heartbeat interval.
            properties |= {"broker.session.timeout.ms": 4000, "broker.heartbeat.interval.ms": 1000}
        return properties

    def _properties(self) -> dict[str, object]:
        listeners = self._listeners()
        clients = {name: spec for name, spec in listeners.items() if name != "CONTROLLER"}
        return {
            "process.roles": "broker,controller",
            "node.id": self.node_id,
            "controller.quorum.voters": self._voters(),
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listeners": ",".join(f"{n}://127.0.0.1:{port}" for n, (_, port) in listeners.items()),
            "advertised.listeners": ",".join(
                f"{n}://127.0.0.1:{port}" for n, (_, port) in clients.items()
            ),
            "listener.security.protocol.map": ",".join(
                f"{n}:{p}" for n, (p, _) in listeners.items()
            ),
            "log.dirs": self.work_dir / "data",
            "offsets.topic.num.partitions": 4,
            "transaction.state.log.num.partitions": 4,
            **self._replication_properties(),
            "group.initial.rebalance.delay.ms": 0,
            "auto.create.topics.enable": "true",
            "num.partitions": 4,
            **self._security_properties(),
        }

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java",
            *self.jvm_options,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.work_dir / 'log4j2.properties'}",
            "-cp",
            classpath(self.version),
            main,
            *args,
        ]

    def _command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self.work_dir / "server.properties"))

    def format(self, cluster_id: str) -> None:
        """Write the configuration and format fresh storage for the cluster ``cluster_id``."""
        config = self.work_dir / "server.properties"
        if self.sasl_ssl:
            write_ca_and_server_cert(self.sasl_ssl.ca_location, self._key_store)
        config.write_text("".join(f"{key}={value}\n" for key, value in self._properties().items()))
        (self.work_dir / "log4j2.properties").write_text(_LOG4J.format(path=self.server_log))
        shutil.rmtree(self.work_dir / "data", ignore_errors=True)
        storage = ["format", "--cluster-id", cluster_id, "--config", str(config)]
        storage += self._scram_arguments()
        formatted = subprocess.run(
            self._java("kafka.tools.StorageTool", *storage), capture_output=True, text=True,
            timeout=120,
        )  # fmt: skip
        if formatted.returncode != 0:
            raise BrokerStartError(
                f"KRaft storage format failed: {formatted.stdout}{formatted.stderr}"
            )

    def start(self, timeout_s: float = 120.0) -> Self:
        """Format fresh storage, start the node, wait until it serves."""
        self.format(_cluster_id())
        return super().start(timeout_s)

    def restart(self, timeout_s: float = 120.0) -> None:
        """Start the node again on the storage it left (after a kill), wait until it serves."""
        super().start(timeout_s)

    def stop(self, timeout_s: float = 30.0) -> None:
        super().stop(timeout_s)
        shutil.rmtree(self.work_dir / "data", ignore_errors=True)


# The active controller is the KRaft quorum's leader. Python clients cannot ask for it (librdkafka
# has no DescribeQuorum), and the metadata's "controller" of a KRaft cluster is just some broker;
# Java's Admin client asks the quorum. Run as a single-file source program: no build step.
_QUORUM_LEADER_JAVA = """
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

public class QuorumLeader {
    public static void main(String[] args) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", args[0]))) {
            System.out.println(admin.describeMetadataQuorum().quorumInfo().get().leaderId());
        }
    }
}
"""

# Three JVMs share two cores in CI: a small heap, one GC thread, and the quick C1 compiler only
# (a short-lived test broker never earns back C2's compile time).
_CLUSTER_NODE_JVM = (
    "-Xms128m",
    "-Xmx512m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-XX:ActiveProcessorCount=1",
)


class KafkaCluster(Started):
    """``size`` Apache Kafka nodes on loopback, each a broker and a KRaft voter: one cluster.

    Internal and auto-created topics get ``size`` replicas with ``min.insync.replicas`` a
    majority (2 of 3). Each node lives in ``work_dir/node-<id>``; use as a context manager.
    """

    def __init__(self, work_dir: Path, size: int = 3, version: str = KAFKA_VERSION) -> None:
        self.work_dir = work_dir
        quorum = {node: free_port() for node in range(1, size + 1)}
        self.nodes = {
            node: ApacheKafka(
                work_dir / f"node-{node}", version=version, node_id=node, quorum=quorum,
                jvm_options=_CLUSTER_NODE_JVM,
            )
            for node in quorum
        }  # fmt: skip

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes.values())

    def start(self, timeout_s: float = 180.0) -> Self:
        """Format every node's storage (in parallel), launch them all, wait until each serves."""
        cluster_id = _cluster_id()
        try:
            with ThreadPoolExecutor(len(self.nodes)) as pool:
                list(pool.map(lambda node: node.format(cluster_id), self.nodes.values()))
            for node in self.nodes.values():
                node.launch()
            for node in self.nodes.values():
                node.wait_ready(timeout_s)
        except BaseException:  # a node that was started is never left behind
            self.stop()
            raise
        return self

    def controller(self) -> int:
        """The node id of the active controller (the metadata quorum's leader)."""
        program = self.work_dir / "QuorumLeader.java"
        program.write_text(_QUORUM_LEADER_JAVA)
        answer = subprocess.run(
            ["java", "-cp", classpath(self.nodes[1].version), str(program), self.bootstrap_servers],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        if answer.returncode != 0:
            raise BrokerStartError(f"describing the metadata quorum failed: {answer.stderr}")
        return int(answer.stdout.split()[-1])

    def stop(self) -> None:
        for node in self.nodes.values():
            if node.pid is not None:
                node.send_signal(signal.SIGCONT)  # a paused node could not act on SIGTERM
            node.stop()

    def wait(self) -> None:
        """Block until every node has exited."""
        for node in self.nodes.values():
            node.wait()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="client port (default: a free one)")
    parser.add_argument("--nodes", type=int, default=1, help="nodes of one cluster (default: 1)")
    args = parser.parse_args()
    work_dir = Path(tempfile.mkdtemp(prefix="roostr-kafka-"))
    broker: ApacheKafka | KafkaCluster = (
        KafkaCluster(work_dir, args.nodes) if args.nodes > 1 else ApacheKafka(work_dir, args.port)
    )
    # SIGTERM (a supervisor, ``kill``) ends the script as Ctrl-C does, starting or serving: the
    # broker's JVMs are stopped with it, never left running after the script that started them.
    signal.signal(signal.SIGTERM, _interrupt)
    with contextlib.suppress(KeyboardInterrupt), broker:
        print(f"bootstrap servers: {broker.bootstrap_servers}", flush=True)
        print(f"Apache Kafka {KAFKA_VERSION}, logs under: {work_dir}", flush=True)
        broker.wait()


if __name__ == "__main__":
    main()
