"""A slow network in the browser tests: Playwright holds one request's answer (or the request
itself) until the test lets it go, and the page says when an answer has been handled (so a test
can wait for an answer the page must *not* draw)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from tests.web.browser_support import submit_sign_in, watch_problems, watched_page

#: in every page of the context: each answer a script read through ``fetch`` (its address and
#: body) is listed in ``window.__handled`` once the code that awaited it has run to its next wait
#: (a task queued when the body was read runs after the reader's microtasks)
HANDLED = """(() => {
  const fetch0 = window.fetch;
  window.__handled = [];
  window.fetch = async (...args) => {
    const r = await fetch0(...args);
    const text = r.text.bind(r);
    const what = String(args[0]) + " " + String((args[1] && args[1].body) || "");
    r.text = async () => {
      const body = await text();
      setTimeout(() => window.__handled.push(what), 0);
      return body;
    };
    return r;
  };
})();"""


def slow_page(browser: Any, url: str, user: str, path: str) -> Any:
    """A page signed in as ``user`` at ``path`` (``page.problems``: its script and console
    errors; dialogs accepted, in ``page.dialogs``) that lists the answers it handled
    (:func:`wait_handled`)."""
    page = watch_problems(watched_page(browser, dialogs="accept"))
    page.add_init_script(HANDLED)
    page.goto(url + path)
    submit_sign_in(page, user, then=url + path)
    page.wait_for_selector("body[data-ready='1']", timeout=15_000)
    return page


def wait_handled(page: Any, fragment: str, count: int = 1) -> None:
    """Until the page has handled ``count`` answers whose address or request body holds
    ``fragment``."""
    page.wait_for_function(
        "([f, n]) => window.__handled.filter((w) => w.includes(f)).length >= n",
        arg=[fragment, count],
        timeout=15_000,
    )


class Hold:
    """The first request to an address matching ``pattern`` for which ``when(request)`` holds is
    held: sent to the server at once and its answer kept (``send``), or not sent at all until
    :meth:`release`; every other request goes its way. ``sent`` lists each request's body
    (``None`` for none) in the order the page made them."""

    def __init__(
        self, page: Any, pattern: str, when: Callable[[Any], bool] = lambda r: True, *, send: bool = True
    ) -> None:
        self.page = page
        self.held: list[tuple[Any, Any]] = []
        self.sent: list[str | None] = []

        def handler(route: Any) -> None:
            self.sent.append(route.request.post_data)
            if not self.held and when(route.request):
                self.held.append((route, route.fetch() if send else None))
            else:
                route.continue_()

        page.route(re.compile(pattern), handler)

    def wait(self) -> None:
        """Until the request is held."""
        deadline = time.monotonic() + 15.0
        while not self.held and time.monotonic() < deadline:
            self.page.wait_for_timeout(50)
        assert self.held, "the page never made the request to hold"

    def release(self) -> None:
        """Its answer to the page (or the request to the server)."""
        route, answer = self.held[0]
        if answer is None:
            route.continue_()
        else:
            route.fulfill(response=answer)


def problems(page: Any, *statuses: int) -> list[str]:
    """``page.problems`` but for the browser's own line of an answer with one of ``statuses`` (the
    refusal a test brings about)."""
    said = [f"the server responded with a status of {status} " for status in statuses]
    return [p for p in page.problems if not any(s in p for s in said)]
