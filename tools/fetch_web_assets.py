"""Put the dashboard's browser assets where Solara looks for them, so it works offline.

Solara's page loads its front end (the Vuetify app, RequireJS, Font Awesome) and Vega-Lite from
a CDN, through a proxy in the Solara server that keeps a copy of each file in a cache folder
(``<prefix>/share/solara/cdn/``). A classroom laptop, or a build machine, may have no route to
that CDN, and then the page stays blank. This script fills the cache with the same files taken
from the npm registry by ``npm pack`` (the ordinary client), so the dashboard never needs the
CDN. Without npm it says so and leaves the cache alone: online, Solara then fetches the files
itself.

Run with the Python of the environment that holds Solara: ``.venv/bin/python
tools/fetch_web_assets.py`` (``make`` does this).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: What Solara's page asks for, as ``name@version`` exactly as it appears in the CDN path.
#: The versions are those written in solara's templates and widgets (server/templates/
#: solara.html.j2, widgets/vue/vegalite.vue, widgets/vue/gridlayout_v3.vue) for the installed
#: solara; check them when upgrading solara.
ASSETS = (
    "@widgetti/solara-vuetify3-app@5.2.0",
    "@widgetti/vue-grid-layout@2.3.13-alpha.2",
    "requirejs@2.3.6",
    "font-awesome@4.5.0",
    "vega@5",
    "vega-lite@5",
    "vega-embed@6",
)

_MARKER = ".relsim-complete"


def cache_dir() -> Path:
    """The folder Solara's asset proxy reads before it tries the CDN."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def _unpack(archive: Path, target: Path) -> None:
    """Extract the ``package/`` folder of an npm tarball into ``target``."""
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.name.startswith("package/") or not (member.isfile() or member.isdir()):
                continue
            member.name = member.name.removeprefix("package/")
            tar.extract(member, tmp, filter="data")
    (tmp / _MARKER).touch()
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)


def fetch(spec: str, root: Path, work: Path) -> bool:
    """Fetch one package into ``root/spec``; return whether it is there afterwards."""
    target = root / spec
    if (target / _MARKER).exists():
        return True
    done = subprocess.run(
        ["npm", "pack", spec, "--silent", "--pack-destination", str(work)],
        capture_output=True,
        text=True,
        check=False,
    )
    names = done.stdout.split()
    if done.returncode != 0 or not names:
        message = done.stderr.strip().splitlines()[-1:] or ["no output"]
        print(f"fetch-web-assets: npm pack {spec} failed: {message[0]}", file=sys.stderr)
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    _unpack(work / names[-1], target)
    return True


def main() -> int:
    """Fill Solara's asset cache; exit 1 if npm is there but a package could not be fetched."""
    if shutil.which("npm") is None:
        print(
            "fetch-web-assets: npm not found; the dashboard will load its browser assets "
            "from the CDN (needs the internet)",
            file=sys.stderr,
        )
        return 0
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        ok = [fetch(spec, root, Path(work)) for spec in ASSETS]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
