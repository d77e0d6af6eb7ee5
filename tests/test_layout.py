"""The layout is the architecture: src/ in floors, imports running one way, down the floors.

files/       the files a run reads and writes   imports no other floor
learning/    what the tutorial imports to learn  imports files/
NN_Numpy.py  the tutorial                        imports learning/ and files/
using/       using a trained network             imports the three above
pages/       the pages and their server          imports the four above
use_network.py  the command table                imports everything; nothing imports it

The tests mirror it: tests/<floor>/test_<module>.py for src/<floor>/<module>.py,
tests/tutorial/ for NN_Numpy.py, tests/commands/test_<command>.py for use_network.py's commands.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

# floor -> the floors its modules may import (itself included)
FLOORS = {
    "files": {"files"},
    "learning": {"files", "learning"},
    "NN_Numpy": {"files", "learning", "NN_Numpy"},
    "using": {"files", "learning", "NN_Numpy", "using"},
    "pages": {"files", "learning", "NN_Numpy", "using", "pages"},
    "use_network": {"files", "learning", "NN_Numpy", "using", "pages", "use_network"},
}


def module_name(path: Path) -> str:
    """src/files/kaggle_csv.py -> files.kaggle_csv; src/files/__init__.py -> files."""
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def floor(module: str) -> str:
    return module.split(".")[0]


def project_imports(path: Path, top_level: bool) -> set[str]:
    """The project modules a file imports: at its top (top_level) or inside a function."""
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        if (node.col_offset == 0) != top_level:
            continue
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:  # from files import kaggle_csv -> files.kaggle_csv; from files.x import y -> files.x
            names = [f"{node.module}.{alias.name}" for alias in node.names]
            names = [name if name in MODULES else node.module for name in names]
        found |= {name for name in names if floor(name) in FLOORS}
    return found


def test_the_floors_are_the_folders_of_src():
    assert {floor(module) for module in MODULES} == set(FLOORS)
    for package in ("files", "learning", "using", "pages"):
        assert (SRC / package / "__init__.py").read_text().startswith('"""')


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_only_its_own_floor_and_those_below(module):
    allowed = FLOORS[floor(module)]
    for imported in project_imports(MODULES[module], top_level=True):
        assert imported in MODULES, f"{module} imports {imported}, which does not exist"
        assert floor(imported) in allowed, f"{module} imports {imported}, a floor above it"


def test_nothing_imports_the_command_table():
    for module, path in MODULES.items():
        assert "use_network" not in project_imports(path, top_level=True), module


@pytest.mark.parametrize("module", sorted(MODULES))
def test_project_modules_are_imported_at_the_top(module):
    # Imports inside functions are for slow third-party packages only (matplotlib, pandas,
    # PIL, sklearn), so that a command pays for what it uses; our own modules load at the top.
    assert project_imports(MODULES[module], top_level=False) == set()


def test_the_imports_have_no_cycle():
    graph = {module: project_imports(path, top_level=True) for module, path in MODULES.items()}
    done, visiting = set(), []

    def visit(module):
        assert module not in visiting, f"import cycle: {' -> '.join([*visiting, module])}"
        if module in done:
            return
        visiting.append(module)
        for imported in graph[module]:
            visit(imported)
        visiting.pop()
        done.add(module)

    for module in graph:
        visit(module)


def loaded_by(module: str) -> list[str]:
    """The project modules that importing `module` loads, in a fresh interpreter."""
    code = (
        f"import sys; sys.path.insert(0, {str(SRC)!r}); import {module}; "
        f"print(sorted(name for name, m in sys.modules.items() "
        f"if getattr(m, '__file__', None) and {str(SRC)!r} in m.__file__))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return ast.literal_eval(out.stdout)  # the list of names printed above


def test_the_tutorial_loads_only_its_own_helpers():
    loaded = loaded_by("NN_Numpy")
    assert {floor(name) for name in loaded} == {"NN_Numpy", "learning", "files"}


def test_file_handling_loads_no_page_and_no_network():
    for module in MODULES:
        if floor(module) == "files" and module != "files":
            assert {floor(name) for name in loaded_by(module)} == {"files"}, module


def test_running_the_companion_as_a_script_loads_no_module_twice(tmp_path):
    # `python src/use_network.py` runs as __main__ and imports NN_Numpy by name: one copy each.
    code = (
        "import runpy, sys; sys.argv = ['use_network.py', '--help'];\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "files = [m.__file__ for m in list(sys.modules.values()) if getattr(m, '__file__', None)]\n"
        "print(*(sum(f.endswith(n) for f in files) for n in ('NN_Numpy.py', 'use_network.py')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT / "src"
    )
    assert out.stdout.split()[-2:] == ["1", "0"], out.stderr  # run_path's __main__ is no module


TESTS = ROOT / "tests"
TEST_FOLDERS = {"files", "learning", "using", "pages", "tutorial", "commands"}


def commands() -> set[str]:
    """use_network.py's commands, as its --help lists them: {predict,draw,...}."""
    help_text = subprocess.run(
        [sys.executable, str(SRC / "use_network.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return set(re.search(r"\{([a-z_,]+)\}", help_text)[1].split(","))


def test_each_test_file_sits_in_the_folder_of_what_it_tests():
    # tests/files/test_kaggle_csv.py tests src/files/kaggle_csv.py; tests/commands/test_draw.py
    # the draw command; tests/commands/test_use_network.py the command table's own checks.
    named = commands() | {"use_network"}
    assert {"predict", "submit", "draw", "watch"} <= named
    basenames = []
    for path in sorted(TESTS.rglob("*.py")):
        where = path.relative_to(TESTS)
        if str(where) in ("conftest.py", "test_layout.py"):
            continue
        assert len(where.parts) == 2 and where.parts[0] in TEST_FOLDERS, (
            f"tests/{where}: a test file goes in tests/<folder>/, one of {sorted(TEST_FOLDERS)}"
        )
        folder, name = where.parts
        assert re.fullmatch(r"test_\w+\.py", name), f"tests/{where}: not a test_<name>.py file"
        basenames.append(name)
        tested = name.removeprefix("test_").removesuffix(".py")
        if folder == "commands":
            assert tested in named, f"tests/{where}: use_network.py has no command {tested}"
        elif folder != "tutorial":
            module = SRC / folder / f"{tested}.py"
            assert module.is_file(), f"tests/{where}: no {module.relative_to(ROOT)} to test"
    # pytest's default import mode finds a test module by its basename: no two alike
    assert len(basenames) == len(set(basenames)), sorted(basenames)
