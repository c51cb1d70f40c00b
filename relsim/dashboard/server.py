"""Serve the dashboard: Solara's web server (Starlette under uvicorn) on one host and port.

``relsim demo`` calls :func:`check_address` first, so that a port in use or a host that cannot
be bound is one line of error rather than a traceback from inside the server, then :func:`serve`.
Solara reads its settings from the environment when it is imported, so they are set here first:
the app module, the first preset, no usage telemetry (a classroom tool should not phone home),
and the page's title.
"""

from __future__ import annotations

import errno
import os
import socket

from relsim.errors import RelsimError

APP_MODULE = "relsim.dashboard.app"
#: Environment variable through which the server tells the page its first preset (a bundled
#: scenario's name or a file).
SCENARIO_ENV = "RELSIM_DEMO_SCENARIO"


#: Errors of ``bind`` that are the port's fault (in use, or reserved for the administrator);
#: any other (e.g. "cannot assign requested address") is the host's.
PORT_ERRORS = frozenset({errno.EADDRINUSE, errno.EACCES})
#: Seconds the server waits for open pages to let go when stopped (Ctrl+C).
SHUTDOWN_SECONDS = 1


def check_address(host: str, port: int) -> None:
    """Fail with one clear line, naming the flag at fault, if ``host:port`` cannot be used."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise RelsimError(f"--host: cannot resolve {host!r} ({exc.strerror})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno in PORT_ERRORS:
                raise RelsimError(
                    f"--port: cannot listen on {host}:{port} ({exc.strerror}); "
                    "expected a free port, e.g. --port 8766"
                ) from None
            raise RelsimError(
                f"--host: cannot listen on {host} ({exc.strerror}); expected an address of "
                "this machine, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every network)"
            ) from None


def configure(scenario: str) -> None:
    """Set the environment Solara and the dashboard read at import (so: before importing them)."""
    os.environ["SOLARA_APP"] = APP_MODULE
    os.environ[SCENARIO_ENV] = scenario
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "false")
    os.environ.setdefault("SOLARA_THEME_TITLE", "relsim")


def serve(scenario: str, host: str, port: int) -> None:
    """Run the dashboard's server until interrupted."""
    configure(scenario)
    import uvicorn

    uvicorn.run(
        "solara.server.starlette:app",
        host=host,
        port=port,
        log_level="warning",
        # Ctrl+C should stop the server at once, not wait for every open page to close.
        timeout_graceful_shutdown=SHUTDOWN_SECONDS,
    )
