"""A real Neo4j 5.26 Community server for integration tests, CI and benchmarks.

The server is the embedded DBMS started by ``tests/neo4j_launcher`` (a small Maven
project) in its own JVM, listening for Bolt on 127.0.0.1 only.  Typical use::

    with Neo4jServer() as server:
        driver = neo4j.GraphDatabase.driver(server.uri, auth=server.auth)

Run ``python tests/neo4j_server.py`` to keep one in the foreground (Ctrl-C stops it).

Needs ``java`` (17+) and ``mvn`` on PATH; the first build fetches Neo4j from Maven
Central into ~/.m2, later builds and starts work offline.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Iterator, Optional, Sequence, Tuple

LAUNCHER_DIR = Path(__file__).resolve().parent / "neo4j_launcher"
POM = LAUNCHER_DIR / "pom.xml"
TARGET_DIR = LAUNCHER_DIR / "target"
LAUNCHER_JAR = TARGET_DIR / "neo4j-launcher.jar"
MAIN_CLASS = "statetech.testing.Neo4jLauncher"
READY_PREFIX = "STATETECH_NEO4J_READY "
JVM_LOG_NAME = "launcher.log"

# Records the sources' newest mtime as seen when the last successful build began, so an
# edit made while mvn was running still triggers a rebuild next time.
_STAMP = TARGET_DIR / ".statetech-build-stamp"
_LOCK = TARGET_DIR / ".statetech-build.lock"
# AppCDS archive of the ~200 jars' classes, dumped by the first server after each build. It
# roughly halves JVM+Neo4j startup (measured ~11-16 s -> ~4-7 s on 2 busy cores), but the dump
# adds ~5-8 s to that first server's stop. A stale or foreign archive is only ever ignored by
# the JVM (-Xshare:auto), never fatal.
CDS_ARCHIVE = TARGET_DIR / "neo4j-launcher.jsa"

# Mostly the flags Neo4j's own startup script passes (server.jvm.additional in its default
# neo4j.conf): the page cache and Netty reach into JDK internals and fall back to slower
# paths, or warn, without these opens.
_NEO4J_JVM_FLAGS = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    # After an OutOfMemoryError Neo4j's state is undefined; a dead server fails tests loudly,
    # a half-alive one fails them confusingly.
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)

DEFAULT_STARTUP_TIMEOUT = 180.0
DEFAULT_STOP_TIMEOUT = 60.0


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def _file_tail(path: Path, lines: int = 60) -> str:
    try:
        return _tail(path.read_text(errors="replace"), lines)
    except OSError as e:
        return f"<cannot read {path}: {e}>"


def _newest_source_mtime() -> float:
    newest = POM.stat().st_mtime
    for p in (LAUNCHER_DIR / "src").rglob("*"):
        if p.is_file():
            newest = max(newest, p.stat().st_mtime)
    return newest


def _is_built() -> bool:
    if not (_STAMP.exists() and LAUNCHER_JAR.is_file() and (TARGET_DIR / "lib").is_dir()):
        return False
    return _STAMP.stat().st_mtime >= _newest_source_mtime()


def classpath() -> str:
    return os.pathsep.join([str(LAUNCHER_JAR), str(TARGET_DIR / "lib" / "*")])


@contextlib.contextmanager
def _build_lock() -> Iterator[None]:
    # pytest-xdist workers or parallel CI jobs may all ask for a build at once; two mvn runs
    # writing the same target/ would hand one of them a half-copied target/lib.
    TARGET_DIR.mkdir(parents=True, exist_ok=True)
    with open(_LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_launcher(*, force: bool = False) -> Path:
    """Build the launcher with Maven unless target/ is newer than its sources.

    Returns the target directory. Raises RuntimeError (with mvn's output tail) on failure.
    """
    if not force and _is_built():
        return TARGET_DIR
    with _build_lock():
        if not force and _is_built():  # another process built it while we waited
            return TARGET_DIR
        mvn = os.environ.get("MVN") or shutil.which("mvn")
        if not mvn:
            raise RuntimeError("cannot build the Neo4j launcher: `mvn` is not on PATH (set $MVN to override)")
        sources_mtime = _newest_source_mtime()
        _STAMP.unlink(missing_ok=True)
        for stale in [CDS_ARCHIVE, *TARGET_DIR.glob(f"{CDS_ARCHIVE.name}.*.tmp")]:
            stale.unlink(missing_ok=True)
        cmd = [mvn, "-q", "-B", "-f", str(POM), "package"]
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as e:
            raise RuntimeError(f"cannot run {' '.join(cmd)}: {e}") from e
        if proc.returncode != 0:
            raise RuntimeError(
                f"building the Neo4j launcher failed (exit {proc.returncode}): {' '.join(cmd)}\n"
                f"--- mvn output (tail) ---\n{_tail(proc.stdout)}"
            )
        _STAMP.touch()
        os.utime(_STAMP, (sources_mtime, sources_mtime))
    return TARGET_DIR


def _java_executable() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    java = shutil.which("java")
    if not java:
        raise RuntimeError("cannot start Neo4j: `java` is not on PATH and JAVA_HOME is not set")
    return java


def admin_command(java: Optional[str] = None) -> list[str]:
    """neo4j-admin as the launcher's jars provide it (neo4j-command-line's AdminTool; neo4j-import-tool is among them):
    what statetech.graph.bulk.run_import runs for ``database import full``."""
    build_launcher()
    return [java or _java_executable(), *_NEO4J_JVM_FLAGS, "-cp", classpath(), "org.neo4j.cli.AdminTool"]


class Neo4jServer:
    """A Neo4j server in a child JVM; use as a context manager or call start()/stop().

    data_dir: the Neo4j home to use and keep; by default a temp dir removed by stop().
    password: enables auth for user ``neo4j`` with this password; None disables auth.
    heap: the JVM's -Xmx. Transactions together may use 60% of it before Neo4j refuses more.
    class_data_sharing: False never touches the CDS archive; True uses it, dumping it first if
        missing; None (default) uses it and dumps it only outside CI ($CI unset), since CI starts
        from a fresh clone and would pay for the dump without ever reusing it.
        $STATETECH_NEO4J_CDS=0/1 overrides None.
    import_dir: files written by statetech's bulk path (statetech.graph.bulk.write_import_files) to load with
        neo4j-admin's importer into the empty database before the server starts; once it is up, the schema the files
        came with is created (and its indexes awaited), as a normal load would have it.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        password: Optional[str] = None,
        data_dir: Optional[os.PathLike] = None,
        heap: str = "4g",
        pagecache_mb: int = 256,
        startup_timeout: float = DEFAULT_STARTUP_TIMEOUT,
        stop_timeout: float = DEFAULT_STOP_TIMEOUT,
        jvm_args: Sequence[str] = (),
        class_data_sharing: Optional[bool] = None,
        import_dir: Optional[os.PathLike] = None,
    ) -> None:
        self.port = port
        self.import_dir = Path(import_dir) if import_dir is not None else None
        self.import_seconds: Optional[float] = None
        self.schema_seconds: Optional[float] = None
        self.password = password
        self.heap = heap
        self.pagecache_mb = pagecache_mb
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.jvm_args = tuple(jvm_args)
        self.class_data_sharing = class_data_sharing
        self._cds_dump: Optional[Path] = None
        self._requested_data_dir = Path(data_dir) if data_dir is not None else None
        self.data_dir: Optional[Path] = None
        self._owns_data_dir = False
        self.uri: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None
        self._log: Optional[IO[bytes]] = None
        self._reader: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self.startup_seconds: Optional[float] = None

    @property
    def auth(self) -> Optional[Tuple[str, str]]:
        return ("neo4j", self.password) if self.password is not None else None

    @property
    def log_path(self) -> Optional[Path]:
        return self.data_dir / JVM_LOG_NAME if self.data_dir else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> "Neo4jServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> "Neo4jServer":
        if self._proc is not None:
            raise RuntimeError("Neo4jServer already started")
        build_launcher()
        java = _java_executable()
        if self._requested_data_dir is not None:
            self.data_dir = self._requested_data_dir.resolve()
            self.data_dir.mkdir(parents=True, exist_ok=True)
            self._owns_data_dir = False
        else:
            self.data_dir = Path(tempfile.mkdtemp(prefix="statetech-neo4j-"))
            self._owns_data_dir = True

        cmd = [
            java,
            f"-Xmx{self.heap}",
            *_NEO4J_JVM_FLAGS,
            *self._cds_flags(),
            *self.jvm_args,
            "-cp",
            classpath(),
            MAIN_CLASS,
            "--port",
            str(self.port),
            "--data",
            str(self.data_dir),
            "--pagecache",
            str(self.pagecache_mb),
        ]
        if self._owns_data_dir:
            cmd.append("--delete-data-on-exit")
        if self.password is not None:
            cmd += ["--password", self.password]

        self._log = open(self.data_dir / JVM_LOG_NAME, "ab")
        if self.import_dir is not None:
            self._bulk_import(java)
        self._ready.clear()
        started = time.monotonic()
        try:
            self._proc = subprocess.Popen(
                cmd,
                cwd=self.data_dir,
                # The launcher shuts down when its stdin closes, which also happens if this
                # process dies without calling stop(): no orphaned JVMs holding ports and RAM.
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Own process group: a Ctrl-C meant for pytest or the foreground runner must not
                # hit the JVM before stop() has asked it to shut down in order.
                start_new_session=True,
            )
        except BaseException:
            self._cleanup_files()
            raise
        self._reader = threading.Thread(
            target=self._pump_output, args=(self._proc.stdout,), name="neo4j-output", daemon=True
        )
        self._reader.start()

        deadline = started + self.startup_timeout
        try:
            while not self._ready.wait(0.1):
                if self._proc.poll() is not None:
                    self._fail_start(f"the JVM exited with code {self._proc.returncode} before Neo4j was ready")
                if time.monotonic() > deadline:
                    self._fail_start(f"Neo4j was not ready within {self.startup_timeout:.0f} s")
        except KeyboardInterrupt:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started
        if self.import_dir is not None:
            try:
                self._create_imported_schema()
            except BaseException:
                self.stop()
                raise
        return self

    def _bulk_import(self, java: str) -> None:
        """neo4j-admin's offline importer, through its Java main class on the launcher's classpath (the jars include
        neo4j-import-tool), into this server's home while it is stopped."""
        from statetech.graph.bulk import ImportFiles, run_import

        files = ImportFiles.read(self.import_dir)
        started = time.monotonic()
        try:
            output = run_import(files, self.data_dir, admin=admin_command(java))
        except BaseException:
            self._cleanup_files()
            raise
        self.import_seconds = time.monotonic() - started
        if self._log is not None:
            self._log.write(output.encode("utf-8", "replace"))
            self._log.flush()

    def _create_imported_schema(self) -> None:
        import neo4j

        from statetech.graph.bulk import schema_statements

        started = time.monotonic()
        with neo4j.GraphDatabase.driver(self.uri, auth=self.auth) as driver:
            for statement in schema_statements(self.import_dir):
                driver.execute_query(statement)
        self.schema_seconds = time.monotonic() - started

    def _cds_flags(self) -> list[str]:
        mode = self.class_data_sharing
        if mode is None and os.environ.get("STATETECH_NEO4J_CDS") in ("0", "1"):
            mode = os.environ["STATETECH_NEO4J_CDS"] == "1"
        if mode is False:
            return []
        with contextlib.suppress(OSError):
            # A manual `mvn package` rewrites the jars without going through build_launcher();
            # the JVM would then silently ignore the archive forever instead of re-dumping it.
            if CDS_ARCHIVE.stat().st_mtime < LAUNCHER_JAR.stat().st_mtime:
                CDS_ARCHIVE.unlink()
        if CDS_ARCHIVE.is_file():
            return [f"-XX:SharedArchiveFile={CDS_ARCHIVE}"]
        if mode is None and os.environ.get("CI", "").lower() not in ("", "0", "false"):
            return []
        # Dumped at JVM exit under a private name, published by _terminate() with an atomic
        # rename: concurrent servers never read a half-written archive.
        self._cds_dump = CDS_ARCHIVE.with_name(f"{CDS_ARCHIVE.name}.{os.getpid()}.{id(self):x}.tmp")
        # Silences ~850 harmless "Skipping class ..." warnings the dump would add to the log.
        return [f"-XX:ArchiveClassesAtExit={self._cds_dump}", "-Xlog:cds=off", "-Xlog:cds+dynamic=off"]

    def _pump_output(self, stream: IO[bytes]) -> None:
        # Keeps draining after READY too: a JVM blocked on a full stdout pipe would hang.
        for raw in iter(stream.readline, b""):
            log = self._log
            if log is not None:
                log.write(raw)
                log.flush()
            if not self._ready.is_set():
                line = raw.decode("utf-8", "replace").strip()
                if line.startswith(READY_PREFIX):
                    self.uri = line[len(READY_PREFIX):].strip()
                    self._ready.set()
        stream.close()

    def _fail_start(self, reason: str) -> None:
        log_path = self.log_path
        self._terminate()
        jvm_tail = _file_tail(log_path) if log_path else ""
        debug_log = self.data_dir / "logs" / "debug.log" if self.data_dir else None
        debug_tail = _file_tail(debug_log, 30) if debug_log and debug_log.exists() else "<none>"
        self._cleanup_files()
        raise RuntimeError(
            f"Neo4j failed to start: {reason}\n"
            f"--- JVM output ({log_path}, tail) ---\n{jvm_tail}\n"
            f"--- Neo4j debug.log (tail) ---\n{debug_tail}"
        )

    def stop(self) -> None:
        """Shut Neo4j down cleanly, forcing it after stop_timeout; remove an owned temp dir."""
        self._terminate()
        self._cleanup_files()

    def _terminate(self) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                proc.stdin.close()  # the launcher's signal for an orderly shutdown
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    proc.wait()
        else:
            with contextlib.suppress(OSError):
                proc.stdin.close()
        if self._reader is not None:
            self._reader.join(timeout=10)
            self._reader = None
        self._publish_cds_archive(clean_exit=proc.returncode == 0)
        self._proc = None
        self.uri = None

    def _publish_cds_archive(self, *, clean_exit: bool) -> None:
        dump, self._cds_dump = self._cds_dump, None
        if dump is None:
            return
        try:
            if clean_exit and dump.is_file() and dump.stat().st_size > 0 and not CDS_ARCHIVE.exists():
                os.replace(dump, CDS_ARCHIVE)
            else:
                dump.unlink(missing_ok=True)
        except OSError:
            dump.unlink(missing_ok=True)

    def _cleanup_files(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._owns_data_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None
            self._owns_data_dir = False


@contextlib.contextmanager
def neo4j_for_benchmark(**server_options) -> Iterator[Tuple[str, Optional[str], Optional[str]]]:
    """(uri, user, password) of a Neo4j for a benchmark: the one NEO4J_URI names (NEO4J_USERNAME / NEO4J_PASSWORD),
    or else a server started here with ``server_options`` (heap, pagecache_mb, ...) and stopped on leaving."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield uri, os.environ.get("NEO4J_USERNAME"), os.environ.get("NEO4J_PASSWORD")
        return
    server = Neo4jServer(**server_options)
    server.start()
    try:
        user, password = server.auth or (None, None)
        yield server.uri, user, password
    finally:
        server.stop()


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run a local Neo4j 5.26 server until Ctrl-C.")
    parser.add_argument("--port", type=int, default=0, help="Bolt port (0: any free port; default)")
    parser.add_argument("--password", help="enable auth for user neo4j with this password")
    parser.add_argument("--data", type=Path, help="Neo4j home to use and keep (default: a temp dir, removed)")
    parser.add_argument("--heap", default="4g", help="JVM -Xmx (default 4g)")
    parser.add_argument("--pagecache-mb", type=int, default=256, help="page cache size in MiB (default 256)")
    parser.add_argument("--build-only", action="store_true", help="build the launcher (if stale) and exit")
    parser.add_argument("--import", dest="import_dir", type=Path,
                        help="bulk-import the files 'statetech load --bulk-import-dir DIR' wrote into the empty "
                             "database before starting (with --data, the home must not hold a database yet)")
    args = parser.parse_args(argv)
    if args.build_only:
        print(f"Neo4j launcher ready: {build_launcher()}", flush=True)
        return 0

    server = Neo4jServer(
        port=args.port, password=args.password, data_dir=args.data, heap=args.heap, pagecache_mb=args.pagecache_mb,
        import_dir=args.import_dir,
    )
    # SIGTERM should stop the JVM in order too, not just kill this process.
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        server.start()
        print(server.uri, flush=True)
        # Never echo the password: logs of CI runs are read by people.
        auth = "auth enabled for user neo4j" if args.password is not None else "auth disabled"
        print(
            f"Neo4j ready in {server.startup_seconds:.1f} s ({auth}); JVM log: {server.log_path}. Ctrl-C to stop.",
            file=sys.stderr,
            flush=True,
        )
        while server.running:
            time.sleep(0.5)
        log_path = server.log_path
        print(f"Neo4j exited on its own; JVM output tail:\n{_file_tail(log_path) if log_path else ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
