"""The web console at ``/ui``: one HTML page and its static files, shipped in the package.

The page holds no data: its script asks the JSON API for everything, with the API key (when
access control is on) as a bearer token. So the page itself needs no key, and the key never
appears in a URL or a cookie.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

CONSOLE = Path(__file__).resolve().parent.parent / "console"

# Only the server's own scripts, styles and API: no inline script, nothing from elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def mount(app: FastAPI) -> None:
    app.mount("/ui/static", StaticFiles(directory=CONSOLE / "static"), name="console-static")

    @app.get("/ui", include_in_schema=False)
    async def console() -> FileResponse:
        return FileResponse(CONSOLE / "index.html", headers=SECURITY_HEADERS)

    @app.get("/ui/", include_in_schema=False)
    async def console_slash() -> RedirectResponse:
        return RedirectResponse("/ui")
