"""Import contracts: the custom app-dependency contract, and lint-imports on the real tree."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import grimp
import pytest

from smartcity.kernel.contracts import (
    AppDeclaration,
    AppDependencyContract,
    Violation,
    check_graph,
    find_violations,
    read_declaration,
)

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = "city.apps"


def decl(name: str, *deps: str) -> AppDeclaration:
    return AppDeclaration(package=f"{APPS}.{name}", name=name, depends_on=deps)


DECLARATIONS = {d.package: d for d in (decl("alpha", "beta"), decl("beta"), decl("gamma"))}


def test_declared_dependency_api_is_allowed() -> None:
    imports = [
        ("city.apps.alpha.actions", "city.apps.beta.api"),
        ("city.apps.alpha.actions", "city.apps.beta.api.search"),  # api grown into a package
        ("city.apps.alpha.actions", "city.apps.alpha.models"),  # its own internals
        ("city.apps.alpha.actions", "city.kernel.audit"),
        ("city.apps", "city.apps.gamma"),  # the registry is no app
        ("city.api.app", "city.apps.gamma.routes"),  # not an app either
    ]
    assert find_violations(imports, DECLARATIONS, APPS) == []


def test_internals_of_a_declared_dependency_are_refused() -> None:
    (violation,) = find_violations(
        [("city.apps.alpha.actions", "city.apps.beta.models")], DECLARATIONS, APPS
    )
    assert (violation.importer, violation.imported) == (
        "city.apps.alpha.actions",
        "city.apps.beta.models",
    )
    assert "only city.apps.beta.api" in violation.reason


@pytest.mark.parametrize("imported", ["city.apps.gamma.api", "city.apps.gamma"])
def test_undeclared_app_is_refused_even_its_api(imported: str) -> None:
    (violation,) = find_violations([("city.apps.beta.jobs", imported)], DECLARATIONS, APPS)
    assert "does not declare a dependency on 'gamma'" in violation.reason


def test_dependencies_are_matched_by_app_name() -> None:
    renamed = {
        f"{APPS}.hotline12345": AppDeclaration(f"{APPS}.hotline12345", "hotline"),
        f"{APPS}.grid": AppDeclaration(f"{APPS}.grid", "grid", ("hotline",)),
    }
    ok = [("city.apps.grid.x", "city.apps.hotline12345.api")]
    assert find_violations(ok, renamed, APPS) == []


def _write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("source", "name", "deps", "problem"),
    [
        ('APP = App(name="a", setup=s, depends_on=["b", "c"])', "a", ("b", "c"), None),
        ('APP = kernel.App(name="a", setup=s, depends_on=("b",))', "a", ("b",), None),
        ('APP = App(name="renamed", setup=s)', "renamed", (), None),
        ("APP = App(setup=s, depends_on=DEPS)", "pkg", (), "literal list"),
        ('APP = App(setup=s, depends_on=["b", 1])', "pkg", (), "literal list"),
        ("x = 1", "pkg", (), "no App(...)"),
        ("def broken(:", "pkg", (), "cannot read"),
    ],
)
def test_read_declaration_statically(
    tmp_path: Path, source: str, name: str, deps: tuple[str, ...], problem: str | None
) -> None:
    init = _write(tmp_path / "pkg" / "__init__.py", source)
    declaration = read_declaration(init, "city.apps.pkg")
    assert (declaration.name, declaration.depends_on) == (name, deps)
    if problem is None:
        assert declaration.problem is None
    else:
        assert declaration.problem is not None and problem in declaration.problem


FAKE_CITY = {
    "fakecity/__init__.py": "",
    "fakecity/kernel/__init__.py": """
        class App:
            def __init__(self, **options): ...
        """,
    "fakecity/apps/__init__.py": """
        def installed():
            from fakecity.apps import alpha, beta, gamma
            return [alpha.APP, beta.APP, gamma.APP]
        """,
    "fakecity/apps/alpha/__init__.py": """
        from fakecity.kernel import App
        APP = App(name="alpha", depends_on=["beta"])
        """,
    "fakecity/apps/alpha/actions.py": """
        from fakecity.apps.beta.api import lookup
        """,
    "fakecity/apps/beta/__init__.py": """
        from fakecity.kernel import App
        APP = App(name="beta")
        """,
    "fakecity/apps/beta/api.py": """
        from fakecity.apps.beta.models import Thing
        def lookup() -> Thing: ...
        """,
    "fakecity/apps/beta/models.py": """
        class Thing: ...
        """,
    "fakecity/apps/gamma/__init__.py": """
        from fakecity.kernel import App
        APP = App(name="gamma", depends_on=("beta",))
        """,
    "fakecity/apps/gamma/routes.py": """
        '''Gamma's pages.'''

        from fakecity.apps.beta.models import Thing
        """,
}


@pytest.fixture
def fake_city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for relative, source in FAKE_CITY.items():
        _write(tmp_path / relative, source)
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    for name in [m for m in sys.modules if m == "fakecity" or m.startswith("fakecity.")]:
        del sys.modules[name]


def test_contract_reports_exactly_the_bad_import(fake_city: Path) -> None:
    graph = grimp.build_graph("fakecity", cache_dir=None)
    violations, unreadable = check_graph(graph, "fakecity.apps")
    assert unreadable == []
    assert violations == [
        Violation(
            importer="fakecity.apps.gamma.routes",
            imported="fakecity.apps.beta.models",
            reason="only fakecity.apps.beta.api of app 'beta' may be imported, not its internals",
            line_numbers=(4,),
        )
    ]
    # The apps were read, not imported.
    assert "fakecity.apps.alpha" not in sys.modules


def test_contract_class_through_lint_imports(fake_city: Path) -> None:
    config = _write(
        fake_city / "fake.importlinter",
        """
        [importlinter]
        root_package = fakecity
        contract_types =
            app_dependencies: smartcity.kernel.contracts.AppDependencyContract

        [importlinter:contract:apps]
        name = fake apps meet through api
        type = app_dependencies
        apps_package = fakecity.apps
        """,
    )
    result = subprocess.run(
        [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
        cwd=fake_city,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "fakecity.apps.gamma.routes -> fakecity.apps.beta.models (l.4)" in result.stdout
    assert "fakecity.apps.alpha.actions" not in result.stdout
    assert AppDependencyContract.type_name == "app_dependencies"


def test_lint_imports_passes_on_the_real_tree() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kernel_wildcard_contract_catches_a_kernel_import_of_an_app(fake_city: Path) -> None:
    # Same shape as the "kernel-knows-no-app" contract in pyproject.toml.
    config = _write(
        fake_city / "kernel.importlinter",
        """
        [importlinter]
        root_package = fakecity

        [importlinter:contract:kernel]
        name = kernel knows no app
        type = forbidden
        source_modules = fakecity.kernel
        forbidden_modules = fakecity.*
        """,
    )

    def lint() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(LINT_IMPORTS), "--config", str(config), "--no-cache"],
            cwd=fake_city,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    kept = lint()
    assert kept.returncode == 0, kept.stdout + kept.stderr
    _write(fake_city / "fakecity/kernel/bus.py", "from fakecity.apps.beta import api\n")
    broken = lint()
    assert broken.returncode == 1
    assert "fakecity.kernel.bus -> fakecity.apps.beta" in broken.stdout
