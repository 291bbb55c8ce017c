"""The plan as a document (`/plans/{id}/document`, `/diff`) is a link people open: readers may
have it (they can rebuild every version from GraphQL anyway), and a browser without credentials
is asked for them — Basic, with the token as the password — as on the audit page."""

from __future__ import annotations

import base64

from planapi.config import Settings
from tests.security.conftest import Tokens, http_client, running

PATHS = ("/plans/{plan}/document?format=html", "/plans/{plan}/diff?from=1&to=1&format=html")


def bearer_of(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def basic(token: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"me:{token}".encode()).decode()}


async def test_a_reader_opens_the_document_and_the_diff_and_a_browser_is_asked_for_a_token(
    settings: Settings, tokens: Tokens, readings_plan: str
) -> None:
    closed = settings.model_copy(update={"anonymous_role": "none"})
    async with running(closed) as app:
        for path in PATHS:
            url = path.format(plan=readings_plan)
            async with http_client(app) as browser:
                challenged = await browser.get(url)
                opened = await browser.get(url, headers=basic(tokens["reader"]))
                bearer = await browser.get(url, headers=bearer_of(tokens["reader"]))
                writer = await browser.get(url, headers=basic(tokens["editor"]))
            assert challenged.status_code == 401
            assert 'Basic realm="planapi", charset="UTF-8"' in challenged.headers.get_list(
                "www-authenticate"
            )
            for response in (opened, bearer):
                assert response.status_code == 200, (url, response.text)
                assert response.headers["content-type"].startswith("text/html")
            assert writer.status_code == 401, "Basic never carries a token that may write"
