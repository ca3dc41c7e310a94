"""Import-linter contract: apps meet only through a declared dependency's ``api.py``.

The rule (docs: ARCHITECTURE.md, "Rules that keep the house livable"): a module of app
``A`` may import a module of another app ``B`` only if ``B`` is listed in ``A``'s
``App(depends_on=[...])`` and the module is ``smartcity.apps.B.api`` (or inside it, should
``api`` grow into a package).

Declarations are read statically: each app's ``__init__.py`` is parsed with :mod:`ast`
and never imported, so checking the rule runs no app code. ``depends_on`` must therefore
be a literal list or tuple of strings.

This module lives in the kernel, next to the :class:`~smartcity.kernel.app.App` format it
parses, so that ``scripts/check`` holds it to the same ruff and ``mypy --strict`` gates as
the rest of ``src``. It imports import-linter, a development dependency; nothing at run
time imports this module, only ``lint-imports`` (see ``[tool.importlinter]``) and tests.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


@dataclass(frozen=True)
class AppDeclaration:
    """What an app's ``__init__.py`` declares: its package, name and dependencies."""

    package: str
    name: str
    depends_on: tuple[str, ...] = ()
    # Why the declaration could not be read fully, if it could not.
    problem: str | None = None


@dataclass(frozen=True)
class Violation:
    """A forbidden import from one app into another."""

    importer: str
    imported: str
    reason: str
    line_numbers: tuple[int, ...] = field(default=())


def read_declaration(init_file: Path, package: str) -> AppDeclaration:
    """Parse ``init_file`` for ``App(name=..., depends_on=[...])`` without importing it.

    Without an ``App(...)`` call the app is taken to depend on nothing; a ``depends_on``
    that is not a literal sequence of strings is returned with a ``problem``.
    """
    short = package.rsplit(".", 1)[-1]
    try:
        tree = ast.parse(init_file.read_text(encoding="utf-8"), filename=str(init_file))
    except (OSError, SyntaxError) as exc:
        return AppDeclaration(package, short, problem=f"cannot read {init_file}: {exc}")
    calls = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called_name(node.func) == "App"
    ]
    if not calls:
        return AppDeclaration(package, short, problem=f"no App(...) call in {init_file}")
    keywords = {kw.arg: kw.value for kw in calls[0].keywords if kw.arg is not None}
    name = short
    name_node = keywords.get("name")
    if isinstance(name_node, ast.Constant) and isinstance(name_node.value, str):
        name = name_node.value
    deps_node = keywords.get("depends_on")
    if deps_node is None:
        return AppDeclaration(package, name)
    deps = _literal_strings(deps_node)
    if deps is None:
        return AppDeclaration(
            package,
            name,
            problem=f"depends_on in {init_file} must be a literal list of app names",
        )
    return AppDeclaration(package, name, deps)


def app_of(module: str, apps: Iterable[str], apps_package: str) -> str | None:
    """The app package ``module`` belongs to, or ``None`` if it is in no app."""
    prefix = apps_package + "."
    if not module.startswith(prefix):
        return None
    candidate = prefix + module[len(prefix) :].split(".", 1)[0]
    return candidate if candidate in apps else None


def find_violations(
    imports: Iterable[tuple[str, str]],
    declarations: Mapping[str, AppDeclaration],
    apps_package: str = "smartcity.apps",
) -> list[Violation]:
    """The ``(importer, imported)`` pairs that break the rule, in input order.

    ``declarations`` maps each app package (``smartcity.apps.hotline``) to its
    declaration; imports that do not go from one of those apps into another are ignored.
    """
    found: list[Violation] = []
    for importer, imported in imports:
        source = app_of(importer, declarations, apps_package)
        target = app_of(imported, declarations, apps_package)
        if source is None or target is None or source == target:
            continue
        source_decl, target_decl = declarations[source], declarations[target]
        api = f"{target}.api"
        if target_decl.name not in source_decl.depends_on:
            reason = (
                f"app {source_decl.name!r} does not declare a dependency on "
                f"{target_decl.name!r}; add it to depends_on and import {api}"
            )
        elif imported != api and not imported.startswith(api + "."):
            reason = f"only {api} of app {target_decl.name!r} may be imported, not its internals"
        else:
            continue
        found.append(Violation(importer=importer, imported=imported, reason=reason))
    return found


def discover_apps(graph: ImportGraph, apps_package: str) -> dict[str, AppDeclaration]:
    """Every app package under ``apps_package`` in ``graph``, with its declaration."""
    spec = importlib.util.find_spec(apps_package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    declarations: dict[str, AppDeclaration] = {}
    for child in sorted(graph.find_children(apps_package)):
        short = child.rsplit(".", 1)[-1]
        for location in locations:
            init_file = Path(location) / short / "__init__.py"
            if init_file.is_file():
                declarations[child] = read_declaration(init_file, child)
                break
    return declarations


def _app_imports(
    graph: ImportGraph, declarations: Mapping[str, AppDeclaration]
) -> Iterator[tuple[str, str]]:
    for package in sorted(declarations):
        for module in sorted({package} | graph.find_descendants(package)):
            for imported in sorted(graph.find_modules_directly_imported_by(module)):
                yield module, imported


def check_graph(
    graph: ImportGraph, apps_package: str
) -> tuple[list[Violation], list[AppDeclaration]]:
    """Violations in ``graph`` with line numbers, and declarations that could not be read."""
    declarations = discover_apps(graph, apps_package)
    violations = []
    for v in find_violations(_app_imports(graph, declarations), declarations, apps_package):
        details = graph.get_import_details(importer=v.importer, imported=v.imported)
        lines = tuple(sorted(int(d["line_number"]) for d in details))
        violations.append(Violation(v.importer, v.imported, v.reason, lines))
    unreadable = [d for d in declarations.values() if d.problem is not None]
    return violations, unreadable


class AppDependencyContract(Contract):
    """Apps import each other only through a declared dependency's ``api`` module.

    Options: ``apps_package`` (default ``smartcity.apps``).
    """

    type_name = "app_dependencies"

    apps_package = fields.StringField(default="smartcity.apps")

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        """Find every cross-app import the declarations do not allow."""
        apps_package = str(self.apps_package)
        if apps_package not in graph.modules:
            raise ValueError(f"Module '{apps_package}' does not exist.")
        violations, unreadable = check_graph(graph, apps_package)
        # A non-literal depends_on cannot be checked, so it breaks the contract; an app
        # with no App(...) yet (being written) is only warned about.
        broken_declarations = [d for d in unreadable if "depends_on" in (d.problem or "")]
        warnings = [d.problem for d in unreadable if d not in broken_declarations and d.problem]
        return ContractCheck(
            kept=not violations and not broken_declarations,
            warnings=warnings,
            metadata={
                "violations": violations,
                "declaration_problems": [d.problem for d in broken_declarations],
            },
        )

    def render_broken_contract(self, check: ContractCheck) -> None:
        """Print each bad import with its line numbers and what to do instead."""
        problems: Sequence[str] = check.metadata.get("declaration_problems", [])
        for problem in problems:
            output.print_error(problem)
            output.new_line()
        violations: Sequence[Violation] = check.metadata.get("violations", [])
        for v in violations:
            lines = ", ".join(f"l.{n}" for n in v.line_numbers) or "l.?"
            output.print_error(f"{v.importer} -> {v.imported} ({lines})")
            output.indent_cursor()
            output.print_error(v.reason, bold=False)
            output.new_line()


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _literal_strings(node: ast.expr) -> tuple[str, ...] | None:
    if not isinstance(node, ast.List | ast.Tuple | ast.Set):
        return None
    values: list[str] = []
    for element in node.elts:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        values.append(element.value)
    return tuple(values)
