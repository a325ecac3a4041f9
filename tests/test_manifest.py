"""The files HACS and Home Assistant read: manifest.json, hacs.json, translations, icons."""

import json
from pathlib import Path
import re
from typing import Any

from awesomeversion import AwesomeVersion
from homeassistant import loader
from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
from packaging.requirements import Requirement

from custom_components.home_monitor.const import DOMAIN

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / DOMAIN
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
HACS_KEYS = {
    "name",
    "content_in_root",
    "zip_release",
    "filename",
    "hide_default_branch",
    "country",
    "homeassistant",
    "hacs",
    "persistent_directory",
    "render_readme",
}


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_manifest_keys_and_order() -> None:
    manifest = _load(INTEGRATION / "manifest.json")
    keys = list(manifest)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])
    assert manifest["domain"] == DOMAIN == INTEGRATION.name
    for required in (
        "codeowners",
        "config_flow",
        "documentation",
        "integration_type",
        "iot_class",
        "issue_tracker",
        "loggers",
        "requirements",
        "version",
    ):
        assert required in manifest, required
    assert manifest["codeowners"]
    assert manifest["config_flow"] is True
    assert manifest["documentation"].startswith("https://")
    assert "home-assistant.io/integrations" not in manifest["documentation"]
    assert manifest["issue_tracker"].startswith("https://")
    assert manifest["integration_type"] == "hub"
    assert manifest["iot_class"] in IOT_CLASSES
    assert AwesomeVersion(manifest["version"]).valid


def _pins(name: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / name).read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            package, version = line.split("==")
            pins[package.strip()] = version.strip()
    return pins


def test_manifest_requirements_admit_the_tested_versions() -> None:
    """The requirements take a range that holds every library version tested."""
    manifest = _load(INTEGRATION / "manifest.json")
    for file in ("requirements_test.txt", "requirements_test_min.txt"):
        pins = _pins(file)
        for line in manifest["requirements"]:
            requirement = Requirement(line)
            assert not any(spec.operator == "==" for spec in requirement.specifier)
            assert requirement.specifier.contains(pins[requirement.name]), (file, line)


def test_hacs_json() -> None:
    hacs = _load(ROOT / "hacs.json")
    assert set(hacs) <= HACS_KEYS
    assert hacs["name"]
    # The oldest Home Assistant the tests run against.
    oldest = _pins("requirements_test_min.txt")["homeassistant"]
    assert hacs["homeassistant"] == oldest
    assert (INTEGRATION / "brand" / "icon.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def test_translations_are_well_formed() -> None:
    strings = _load(INTEGRATION / "translations" / "en.json")
    for text in _strings(strings):
        assert text.strip(), "empty translation"
        assert not re.search(r"https?://", text), f"URL in translation: {text}"
    for key, issue in strings.get("issues", {}).items():
        assert "title" in issue, key
        assert ("description" in issue) != ("fix_flow" in issue), key


def test_every_translation_key_in_code_is_translated() -> None:
    """A translation_key used in code must exist in en.json."""
    strings = _load(INTEGRATION / "translations" / "en.json")
    known: set[str] = set()
    for section in ("exceptions", "issues"):
        known |= set(strings.get(section, {}))
    for platform in strings.get("entity", {}).values():
        known |= set(platform)
    used = {
        match
        for path in INTEGRATION.rglob("*.py")
        for match in re.findall(
            r'translation_key\s*=\s*"([a-z0-9_]+)"', path.read_text(encoding="utf-8")
        )
    }
    assert used, "no translation keys found"
    assert used <= known, used - known


def test_icons_match_translations() -> None:
    icons = _load(INTEGRATION / "icons.json")
    strings = _load(INTEGRATION / "translations" / "en.json")
    for platform, entities in icons.get("entity", {}).items():
        assert set(entities) <= set(strings["entity"][platform])


async def test_home_assistant_loads_manifest_and_translations(
    hass: HomeAssistant,
) -> None:
    integration = await loader.async_get_integration(hass, DOMAIN)
    assert integration.version == _load(INTEGRATION / "manifest.json")["version"]
    assert integration.config_flow
    translations = await async_get_translations(hass, "en", "config", [DOMAIN])
    key = f"component.{DOMAIN}.config.step.user.menu_options.hue"
    assert translations[key] == "Philips Hue bridge"


def test_each_source_has_translated_options() -> None:
    options = _load(INTEGRATION / "translations" / "en.json")["options"]["step"]
    for source in ("hue", "amazon"):
        step = options[source]
        assert step["data"]["poll_interval"]
        assert step["data_description"]["poll_interval"]
        history = step["sections"]["history"]
        assert set(history["data"]) == {
            "retention_days",
            "size_budget_mb",
            "spool_max_readings",
            "inactive_days",
        }
