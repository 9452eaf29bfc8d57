"""The layers stay layers (README, Architecture): `shared/` is the library at the bottom and
imports neither a service nor `ops/`, the package above the services that runs them; the
back office reaches the other services only over their staff APIs, and its own service only
through public modules (never its views or a private name)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ABOVE_SHARED = ("services", "ops")


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module a file imports: import statements, and `importlib.import_module("…")` /
    `__import__("…")` with a literal or f-string name (its literal start)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and node.args and (
            getattr(node.func, "attr", None) == "import_module" or getattr(node.func, "id", None) in ("import_module", "__import__")
        ):
            name = node.args[0]
            if isinstance(name, ast.JoinedStr) and name.values and isinstance(name.values[0], ast.Constant):
                name = name.values[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                found.append((node.lineno, name.value))
    return found


@pytest.mark.parametrize("path", sorted((ROOT / "shared").rglob("*.py")), ids=lambda path: str(path.relative_to(ROOT)))
def test_shared_imports_no_service_and_nothing_of_ops(path: Path) -> None:
    upward = [f"line {line}: {module}" for line, module in _imported_modules(ast.parse(path.read_text(), str(path)))
              if module.split(".")[0] in ABOVE_SHARED]
    assert not upward, f"{path.relative_to(ROOT)} reaches above shared/: {upward}"


def test_the_check_sees_static_and_dynamic_imports() -> None:
    source = "import services.orders\nfrom ops.cli import main\nimportlib.import_module(f'services.{name}.models')\n"
    assert [module for _, module in _imported_modules(ast.parse(source))] == ["services.orders", "ops.cli", "services."]


BACKOFFICE = sorted((ROOT / "services" / "registration" / "backoffice").glob("*.py"))


@pytest.mark.parametrize("path", BACKOFFICE, ids=lambda path: path.name)
def test_the_back_office_uses_public_modules_only(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    modules = [module for _, module in _imported_modules(tree)]
    assert not [m for m in modules if m.startswith(("services.orders", "services.notify"))], "other services: over HTTP only"
    assert "services.registration.views" not in modules
    private = [f"{node.module}.{alias.name}" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and (node.module or "").startswith("services.") for alias in node.names if alias.name.startswith("_")]
    assert not private, f"{path.name} imports private names: {private}"


def test_every_order_action_of_the_contract_has_its_operation() -> None:
    from services.orders.operations import TRANSITIONS
    from services.orders.staff import OPERATIONS
    from shared.contracts.orders import ORDER_ACTIONS

    assert tuple(OPERATIONS) == tuple(TRANSITIONS) == ORDER_ACTIONS
