"""Headless Chromium driven over the DevTools protocol on a pipe: one browser for many pages.

Launching ``chromium --headless --dump-dom`` once per page costs about 2.5 s
here; this starts Debian's ``chromium`` once with ``--remote-debugging-pipe``
(the protocol on file descriptors 3 and 4, messages as JSON ending in a NUL
byte) and loads each page in the same tab. No Python package is needed.

    with Chromium() as browser:
        page = browser.open("file:///tmp/report.html#step-3")
        page["title"], page["text"], page["html"], page["probe"]
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from typing import Any

INSTALL = "install it with: apt-get install -y chromium (Debian's package; .ci/run does this)"
TIMEOUT = 30.0

# What a page reports once loaded: its title, rendered text (innerText: hidden sections left out), DOM, and `probe`.
_REPORT = (
    "JSON.stringify({title: document.title, text: document.body ? document.body.innerText : '',"
    " html: document.documentElement.outerHTML, probe: (function () { try { return String(eval(%s)); }"
    " catch (e) { return 'error: ' + e; } })()})"
)


def executable() -> str:
    """The chromium binary; AssertionError with the install line if there is none."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, f"headless Chromium is needed for the HTML report tests: {INSTALL}"
    return found


class Chromium:
    """One headless browser with one tab, for the length of a ``with`` block."""

    def __init__(self) -> None:
        args = [executable(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe", "about:blank"]
        # The protocol runs on the browser's fds 3 (commands in) and 4 (replies out): route our pipes there.
        self.proc = subprocess.Popen(
            ["sh", "-c", 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0
        self.buffer = b""
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=self.session)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self.send("Browser.close", {})
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()

    def send(self, method: str, params: dict[str, Any], session: str | None = None) -> int:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(message).encode() + b"\0")
        self.proc.stdin.flush()
        return self.next_id

    def receive(self, deadline: float) -> dict[str, Any]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        while b"\0" not in self.buffer:
            left = deadline - time.monotonic()
            assert left > 0, "Chromium did not answer within 30 s"
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 1 << 20)
                assert chunk, f"Chromium exited (code {self.proc.poll()})"
                self.buffer += chunk
        raw, self.buffer = self.buffer.split(b"\0", 1)
        result: dict[str, Any] = json.loads(raw)
        return result

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send a command and wait for its answer (events that arrive meanwhile are kept)."""
        wanted = self.send(method, params or {}, session)
        deadline = time.monotonic() + TIMEOUT
        while True:
            message = self.receive(deadline)
            if message.get("id") == wanted:
                assert "error" not in message, f"{method}: {message['error']}"
                answer: dict[str, Any] = message.get("result", {})
                return answer
            self.events.append(message)

    def wait_for(self, event: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, message in enumerate(self.events):
                if message.get("method") == event:
                    del self.events[: i + 1]
                    return
            self.events.append(self.receive(deadline))

    def navigate(self, url: str) -> bool:
        """Go to ``url`` and wait until it has loaded; False (and no wait) if only the fragment changed."""
        self.events.clear()
        navigation = self.call("Page.navigate", {"url": url}, self.session)
        assert "errorText" not in navigation, f"{url}: {navigation['errorText']}"
        if "loaderId" not in navigation:
            return False
        self.wait_for("Page.loadEventFired")
        return True

    def open(self, url: str, probe: str = "undefined") -> dict[str, str]:
        """Load ``url`` and return its title, rendered text, DOM and the value of the JavaScript expression ``probe``."""
        if not self.navigate(url):  # only the fragment changed: load the document afresh
            self.navigate("about:blank")
            self.navigate(url)
        answer = self.call("Runtime.evaluate", {"expression": _REPORT % json.dumps(probe), "returnByValue": True}, self.session)
        page: dict[str, str] = json.loads(answer["result"]["value"])
        return page
