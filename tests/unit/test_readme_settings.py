"""The README's configuration table is the operator's list of settings: every field of every settings
class (each a DRWAVE_ environment variable) has a row there, and a row's default is the class's."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

from pydantic.fields import FieldInfo

from shared.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
MAKE_RUN = "RunSettings"  # `make run`'s settings: the table gives their values as "(make run: …)"


def settings_classes() -> list[type[CommonSettings]]:
    """CommonSettings and every subclass of it in shared/settings.py, services/*/settings.py and the CLI."""
    modules = ["services.cli", *(f"services.{p.parent.name}.settings" for p in ROOT.glob("services/*/settings.py"))]
    for module in modules:
        importlib.import_module(module)
    found, todo = [], [CommonSettings]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def config_table() -> dict[str, str]:
    """Each variable of the "## Configuration" table -> the default cell of its row."""
    section = (ROOT / "README.md").read_text().split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3:
            for name in re.findall(r"`(DRWAVE_[A-Z0-9_]+)`", cells[0]):
                rows[name] = cells[1] if cells[0].count("DRWAVE_") == 1 else ""  # "" for a row of several
    return rows


def variables() -> dict[str, list[tuple[str, FieldInfo]]]:
    """DRWAVE_<FIELD> -> (class name, field) of every class that declares it."""
    found: dict[str, list[tuple[str, FieldInfo]]] = {}
    for cls in settings_classes():
        prefix = cls.model_config.get("env_prefix", "")
        for name, field in cls.model_fields.items():
            found.setdefault(f"{prefix}{name}".upper(), []).append((cls.__name__, field))
    return found


def shown(value: Any) -> str:
    """A default as the README writes it: `15` for 15.0, `false` for False."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_every_setting_has_a_row_in_the_readme_configuration_table():
    table = config_table()
    assert sorted(name for name in variables() if name not in table) == []


def test_the_configuration_table_names_no_setting_that_does_not_exist():
    assert sorted(set(config_table()) - set(variables())) == []


def test_each_single_setting_row_gives_the_default_of_its_settings_class():
    table = config_table()
    wrong = []
    for name, declared in variables().items():
        cell = table.get(name, "")
        if not cell:
            continue  # a row of several variables, or missing (the test above)
        own = [field for cls, field in declared if cls != MAKE_RUN] or [field for _, field in declared]
        if any(field.default_factory is not None for field in own):
            continue  # an empty list or map, written in words
        defaults = {shown(field.default) for field in own if field.default is not None}
        first = re.match(r"`([^`]*)`", cell)
        if defaults and (first is None or first.group(1) not in defaults):
            wrong.append((name, cell, sorted(defaults)))
        if not defaults and first is not None:
            wrong.append((name, cell, "unset"))
    assert wrong == []
