"""The dashboard in a real Chromium over a real pipeline (tansu, the model, chdb).

``topictrack run`` takes the sample stream without one story; the page must
show the trending topics' keywords, a clicked topic's timeline and posts, and
the health panel's counts as ``/api/v1/stats`` has them. Then a story no one
has seen arrives through HTTP ingest and its ``new`` alert must appear in the
live feed, pushed over SSE, without a reload. Screenshots are kept.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter

from streamer import sample_stream
from tests.integration.integration_helpers import Worker, cli

#: A story absent from the sample stream, in its own words (so a new topic),
#: and about nothing the sample's stories are about: the alert detector treats
#: a same-day topic close to an alerted one as the same story (AlertSettings.dedupe_*).
COMET = (
    "Comet Velaris is visible tonight with binoculars low in the {sky} sky",
    "Astronomers say comet Velaris will be brightest on {day}, look {sky}",
    "Amazing photo of comet Velaris and its long tail over {town}",
    "Comet Velaris tail now stretches across the {sky} sky, stargazers in {town} report",
    "Telescope clubs in {town} host comet Velaris viewing nights until {day}",
)
SLOTS = {
    "sky": ("western", "eastern", "northern", "evening"),
    "day": ("Friday", "Saturday", "Sunday"),
    "town": ("Varn", "Holmby", "Easterlin", "Port Adda", "Kilmere", "Duna"),
}
#: Two days after the sample stream: outside the detector's one-day window of
#: related stories, so nothing earlier can make it "the same story again".
LATER_S = 2 * 86400


def comet_events(after_ts: float, n: int = 30) -> list[dict]:
    out = []
    for i in range(n):
        fields = {k: v[i % len(v)] for k, v in SLOTS.items()}
        out.append(
            {
                "id": f"comet-{i}",
                "ts": after_ts + LATER_S + 20 * (i + 1),
                "text": COMET[i % len(COMET)].format(**fields),
            }
        )
    return out


def post(url: str, body: bytes) -> dict:
    req = urllib.request.Request(url, data=body, method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def test_the_page_shows_trends_detail_health_and_a_pushed_alert(browser, tmp_path, artifacts):
    events = [e for e in sample_stream.generate(seed=7, scale=0.15) if e["label"] != "chatter"]
    src = tmp_path / "stream.jsonl"
    src.write_text("\n".join(json.dumps(e) for e in events) + "\n")
    data = tmp_path / "data"
    with Worker(data) as w:
        base = f"http://127.0.0.1:{w.port}"
        res = cli("produce", str(src), "--data-dir", str(data), "--quiet")
        assert res.returncode == 0, res.stdout + res.stderr
        w.wait_for(lambda c: c.get("sink.events", 0) >= len(events), what="stream stored")
        trending = w.get("/api/v1/trending?limit=15")["trending"]
        assert trending, "nothing trends after the sample stream"

        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(base + "/")
        page.evaluate("window.__noReload = 1")
        # Trending now: the ranked topics' keywords are on the page.
        page.wait_for_selector("tr.topic", timeout=30_000)
        body = page.inner_text("#trending-body")
        for row in trending[:3]:
            assert row["keywords"][0] in body, (row, body)
        # The page's figures are the CLI's: `topictrack trending` on the same data.
        shown = cli("trending", "--data-dir", str(data), "--json", "--limit", "15")
        assert shown.returncode == 0, shown.stderr
        rows = page.eval_on_selector_all(
            "tr.topic",
            "els => els.map(e => [Number(e.dataset.topic), Number(e.children[2].textContent)])",
        )
        assert rows == [
            [r["topic_id"], r["window_count"]] for r in json.loads(shown.stdout)["trending"]
        ]
        assert "event-time now" in page.inner_text("header")
        assert "2025-03-14" in page.inner_text("#now")  # the stream's own time, not today

        # Click the top topic: its timeline and its representative posts.
        top = trending[0]
        page.click(f"tr.topic[data-topic='{top['topic_id']}']")
        page.wait_for_selector("#detail-body h3", timeout=20_000)
        detail = w.get(f"/api/v1/topics/{top['topic_id']}")
        posts = page.inner_text("#detail-body")
        assert detail["topic"]["examples"][0][:40] in posts
        assert "Lineage" in posts and "Keyword changes" in posts
        page.wait_for_selector("#timeline-chart canvas", timeout=20_000)
        assert top["label"][:20] in page.inner_text("#timeline-chart")
        page.screenshot(path=str(artifacts / "dashboard-1280.png"), full_page=True)

        # Health: the page's counts are /api/v1/stats' counts (once the page has refreshed).
        stats = w.get("/api/v1/stats")["counters"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cards = page.inner_text("#health-cards")
            if f"{stats['embed.received']}\nembed in" in cards:
                break
            page.wait_for_timeout(1000)
        assert f"{stats['embed.received']}\nembed in" in cards, (cards, stats)
        assert f"{stats['sink.events']}\nsink out (events)" in cards
        assert f"{stats['track.assigned']}\ntrack out" in cards

        # Assign: a pasted text gets its topic distribution from the live engine.
        page.fill("#assign-text", detail["topic"]["examples"][0])
        page.click("#assign-form button")
        page.wait_for_selector("#assign-body .bars .bar", timeout=60_000)
        assert detail["topic"]["label"][:12] in page.inner_text("#assign-body")
        # A user's profile: their topics with shares, and picks that explain themselves.
        # The most active user whose posts found a topic (a waiting post adds none).
        fan, profile = next(
            (u, p)
            for u, _ in Counter(e["user_id"] for e in events).most_common(20)
            if (p := w.get(f"/api/v1/users/{u}/interests"))["topics"]
        )
        page.fill("#user-id", fan)
        page.click("#user-form button")
        page.wait_for_selector("#user-body .interests .bar", timeout=20_000)
        assert profile["topics"][0]["label"][:12] in page.inner_text("#user-body .interests")
        assert page.eval_on_selector_all("#user-body .picks li", "els => els.length") >= 1
        page.fill("#user-id", "nobody-at-all")
        page.click("#user-form button")
        page.wait_for_selector("#user-body:has-text('no profile')", timeout=20_000)
        # Hierarchy: the engine's tree, with the top topic among its leaves.
        page.wait_for_selector("#hierarchy-body .tree", timeout=20_000)
        assert f"#{top['topic_id']} " in page.inner_text("#hierarchy-body")

        # A new story, through HTTP ingest: its `new` alert is pushed into the feed.
        last = max(e["ts"] for e in events)
        answer = post(
            base + "/api/v1/events",
            "\n".join(json.dumps(e) for e in comet_events(last)).encode(),
        )
        assert answer["accepted"] == 30 and answer["rejected"] == []
        page.wait_for_selector("#alert-feed li.fresh:has-text('velaris')", timeout=240_000)
        item = page.inner_text("#alert-feed li.fresh")
        assert "new" in item.lower() and "velaris" in item.lower()
        assert page.evaluate("window.__noReload") == 1, "the page reloaded"
        # Each alert once: the SSE feed never repeats what the list already showed.
        ids = page.eval_on_selector_all("#alert-feed li", "els => els.map(e => e.dataset.alert)")
        assert len(ids) == len(set(ids))
        # ... and the same alerts as `topictrack alerts` (once the sink has stored the new one).
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            listed = cli("alerts", "--data-dir", str(data), "--json")
            cli_ids = {json.loads(ln)["alert_id"] for ln in listed.stdout.splitlines()}
            if cli_ids == set(ids):
                break
            time.sleep(2)
        assert cli_ids == set(ids), (cli_ids, ids)
        page.screenshot(path=str(artifacts / "dashboard-alert-1280.png"), full_page=True)
        phone = browser.new_page(viewport={"width": 390, "height": 844})
        phone.goto(base + "/")
        phone.wait_for_selector("tr.topic", timeout=30_000)
        phone.screenshot(path=str(artifacts / "dashboard-390.png"), full_page=True)
        assert errors == [], errors
