"""Test runs never rewrite tracked files: the browser tests' screenshots go to a git-ignored
build folder, and `make screenshots` is the one way to refresh the README's copies."""

import subprocess

from tests.browser.helpers import SCREENSHOTS

from .test_run_contract import ROOT, index_of, would_run

README_SHOTS = ["board.png", "inbox.png", "process.png", "task-link.png", "timeline.png"]


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_the_browser_tests_save_screenshots_where_git_ignores_them():
    for name in README_SHOTS:
        path = SCREENSHOTS / name
        assert git("check-ignore", "--quiet", "--no-index", str(path)).returncode == 0, path
    assert git("ls-files", "--", str(SCREENSHOTS)).stdout == ""


def test_make_screenshots_runs_the_browser_tests_then_copies_the_readmes_screenshots():
    commands = would_run("screenshots")  # what make would run, in order (make -n)

    tests = index_of(commands, "pytest", "browser")
    copy = index_of(commands, "cp")
    assert index_of(commands, "uv", "sync") < tests < copy
    assert "build/screenshots/*.png" in commands[copy]
    assert commands[copy][-1] == "docs/screenshots/"
    readme = (ROOT / "README.md").read_text()
    for name in README_SHOTS:
        assert f"(docs/screenshots/{name})" in readme
