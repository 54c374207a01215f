"""The documentation is complete and current (as sqlite-utils' tests/test_docs.py): every
command has help, every command and option is in the generated CLI reference and in the prose,
the generated pages match the code, the README is a short front door whose test command is
the one CI runs, and every page is in the site's navigation."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from cogapp import Cog
from typer.main import get_command

from dedup.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
CI_SCRIPT = ROOT / ".ci" / "run"
MKDOCS = ROOT / "mkdocs.yml"
CLI_REFERENCE = DOCS / "cli.md"
MAX_README_BYTES = 10_000
GENERATED = re.compile(r"\[\[\[cog.*?\[\[\[end\]\]\]", re.S)


def commands(command: Any, path: tuple[str, ...] = ("dedup",)) -> Iterator[tuple[str, Any]]:
    """Every command of the Click tree under ``command`` (itself first): ``("dedup gate add",
    command)``. Typer may vendor Click, so groups are recognised by ``list_commands``."""
    yield " ".join(path), command
    if hasattr(command, "list_commands"):
        ctx = command.context_class(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from commands(sub, (*path, name))


def long_flags(command: Any) -> list[str]:
    """The long flags of a command's options (``--max-candidates``, ``--no-update``)."""
    return [
        flag
        for param in command.params
        if param.param_type_name == "option" and not getattr(param, "hidden", False)
        for flag in [*param.opts, *param.secondary_opts]
        if flag.startswith("--")
    ] + ["--help"]


def mentioned(name: str, text: str) -> bool:
    """``name`` appears in ``text`` as a whole word: ``--max`` is not in ``--max-bytes``."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


def reference_sections(text: str) -> dict[str, str]:
    """The CLI reference cut at its command headings (``## `dedup scan` ``): command -> text."""
    parts = re.split(r"^#+ `(dedup[^`]*)`[ \t]*$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2]))


def prose() -> str:
    """The README and every page but the CLI reference, without generated output."""
    pages = [README, *(p for p in sorted(DOCS.rglob("*.md")) if p != CLI_REFERENCE)]
    return "\n".join(GENERATED.sub("", page.read_text(encoding="utf-8")) for page in pages)


def regenerated(page: Path, tmp_path: Path) -> str:
    """What ``cog -r page`` would write, without touching ``page``."""
    out = tmp_path / page.name
    status = Cog().main(["cog", "-o", str(out), str(page)])
    assert status == 0, f"cog failed on {page} (exit {status}): run `cog -r {page}` to see why"
    return out.read_text(encoding="utf-8")


def stale(page: Path, tmp_path: Path) -> list[str]:
    """The diff between a page with cog blocks and what cog would write now (empty: current)."""
    current = page.read_text(encoding="utf-8")
    fresh = regenerated(page, tmp_path)
    return list(
        difflib.unified_diff(
            current.splitlines(), fresh.splitlines(), "in the page", "from the code", lineterm=""
        )
    )


def suite_command(text: str) -> str:
    """The one line in code blocks of ``text`` that runs the test suite."""
    found = [line.strip() for line in text.splitlines() if line.strip().endswith("-m pytest")]
    assert len(found) == 1, f"expected one test command line in the README, found {found}"
    return found[0]


def last_command(script: str) -> str:
    """The last line of a shell script that is neither blank nor a comment."""
    lines = [line.strip() for line in script.splitlines()]
    return [line for line in lines if line and not line.startswith("#")][-1]


def nav_pages(nav: Any) -> set[str]:
    """Every page named in an mkdocs ``nav`` (nested lists and dicts)."""
    if isinstance(nav, str):
        return {nav} if nav.endswith(".md") else set()
    if isinstance(nav, dict):
        return set().union(*(nav_pages(value) for value in nav.values()))
    if isinstance(nav, list):
        return set().union(*(nav_pages(item) for item in nav))
    return set()


def pages_off_nav(docs: Path, nav: Any) -> list[str]:
    listed = nav_pages(nav)
    pages = (p.relative_to(docs).as_posix() for p in docs.rglob("*.md"))
    return sorted(page for page in pages if page not in listed)


COMMANDS = list(commands(get_command(app)))
OPTIONS = [(name, flag) for name, command in COMMANDS for flag in long_flags(command)]
COG_PAGES = sorted(p for p in DOCS.rglob("*.md") if "[[[cog" in p.read_text(encoding="utf-8"))


def test_the_cli_has_the_expected_commands():
    # The discovery itself must find the tree, or every test below passes on nothing.
    names = {name for name, _ in COMMANDS}
    assert {"dedup scan", "dedup eval", "dedup gate add", "dedup gate serve"} <= names, names


@pytest.mark.parametrize(("name", "command"), COMMANDS, ids=[name for name, _ in COMMANDS])
def test_every_command_has_help(name, command):
    assert (command.help or "").strip(), f"`{name}` has no help text: give it a docstring"


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_command_is_in_the_reference_and_the_prose(name):
    assert name in reference_sections(CLI_REFERENCE.read_text(encoding="utf-8")), (
        f"`{name}` has no section in docs/cli.md: run `cog -r docs/cli.md`"
    )
    assert mentioned(name, prose()), f"`{name}` is not described in the README or docs/"


@pytest.mark.parametrize(("name", "flag"), OPTIONS, ids=[f"{n} {f}" for n, f in OPTIONS])
def test_every_option_is_in_the_reference(name, flag):
    section = reference_sections(CLI_REFERENCE.read_text(encoding="utf-8")).get(name, "")
    assert mentioned(flag, section), (
        f"`{name} {flag}` is missing from docs/cli.md: run `cog -r docs/cli.md`"
    )


@pytest.mark.parametrize(
    "flag", sorted({flag for _, flag in OPTIONS}), ids=sorted({f for _, f in OPTIONS})
)
def test_every_option_is_in_the_prose(flag):
    assert mentioned(flag, prose()), (
        f"{flag} appears only in the generated CLI reference: say what it does in the README "
        "or a page of docs/"
    )


def test_there_are_generated_pages():
    assert {p.name for p in COG_PAGES} >= {"cli.md", "architecture.md"}, COG_PAGES


@pytest.mark.parametrize("page", COG_PAGES, ids=[p.name for p in COG_PAGES])
def test_generated_pages_are_current(page, tmp_path):
    diff = stale(page, tmp_path)
    relative = page.relative_to(ROOT).as_posix()
    assert not diff, f"{relative} is out of date: run `cog -r {relative}`\n" + "\n".join(diff[:60])


def test_readme_is_a_short_front_door():
    size = len(README.read_bytes())
    assert size <= MAX_README_BYTES, (
        f"README.md is {size:,} bytes, over {MAX_README_BYTES:,}: move sections to docs/"
    )


def test_ci_runs_the_readme_test_command():
    readme = suite_command(README.read_text(encoding="utf-8"))
    assert "mkdocs build --strict" in readme and readme.endswith("python3 -m pytest"), readme
    ci = last_command(CI_SCRIPT.read_text(encoding="utf-8"))
    assert ci == readme, f".ci/run ends with\n  {ci}\nbut the README's test command is\n  {readme}"


def test_every_page_is_in_the_nav():
    nav = yaml.safe_load(MKDOCS.read_text(encoding="utf-8"))["nav"]
    missing = pages_off_nav(DOCS, nav)
    assert not missing, f"pages missing from the nav of mkdocs.yml: {missing}"
    unknown = sorted(page for page in nav_pages(nav) if not (DOCS / page).is_file())
    assert not unknown, f"mkdocs.yml's nav names pages that do not exist: {unknown}"


# The checks must be able to fail: each checker on a small fake.


def test_a_command_without_help_is_found():
    fake = typer.Typer()

    @fake.command()
    def documented() -> None:
        """Has help."""

    @fake.command()
    def bare() -> None:
        pass

    helps = {name: (command.help or "").strip() for name, command in commands(get_command(fake))}
    assert helps["dedup documented"] == "Has help."
    assert helps["dedup bare"] == ""


def test_a_missing_option_is_found():
    text = "Use --max-bytes and `--json`."
    assert mentioned("--json", text) and mentioned("--max-bytes", text)
    assert not mentioned("--max", text)
    assert not mentioned("--workers", text)


def test_a_command_without_its_section_is_found():
    sections = reference_sections("# CLI\n\n## `dedup scan`\n\n--out\n\n### `dedup gate add`\n")
    assert set(sections) == {"dedup scan", "dedup gate add"}
    assert mentioned("--out", sections["dedup scan"])
    assert not mentioned("--out", sections["dedup gate add"])


def test_a_stale_page_is_found(tmp_path):
    page = tmp_path / "page.md"
    block = '<!-- [[[cog\ncog.outl("fresh")\n]]] -->\n{}<!-- [[[end]]] -->\n'
    page.write_text(block.format("stale\n"), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    assert any(line == "+fresh" for line in stale(page, out))
    page.write_text(block.format("fresh\n"), encoding="utf-8")
    assert stale(page, out) == []


def test_a_ci_script_with_another_command_is_found():
    script = "#!/usr/bin/env bash\nset -e\n# The README's test command:\npip install . && pytest\n"
    assert last_command(script) == "pip install . && pytest"
    readme = "```bash\npython3 -m pip install -e '.[test]' && python3 -m pytest\n```\n"
    assert suite_command(readme) != last_command(script)


def test_a_page_missing_from_the_nav_is_found(tmp_path):
    (tmp_path / "guide").mkdir()
    for page in ("index.md", "gate.md", "guide/spark.md"):
        (tmp_path / page).write_text("# page\n", encoding="utf-8")
    nav = [{"Home": "index.md"}, {"Guide": [{"Spark": "guide/spark.md"}]}]
    assert pages_off_nav(tmp_path, nav) == ["gate.md"]
