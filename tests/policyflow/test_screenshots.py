"""Test runs never rewrite tracked files: the browser tests' screenshots go to a git-ignored
build folder, and `make screenshots` is the one way to refresh the README's copies."""

import subprocess

from tests.browser.helpers import SCREENSHOTS

from .test_run_contract import ROOT, make_target

README_SHOTS = ["board.png", "inbox.png", "process.png", "task-link.png", "timeline.png"]


def git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)


def test_the_browser_tests_save_screenshots_where_git_ignores_them():
    for name in README_SHOTS:
        path = SCREENSHOTS / name
        assert git("check-ignore", "--quiet", "--no-index", str(path)).returncode == 0, path
    assert git("ls-files", "--", str(SCREENSHOTS)).stdout == ""


def test_make_screenshots_runs_the_browser_tests_then_copies_the_readmes_screenshots():
    prerequisites, recipe = make_target("screenshots")

    assert "install" in prerequisites
    tests = next(i for i, line in enumerate(recipe) if "pytest" in line and "tests/browser" in line)
    copy = next(i for i, line in enumerate(recipe) if line.startswith("cp "))
    assert tests < copy
    assert "build/screenshots/" in recipe[copy] and recipe[copy].endswith("docs/screenshots/")
    readme = (ROOT / "README.md").read_text()
    for name in README_SHOTS:
        assert f"(docs/screenshots/{name})" in readme
