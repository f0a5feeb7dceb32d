"""benchmarks/_alone.py, the shared harness: each side alone in a fresh process, sides
alternating round by round, medians and ratios over per-step times."""

import pytest

from benchmarks._alone import Comparison, Run, Side, compare, describe_threads

SIDES = "tests.benchmarks._sides:recorder"


def test_sides_alternate_each_in_its_own_process_importing_only_its_own_modules():
    res = compare([Side("a", SIDES, {"imports": "wave"}),
                   Side("b", SIDES, {"imports": "colorsys"})],
                  rounds=3, steps=4, warmup=2, progress=False)
    assert res.order == [(0, "a"), (0, "b"), (1, "a"), (1, "b"), (2, "a"), (2, "b")]
    extras = [r.info["extra"] for r in res.runs]
    assert len({e["pid"] for e in extras}) == 6                 # a fresh process per run
    assert [e["loaded"] for e in res.extra("a")] == [["wave"]] * 3
    assert [e["loaded"] for e in res.extra("b")] == [["colorsys"]] * 3
    assert all(e["indices"] == list(range(6)) for e in extras)  # warm-up 0-1, timed 2-5
    assert all(len(r.wall) == 4 and len(r.cpu) == 4 for r in res.runs)
    info = res.info("a")
    assert info["memory"]["rss_built_kb"] > 0 and info["memory"]["ru_maxrss_kb"] > 0
    assert set(info["threads"]["env"]) == {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                           "MKL_NUM_THREADS"}
    assert "MainThread" in info["threads"]["python"]
    text = res.report("title")
    assert text.startswith("title") and "load average" in text and "OS threads" in text


def test_a_side_env_reaches_only_its_processes():
    res = compare([Side("one", SIDES, env={"OMP_NUM_THREADS": "1"}), Side("plain", SIDES)],
                  rounds=1, steps=1, warmup=0, progress=False)
    assert res.info("one")["threads"]["env"]["OMP_NUM_THREADS"] == "1"
    assert "OMP_NUM_THREADS=1" in describe_threads(res.info("one"))


def test_a_side_that_imports_an_excluded_module_fails():
    with pytest.raises(RuntimeError, match="imported wave"):
        compare([Side("a", SIDES, {"imports": "wave"}, exclude=("wave",))], rounds=1, steps=1,
                warmup=0, progress=False)


def test_a_failing_side_reports_its_error():
    with pytest.raises(RuntimeError, match="not callable"):
        compare([Side("a", "tests.benchmarks._sides:bad_return")], rounds=1, steps=1,
                warmup=0, progress=False)


def test_medians_ratios_and_paired_ratios():
    runs = [Run("a", 0, [1.0, 2.0, 9.0], [1.0, 1.0, 1.0], {}),
            Run("b", 0, [1.0, 1.0, 1.0], [0.5, 0.5, 0.5], {}),
            Run("a", 1, [4.0, 4.0, 4.0], [2.0, 2.0, 2.0], {}),
            Run("b", 1, [2.0, 2.0, 2.0], [1.0, 1.0, 1.0], {})]
    res = Comparison([Side("a", "m:f"), Side("b", "m:f")], runs, rounds=2, steps=3, warmup=0,
                     baseline="b")
    assert res.median("a") == 4.0                    # pooled: 1 2 4 4 4 9
    assert res.median("b") == 1.5
    assert res.round_medians("a") == [2.0, 4.0]
    assert res.ratio("a", "b") == 4.0 / 1.5
    assert res.paired("a", "b") == 2.0               # rounds: 2/1, 4/2
    assert res.median("a", "cpu") == 1.5
    with pytest.raises(KeyError):
        res.median("c")


def test_names_must_differ_and_the_baseline_must_be_a_side():
    with pytest.raises(ValueError):
        compare([Side("a", SIDES), Side("a", SIDES)], rounds=1)
    with pytest.raises(ValueError):
        compare([Side("a", SIDES)], baseline="z", rounds=1)
