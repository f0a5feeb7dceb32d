"""The sample catalog lists every sample script, and every script keeps the conventions."""

from __future__ import annotations

import ast
import contextlib
import importlib
import io

import pytest

from samples.catalog import DEFAULT_SAMPLE, SAMPLES, SAMPLES_DIR, get_sample, sample_names

HELPERS = {"__init__", "catalog", "digits", "mnist"}


def test_catalog_lists_exactly_the_sample_scripts():
    scripts = {p.stem for p in SAMPLES_DIR.glob("*.py")} - HELPERS
    assert set(sample_names()) == scripts
    assert len(sample_names()) == len(set(sample_names()))
    assert SAMPLES[0].name == DEFAULT_SAMPLE == "lenet"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_entry_is_complete(sample):
    assert sample.path.is_file()
    assert sample.relative_path == f"samples/{sample.name}.py"
    assert sample.description and "\n" not in sample.description
    assert len(sample.description) <= 110, "one line in a menu"
    for label, args in sample.variants:
        assert label and isinstance(args, tuple) and all(a.startswith("--") for a in args)


def test_get_sample_accepts_name_file_and_path():
    assert get_sample("lenet") is get_sample("lenet.py") is get_sample("samples/lenet.py")
    with pytest.raises(KeyError, match="no sample named 'nope'"):
        get_sample("nope")


@pytest.mark.parametrize("name", sample_names())
def test_script_conventions(name):
    """A plain script on ``engine``: main(argv), the __main__ guard, --steps/--seed, no debugger."""
    source = (SAMPLES_DIR / f"{name}.py").read_text()
    tree = ast.parse(source)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "engine" in imported
    assert not any(m and (m.startswith("autograd_viz") or m.startswith("torch")) for m in imported)
    assert ast.get_docstring(tree), "a sample explains what it teaches"
    assert "if __name__ == \"__main__\":\n    main()" in source

    module = importlib.import_module(f"samples.{name}")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0
    assert "--steps" in out.getvalue() and "--seed" in out.getvalue()
