"""The import rules each folder's docstring states, checked on every module's imports.

What a module imports is read from its syntax tree (imports inside functions count too), so a
rule broken anywhere fails here with the module, the import and the rule it breaks.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = [
    "actions",
    "actions/handoff",
    "actions/nlu",
    "bot",
    "bot/web",
    "bot/conversations",
    "bot/rasa",
    "bot/channel",
    "bot/desk",
    "bot/desk/api",
    "bot/designer",
    "bot/db",
    "bot/ops",
]
# The views: they parse, validate, call the domain and map errors; storage is the domain's.
VIEWS = [
    "bot/channel/views.py",
    "bot/channel/socket.py",
    "bot/desk/api/*.py",
    "bot/designer/views.py",
    "bot/web/pages.py",
]
# (modules, imports they must not make, why)
RULES = [
    (
        ["actions/handoff/*.py"],
        [
            "bot",
            "rasa",
            "rasa_sdk",
            "actions.gate",
            "actions.handback",
            "actions.session",
            "actions.server",
            "actions.nlu",
        ],
        "the shared handoff core is pure: standard library and PyYAML only",
    ),
    (["actions/nlu/*.py"], ["bot", "rasa_sdk"], "the Rasa server's components run inside Rasa"),
    (
        ["actions/*.py"],
        ["bot", "rasa.", "actions.nlu"],
        "the action server's adapters use rasa-sdk and the handoff core only",
    ),
    (
        ["bot/**/*.py"],
        [
            "rasa",
            "rasa_sdk",
            "actions.nlu",
            "actions.gate",
            "actions.handback",
            "actions.session",
            "actions.server",
        ],
        "the service talks to Rasa over HTTP; of actions/ it shares only the handoff core",
    ),
    (VIEWS, ["sqlalchemy"], "views call the domain, which owns the queries"),
    (
        [
            "bot/errors.py",
            "bot/desk/*.py",
            "bot/conversations/messages.py",
            "bot/conversations/lifecycle.py",
            "bot/db/*.py",
        ],
        ["aiohttp"],
        "the domain and storage know nothing of HTTP",
    ),
    (
        ["bot/desk/*.py", "bot/conversations/*.py", "bot/rasa/*.py", "bot/db/*.py"],
        ["bot.channel", "bot.desk.api", "bot.designer", "bot.ops", "bot.app"],
        "lower rooms do not reach up into the channel, the views or operations",
    ),
]


def imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def breaks(name: str, forbidden: str) -> bool:
    """`rasa` forbids rasa and rasa.*; `rasa.` only rasa's submodules (not the package)."""
    if forbidden.endswith("."):
        return name.startswith(forbidden)
    return name == forbidden or name.startswith(forbidden + ".")


def test_every_module_keeps_its_folders_import_rules() -> None:
    broken = []
    for patterns, forbidden, why in RULES:
        for path in sorted({p for pattern in patterns for p in ROOT.glob(pattern)}):
            for name in set(imports(path)):
                for rule in forbidden:
                    # bot.rasa (the service's Rasa client) is not rasa (the Rasa package)
                    if breaks(name, rule):
                        broken.append(f"{path.relative_to(ROOT)} imports {name}: {why}")
    assert not broken, "\n".join(sorted(broken))


@pytest.mark.parametrize("package", PACKAGES)
def test_every_folder_says_what_it_holds(package: str) -> None:
    init = ROOT / package / "__init__.py"
    docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
    assert docstring and len(docstring) > 80, f"{package}/__init__.py needs its docstring"


def test_the_rules_see_a_broken_import(tmp_path: Path) -> None:
    module = tmp_path / "view.py"
    module.write_text("def f():\n    from sqlalchemy import select\n    import rasa.core\n")
    found = set(imports(module))
    assert breaks("sqlalchemy", "sqlalchemy") and "sqlalchemy" in found
    assert any(breaks(name, "rasa") for name in found)
    assert not breaks("bot.rasa.client", "rasa") and not breaks("rasa", "rasa.")
