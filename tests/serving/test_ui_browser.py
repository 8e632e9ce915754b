"""The CSM page end to end: a real `bentoml serve`, the daily job, and headless Chromium.

Uses Debian's chromium (/usr/bin/chromium, installed by .ci/run), never a downloaded browser.
Screenshots go to test-artifacts/ui/ (gitignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from serving.dailystore import DailyStore
from serving.store import Store

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "ui"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    # in CI (.ci/run installs it) a missing browser fails the test instead of skipping it
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs Debian's chromium (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def daily_run(server, model_store, params, tmp_path_factory):
    """Today's list in the service's database, from the same world the service reads."""
    from serving.daily import run_daily

    return run_daily(
        str(server["source"]),
        params,
        database_url=server["database_url"],
        tracking_uri=model_store,
        now=pd.Timestamp.now(tz="UTC"),
        out=tmp_path_factory.mktemp("reports"),
    )


def test_csm_acknowledges_an_escalation_in_the_browser(server, daily_run, auth):
    from playwright.sync_api import expect, sync_playwright

    token = auth["Authorization"].removeprefix("Bearer ")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    store = Store(server["database_url"])
    flagged = DailyStore(store).daily_list(min_level_index=1)
    assert flagged, "the daily run flagged no account; the test world needs a troubled account"
    target = flagged[0]
    owner, account = target["csm_owner"], target["account_id"]

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(base_url=server["url"], viewport={"width": 1360, "height": 900})
            page.set_default_timeout(30_000)

            page.goto("/ui")
            assert "/ui/login" in page.url  # no session: the login form
            page.screenshot(path=str(ARTIFACTS / "01-login.png"))
            page.fill("input[name=name]", "E2E Tester")
            page.fill("input[name=token]", token)
            page.click("button[type=submit]")
            expect(page.locator("#risk-list")).to_be_visible()
            assert page.url.rstrip("/").endswith("/ui")
            assert token not in page.url
            all_rows = page.locator("#risk-list tbody tr").count()
            assert all_rows == len(daily_run.ranked)
            page.screenshot(path=str(ARTIFACTS / "02-list.png"), full_page=True)

            with page.expect_navigation():
                page.select_option("#owner", owner)  # the inline script submits on change
            owners = page.locator("#risk-list td.owner").all_inner_texts()
            assert owners and set(owners) == {owner}
            assert len(owners) < all_rows
            page.screenshot(path=str(ARTIFACTS / "03-list-filtered.png"), full_page=True)

            page.click(f"tr[data-account='{account}'] a")
            expect(page.locator("#summary")).to_be_visible()
            assert page.locator("#history svg").count() == 1
            assert page.locator("#reasons svg").count() == 1
            assert page.locator("#tickets svg, #usage svg").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "04-account.png"), full_page=True)

            page.fill("#ack-form input[name=note]", "called the customer")
            page.click("#ack")
            expect(page.locator("#message")).to_contain_text("E2E Tester")
            expect(page.locator("#audit-trail .ev-acknowledgements")).to_have_count(1)
            assert page.locator("#ack").is_disabled()
            page.screenshot(path=str(ARTIFACTS / "05-acknowledged.png"), full_page=True)

            # a phone: nothing past the window's right edge (the header's "Sign out", the
            # charts' cards and the ladder's tables went past it; wide tables scroll in their card)
            page.set_viewport_size({"width": 360, "height": 740})
            for path in (f"/ui/account/{account}", "/ui/lang/de?next=/ui/"):
                page.goto(path)
                assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
            expect(page.locator("header button[type=submit]")).to_be_in_viewport()
            page.screenshot(path=str(ARTIFACTS / "06-phone-list-de.png"))
        finally:
            browser.close()

    acks = store.rows("acknowledgements", account)
    assert [(a["by"].split(" (key ")[0], a["note"]) for a in acks] == [
        ("E2E Tester", "called the customer")
    ]
    assert acks[0]["by"].endswith(")")  # and the key of the token it signed in with
    assert store.state(account).acknowledged_at is not None
    store.close()
