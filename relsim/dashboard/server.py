"""Serve the dashboard: Solara's web server (Starlette under uvicorn) on one host and port.

``relsim demo`` calls :func:`check_address` first, so that a port in use or a host that cannot
be bound is one line of error rather than a traceback from inside the server, then :func:`serve`.
Solara reads its settings from the environment when it is imported, so they are set here first:
the app module, the first preset, no usage telemetry (a classroom tool should not phone home),
and the page's title.
"""

from __future__ import annotations

import os
import socket

from relsim.errors import RelsimError

APP_MODULE = "relsim.dashboard.app"
#: Environment variable through which the server tells the page its first preset (a bundled
#: scenario's name or a file).
SCENARIO_ENV = "RELSIM_DEMO_SCENARIO"


def check_address(host: str, port: int) -> None:
    """Fail with one clear line if ``host:port`` cannot be listened on."""
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
            raise RelsimError(
                f"--port: cannot listen on {host}:{port} ({exc.strerror}); "
                "expected a free port, e.g. --port 8766"
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

    uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning")
