"""Running the explorer: uvicorn on a socket bound here, so the URL printed is the one actually listening."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

from statetech.graph.errors import StatetechError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class ServeError(StatetechError):
    """The explorer could not start (the address is taken, the host does not exist, ...)."""


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host``:``port`` (0 picks a free port); a clear error when that is impossible."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ServeError(f"cannot listen on {host!r}: {exc.strerror}; give --host an address such as 127.0.0.1") \
            from None
    family, kind, proto, _name, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror}; is another server using that port? "
                         "Give another with --port (or --port 0 for any free one)") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_for(sock: socket.socket, host: str) -> str:
    port = sock.getsockname()[1]
    shown = host if host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


@dataclass
class RunningServer:
    """An explorer serving in a background thread (tests and benchmarks); ``stop()`` shuts it down."""

    url: str
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _uvicorn_server(app, *, log_level: str, workers_limit: int | None):
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off",
                            limit_concurrency=workers_limit, timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


def _start_search_index(app, announce: Callable[[str], None] | None = None) -> None:
    """On the embedded store, build the in-process search index in the background (searches use the store's query
    until it is ready); the server's store is read-only, so the index never goes stale."""
    from statetech.graph.search_index import start_search_index

    def ready(background) -> None:
        if background.index is not None:
            announce(f"search index ready: {background.index.size:,} entities in {background.build_seconds:.1f} s")
        else:
            announce(f"search index not used ({background.error or 'the store has entities it cannot index'}); "
                     "searches run the store's query")

    start_search_index(app.state.graph, ready if announce else None)


def serve(graph, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, open_browser: bool = False,
          announce: Callable[[str], None] = print, log_level: str = "warning", **app_options) -> None:
    """Serve the explorer over ``graph`` until Ctrl-C (uvicorn handles the signal and shuts down cleanly)."""
    from statetech.web.app import create_app

    app = create_app(graph, **app_options)
    sock = bind(host, port)
    url = url_for(sock, host)
    if not is_loopback(host):
        announce(f"warning: listening on {host}, which other machines can reach; the explorer has no login. "
                 "Use --host 127.0.0.1 to keep it on this machine.")
    announce(f"statetech explorer on {graph.location}: {url}  (read-only; Ctrl-C to stop)")
    _start_search_index(app, announce)  # after the URL line, which scripts (benchmarks/bench_serve.py) wait for
    if open_browser:
        import webbrowser

        threading.Timer(0.5, webbrowser.open, args=(url,)).start()
    server = _uvicorn_server(app, log_level=log_level, workers_limit=None)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()


def serve_in_thread(graph, *, host: str = DEFAULT_HOST, port: int = 0, log_level: str = "warning",
                    **app_options) -> RunningServer:
    """Start the explorer in a daemon thread and return once it accepts connections (tests, benchmarks)."""
    import time

    from statetech.web.app import create_app

    app = create_app(graph, **app_options)
    sock = bind(host, port)
    _start_search_index(app)
    server = _uvicorn_server(app, log_level=log_level, workers_limit=None)
    server.install_signal_handlers = lambda: None  # not the main thread
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ServeError("the explorer did not start")
        time.sleep(0.02)
    return RunningServer(url_for(sock, host), server, thread)
