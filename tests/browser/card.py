"""The history card in headless Chromium against a real Home Assistant.

    python -m tests.browser.card check          (script/browser, so script/test and CI)
    python -m tests.browser.card screenshots DIR (script/screenshots)

`check` seeds 24 days of history, logs in, saves a dashboard with the card (two
Hue temperatures and a PM2.5 by entity, a removed sensor's temperature by its
store key, compared with a week earlier) through the
lovelace websocket API, and checks that the card draws one line per series (and
one dashed line per series for the comparison), each with as many points as
the store answers `home_monitor/history` for the card's range, that switching
to 30 d asks the store again, that hovering shows the values, that the card
picker lists the card and its editor offers entities, devices, areas, the range
and the comparison, and that the browser logged no error.
`screenshots` seeds a year and two weeks and photographs the card at 7 d and 1 y in the light
and the dark theme. Needs playwright and Debian's chromium (CHROMIUM).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import signal
import sys
import tempfile
import time
from typing import Any

from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from tests.browser.live_hass import LiveHass, log

CARD = "home-monitor-history-card"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
HASS = 'document.querySelector("home-assistant").hass'

# What the card drew: per line its series, whether it is the comparison, its points
# (M and L commands of its path), and the range and bucket count it asked for.
DRAWN = """(card) => ({
  lines: [...card.shadowRoot.querySelectorAll("path.line")].map((p) => ({
    series: p.dataset.series,
    earlier: p.classList.contains("earlier"),
    points: (p.getAttribute("d").match(/[ML]/g) || []).length,
  })),
  start: card._data && card._data.start,
  end: card._data && card._data.end,
  buckets: card._data && card._data.buckets,
  error: card.shadowRoot.querySelector(".status.error")?.textContent || null,
})"""


def pick_series(page: Page) -> tuple[list[str], list[dict[str, str]]]:
    """Return the seeded series from `home_monitor/series`.

    Two Hue temperatures and a PM2.5 by entity id, and the old hall sensor's
    temperature by its key (no entity shows it).
    """
    series = page.evaluate(
        f'async () => (await {HASS}.callWS({{type: "home_monitor/series"}})).series'
    )
    seeded = [s for s in series if s["count"] > 100]
    shown = [s for s in seeded if s["entity_id"]]
    temperatures = [s["entity_id"] for s in shown if s["metric"] == "temperature"][:2]
    pm25 = [s["entity_id"] for s in shown if s["metric"] == "pm25"][:1]
    retired = [
        {"device_key": s["device_key"], "metric": s["metric"]}
        for s in seeded
        if not s["entity_id"] and s["device_name"] == "Old hall sensor"
    ]
    if len(temperatures) != 2 or not pm25 or not retired:
        raise AssertionError(f"the seeded series are not all listed: {series}")
    return [*temperatures, *pm25], retired


DASHBOARD = "home-monitor"


def save_dashboard(page: Page, card: dict[str, Any]) -> None:
    """Save a dashboard of one panel view with the card, as the dashboard editor would."""
    config = {
        "title": "Home Monitor",
        "views": [
            {"title": "History", "path": "history", "panel": True, "cards": [card]}
        ],
    }
    page.evaluate(
        f"""async ([config, url_path]) => {{
            const hass = {HASS};
            const dashboards = await hass.callWS({{type: "lovelace/dashboards/list"}});
            if (!dashboards.some((d) => d.url_path === url_path)) {{
                await hass.callWS({{type: "lovelace/dashboards/create", url_path,
                    title: "Home Monitor", icon: "mdi:chart-line", mode: "storage",
                    show_in_sidebar: true, require_admin: false}});
            }}
            await hass.callWS({{type: "lovelace/config/save", url_path, config}});
        }}""",
        [config, DASHBOARD],
    )


def open_browser(playwright: Any, hass: LiveHass, dark: bool = False) -> Any:
    """Return a Chromium context logged in as the onboarded user."""
    context = playwright.chromium.launch_persistent_context(
        str(hass.work / ("chromium-dark" if dark else "chromium")),
        executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
        headless=True, args=FLAGS, viewport={"width": 1100, "height": 760},
        locale="en-GB", timezone_id="UTC", color_scheme="dark" if dark else "light",
    )  # fmt: skip
    tokens = json.dumps(json.dumps(hass.browser_tokens()))
    context.add_init_script(f"localStorage.setItem('hassTokens', {tokens});")
    # An unhandled rejection reaches playwright as "Object": log what it was.
    context.add_init_script(
        "window.addEventListener('unhandledrejection', (e) => console.error("
        "'unhandled rejection: ' + JSON.stringify(e.reason) + ' at ' + location.pathname));"
    )
    return context


def wait_drawn(page: Page, lines: int, range_ms: int | None = None) -> dict[str, Any]:
    """Wait until the card drew `lines` lines (over `range_ms`); return what it drew."""
    card = page.locator(CARD).first
    card.wait_for(state="attached", timeout=60_000)
    end = time.monotonic() + 60
    while True:
        drawn = card.evaluate(DRAWN)
        if drawn["error"]:
            raise AssertionError(f"the card shows an error: {drawn['error']}")
        span_ok = (
            range_ms is None or (drawn["end"] or 0) - (drawn["start"] or 0) == range_ms
        )
        if len(drawn["lines"]) == lines and span_ok:
            return drawn
        if time.monotonic() > end:
            raise AssertionError(f"the card did not draw {lines} lines: {drawn}")
        page.wait_for_timeout(250)


def expected_points(
    page: Page,
    entities: list[str],
    keys: list[dict[str, str]],
    drawn: dict[str, Any],
) -> dict[str, int]:
    """Ask the store, as any client would, for the card's range; points per series."""
    answer = page.evaluate(
        f"""async ([entities, series, start, end, buckets]) => {HASS}.callWS({{
            type: "home_monitor/history", entity_ids: entities, series,
            start: new Date(start).toISOString(), end: new Date(end).toISOString(), buckets}})""",
        [entities, keys, drawn["start"], drawn["end"], drawn["buckets"]],
    )
    return {
        f"{s['device_key']}|{s['metric']}": len(s["points"]) for s in answer["series"]
    }


def check(hass: LiveHass) -> None:
    """Draw the card in Chromium; fail on a missing line, a wrong point count, an error."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    with sync_playwright() as playwright:
        context = open_browser(playwright, hass)
        page = context.pages[0] if context.pages else context.new_page()
        page.on("console", on_console)
        page.on(
            "pageerror", lambda err: errors.append(f"page error: {err.stack or err}")
        )
        sent: dict[int, str] = {}

        def on_websocket(ws: Any) -> None:
            # The card's own commands must be known to Home Assistant.
            def frame_sent(payload: str | bytes) -> None:
                msg = json.loads(payload)
                for one in msg if isinstance(msg, list) else [msg]:
                    sent[one.get("id")] = one.get("type")

            def frame_received(payload: str | bytes) -> None:
                msg = json.loads(payload)
                for one in msg if isinstance(msg, list) else [msg]:
                    kind = sent.get(one.get("id")) or ""
                    if kind.startswith("home_monitor/") and one.get("error"):
                        errors.append(f"{kind} answered {one['error']}")

            ws.on("framesent", frame_sent)
            ws.on("framereceived", frame_received)

        page.on("websocket", on_websocket)
        page.goto(f"{hass.base}/profile/general")
        page.wait_for_function(f"{HASS} && {HASS}.connected", timeout=60_000)
        entities, retired = pick_series(page)
        card = {"type": f"custom:{CARD}", "title": "History", "entities": entities,
                "series": retired, "range": "7d", "compare": "week"}  # fmt: skip
        lines = len(entities) + len(retired)
        save_dashboard(page, card)
        page.goto(f"{hass.base}/{DASHBOARD}/history")
        try:
            drawn = wait_drawn(page, 2 * lines, 7 * 86_400_000)
        except Exception:
            if debug := os.environ.get("BROWSER_DEBUG_DIR"):
                page.screenshot(path=Path(debug) / "failure.png")
                Path(debug, "errors.txt").write_text("\n".join(errors))
            raise
        log(
            f"the card drew {len(drawn['lines'])} lines at 7 d ({hass.elapsed():.0f} s)"
        )
        verify(page, entities, retired, drawn)

        check_hover(page)
        check_picker_and_editor(page)
        log("hover values, the card picker entry and the editor: fine")

        page.locator(CARD).get_by_role("button", name="30 d").click()
        drawn = wait_drawn(page, 2 * lines, 30 * 86_400_000)
        verify(page, entities, retired, drawn)
        log(f"30 d: asked the store again, drew it ({hass.elapsed():.0f} s)")
        context.close()
    if errors:
        raise AssertionError("the browser logged errors:\n  " + "\n  ".join(errors))


def check_hover(page: Page) -> None:
    """Hovering a panel shows the time and each series' value with its unit."""
    # Playwright scrolls the plot into view and moves the mouse onto its middle in steps,
    # so the plot gets mouse moves wherever the card sits on the page.
    hit = page.locator(CARD).locator("svg .hit").first
    box = hit.bounding_box()
    assert box is not None
    page.mouse.move(0, 0)
    hit.hover(position={"x": box["width"] * 0.5, "y": box["height"] * 0.5})
    tooltip = page.locator(CARD).locator(".tooltip")
    tooltip.wait_for(state="visible", timeout=5_000)
    text = tooltip.inner_text()
    assert "°C" in text, text
    assert "a week earlier" in text, text
    page.mouse.move(0, 0)
    tooltip.wait_for(state="hidden", timeout=5_000)


PICKER = """async () => {
  const hass = document.querySelector("home-assistant").hass;
  const Card = customElements.get("home-monitor-history-card");
  const listed = (window.customCards || []).find((c) => c.type === "home-monitor-history-card");
  const stub = Card.getStubConfig(hass);
  const editor = Card.getConfigElement();
  editor.hass = hass;
  editor.setConfig({ ...stub, range: "custom", start: "2026-01-01 00:00:00", end: "2026-02-01 00:00:00" });
  // Inside Home Assistant's element, as in the card editor dialog: the form's selectors take
  // the language and formats from contexts it provides.
  document.querySelector("home-assistant").append(editor);
  let form = null;
  for (let i = 0; i < 100 && !form?.shadowRoot?.childElementCount; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    form = editor.querySelector("ha-form");
  }
  const names = (form?.schema || []).map((s) => s.name);
  // A change in the form becomes the card's new config (a preset range drops start and end).
  let changed = null;
  editor.addEventListener("config-changed", (ev) => { changed = ev.detail.config; });
  form.dispatchEvent(new CustomEvent("value-changed", { detail: { value: { ...form.data, range: "1y" } } }));
  editor.remove();
  return { listed: !!listed, stub, names, changed };
}"""


def check_picker_and_editor(page: Page) -> None:
    """Check the card picker's entry, the stub config and the editor's form."""
    found = page.evaluate(PICKER)
    assert found["listed"], found
    assert found["stub"]["entities"], found
    assert found["stub"]["entities"][0].startswith("sensor."), found
    for name in (
        "entities",
        "devices",
        "areas",
        "series",
        "range",
        "start",
        "end",
        "compare",
    ):
        assert name in found["names"], found
    changed = found["changed"]
    assert changed == {"entities": found["stub"]["entities"], "range": "1y"}, found


def verify(
    page: Page,
    entities: list[str],
    retired: list[dict[str, str]],
    drawn: dict[str, Any],
) -> None:
    """One line per series, with the store's number of points; a comparison line each."""
    main = [line for line in drawn["lines"] if not line["earlier"]]
    earlier = [line for line in drawn["lines"] if line["earlier"]]
    expected = expected_points(page, entities, retired, drawn)
    # Drawn by panel (one per unit), so in another order than asked.
    assert sorted(line["series"] for line in main) == sorted(expected), drawn
    assert sorted(line["series"] for line in earlier) == sorted(expected), drawn
    for line in main:
        want = expected[line["series"]]
        assert line["points"] == want, (
            f"{line['series']}: drew {line['points']} points, the store has {want}"
        )
        assert want > 100, f"{line['series']}: only {want} buckets"
    assert all(line["points"] > 100 for line in earlier), earlier
    log(
        "lines and points: "
        + ", ".join(f"{line['series']} {line['points']}" for line in main)
    )


def screenshots(hass: LiveHass, images: Path) -> None:
    """Photograph the card at 7 d (against a year earlier) and 1 y, light and dark."""
    with sync_playwright() as playwright:
        for dark in (False, True):
            theme = "dark" if dark else "light"
            context = open_browser(playwright, hass, dark)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(f"{hass.base}/profile/general")
            page.wait_for_function(f"{HASS} && {HASS}.connected", timeout=60_000)
            entities, _ = pick_series(page)
            for range_, compare in (("7d", "year"), ("1y", None)):
                card = {"type": f"custom:{CARD}", "title": "Living room and air quality",
                        "entities": entities, "range": range_}  # fmt: skip
                if compare:
                    card["compare"] = compare
                save_dashboard(page, card)
                page.goto(f"{hass.base}/{DASHBOARD}/history")
                wait_drawn(page, len(entities) * (2 if compare else 1))
                page.wait_for_timeout(800)
                locator = page.locator(CARD).first
                if range_ == "7d":
                    box = locator.locator("svg").first.bounding_box()
                    assert box is not None
                    page.mouse.move(
                        box["x"] + box["width"] * 0.62, box["y"] + box["height"] * 0.5
                    )
                    page.wait_for_timeout(300)
                path = images / f"history-card-{range_}-{theme}.png"
                locator.screenshot(path=path)
                log(f"{path.name}: {path.stat().st_size // 1024} KB")
            context.close()


def main() -> None:
    """Run the check or take the screenshots."""
    # `timeout` stops this with SIGTERM: leave through the context managers, which stop
    # Home Assistant, the simulators and Chromium.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    repo = Path(__file__).resolve().parents[2]
    mode = sys.argv[1] if len(sys.argv) > 1 else "check"
    budget = float(
        os.environ.get("BROWSER_BUDGET", "150" if mode == "check" else "400")
    )
    with tempfile.TemporaryDirectory(prefix="home-monitor-browser.") as work:
        # The screenshots' 7 d range against a year earlier reaches back 372 days.
        days = 24 if mode == "check" else 380
        with LiveHass(repo, Path(work), days, budget) as hass:
            if mode == "check":
                check(hass)
            else:
                screenshots(hass, Path(sys.argv[2]))
            log(f"{mode}: passed in {hass.elapsed():.0f} s")


if __name__ == "__main__":
    main()
