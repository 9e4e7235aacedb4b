"""web/ and workers/ reach the engine through its one surface (engine/services/__init__.py says which);
the pieces bootstrap() wires instead of import-time state."""
from __future__ import annotations

import ast
from pathlib import Path

import engine.services
from engine.config import Settings
from engine.lru import Lru

ROOT = Path(__file__).resolve().parents[2]
# Modules of Duban's own packages web/ and workers/ may import besides engine.services (and each other).
ANYWHERE = {"engine.config", "engine.errors", "engine.texts", "engine.untrusted"}
# ...and what only a process's entry point needs to build the engine and its logging.
ENTRY_POINTS = {"web/__init__.py", "web/gunicorn_conf.py", "workers/runner.py", "workers/scheduler.py"}
AT_ENTRY = {"engine.bootstrap", "engine.logs", "duban.cli"}
OWN = ("engine", "duban")


def _imports(path: Path):
    """(module, name or None, alias or None, line) of every absolute import of Duban's own packages."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, alias.asname, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name, alias.asname, node.lineno


def _refusal(relative: str, module: str, name: str | None, alias: str | None) -> str | None:
    if module.split(".")[0] not in OWN:
        return None
    if module == "engine" and name == "services" and alias is None:
        return None
    if module == "engine.services" and name is not None:
        if name not in engine.services.__all__:
            return f"{name} is not in engine.services.__all__"
        if alias not in (None, f"{name}_service"):
            return f"imported as {alias}: its own name, or {name}_service"
        return None
    whole = module if name is None else f"{module}.{name}"
    if module in ANYWHERE or whole in ANYWHERE:
        return None
    if relative in ENTRY_POINTS and (module in AT_ENTRY or whole in AT_ENTRY):
        return None
    return "outside the engine's surface (engine/services/__init__.py)"


def test_web_and_workers_import_only_the_engines_surface():
    refused = []
    for package in ("web", "workers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for module, name, alias, line in _imports(path):
                why = _refusal(relative, module, name, alias)
                if why:
                    refused.append(f"{relative}:{line}: {module}{'.' + name if name else ''}: {why}")
    assert not refused, "\n".join(refused)


def test_the_rule_refuses_what_it_should():
    assert _refusal("web/api/items.py", "engine.services.ledger", "SORT_KEYS", None)
    assert _refusal("web/api/items.py", "engine.domain.roles", "OFFICE", None)
    assert _refusal("web/api/items.py", "engine.services", "ledger", "l")
    assert _refusal("web/api/items.py", "engine.services", "process", None)  # not exported
    assert _refusal("web/api/items.py", "engine.bootstrap", "bootstrap", None)  # not an entry point
    assert _refusal("web/api/items.py", "engine.services.ledger", None, None)  # import engine.services.ledger
    assert _refusal("web/api/items.py", "engine.services", "ledger", "ledger_service") is None
    assert _refusal("web/__init__.py", "engine.bootstrap", "bootstrap", None) is None


def test_api_modules_share_schemas_only_through_schemas_py():
    """A resource's own schemas may live beside it; what two modules use lives in web/api/schemas.py."""
    shared = {"schemas", "common", "input_guard"}
    crossing = []
    for path in sorted((ROOT / "web" / "api").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module and node.module not in shared:
                crossing.append(f"{path.name}:{node.lineno}: from .{node.module} import ...")
    assert not crossing, "\n".join(crossing)


def test_every_exported_name_exists():
    missing = [name for name in engine.services.__all__ if not hasattr(engine.services, name)]
    assert not missing


def test_definitions_are_kept_within_their_bound():
    cache = Lru(2)
    cache[1], cache[2] = "a", "b"
    assert cache.get(1) == "a"  # 1 is now the most recently used
    cache[3] = "c"
    assert (1 in cache, 2 in cache, 3 in cache) == (True, False, True)
    cache.size = 1
    cache[4] = "d"
    assert len(cache) == 1 and cache.get(4) == "d" and cache.get(1) is None
    assert Settings.from_env({"DUBAN_DEFINITIONS_CACHED": "7", "DUBAN_SECRET_KEY": "k"}).definitions_cached == 7


def test_hooks_are_chosen_by_what_a_definition_declares(tmp_path):
    from engine.bootstrap import bootstrap
    from engine.services import extensions, hooks, main_process

    duban = bootstrap(Settings.from_env({"DUBAN_VAR_DIR": str(tmp_path), "DUBAN_SECRET_KEY": "k"}))
    assert duban.definitions.size == 256

    class Declaring:
        def __init__(self, *kinds):
            self.elements = {"steps": {f"e{i}": {"kind": kind} for i, kind in enumerate(kinds)}}

    registry = duban.hooks
    assert registry.for_definition(None).__class__ is hooks.Hooks
    assert registry.for_definition(Declaring()).__class__ is hooks.Hooks
    assert registry.for_definition(Declaring("extension_review")) is extensions.HOOKS
    assert registry.for_definition(Declaring("assign")) is main_process.HOOKS
