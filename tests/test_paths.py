"""Frame and report paths become the repository paths a person would open."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.config import PathMapping
from selfheal.paths import RepoTree, is_vendor_path, to_repo_path


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("webpack:///./src/components/Cart.tsx", "src/components/Cart.tsx"),
        ("webpack://shop-web/./src/index.ts", "src/index.ts"),
        ("app:///js/search.js", "js/search.js"),
        ("http://127.0.0.1:4173/js/search.js?v=3#x", "js/search.js"),
        ("https://shop.example.com/js/app.js", "js/app.js"),
        ("./shop/cart.py", "shop/cart.py"),
        ("shop/cart.py", "shop/cart.py"),
        ("/srv/deploy/releases/42/src/shop/cart.py", "src/shop/cart.py"),  # from a source-root folder
        ("/opt/x/y/cart.py", "y/cart.py"),  # unknown absolute prefix: the last two parts
        ("C:\\work\\shop\\app\\views.py", "app/views.py"),
        ("<anonymous>", ""),
        ("", ""),
    ],
)
def test_frame_paths_map_to_repository_paths(raw: str, expected: str) -> None:
    assert to_repo_path(raw) == expected


def test_configured_mappings_apply_first() -> None:
    mapping = (PathMapping("app:///_next/server/app/", "web/app/"),)
    assert to_repo_path("app:///_next/server/app/page.js", mappings=mapping) == "web/app/page.js"


def test_a_checkout_resolves_and_verifies_paths(tmp_path: Path) -> None:
    for name in ("backend/shop/cart.py", "backend/shop/views.py", "web/js/search.js"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "node_modules" / "x").mkdir(parents=True)
    (tmp_path / "node_modules" / "x" / "index.js").write_text("")
    tree = RepoTree.scan(tmp_path)
    assert tree is not None
    assert to_repo_path("/srv/app/shop/cart.py", tree=tree) == "backend/shop/cart.py"
    assert to_repo_path("https://shop.example.com/js/search.js", tree=tree) == "web/js/search.js"
    assert "node_modules/x/index.js" not in tree  # dependency folders are not the repository's code
    assert RepoTree.scan(tmp_path / "missing") is None


@pytest.mark.parametrize(
    ("raw", "vendor"),
    [
        ("/usr/local/lib/python3.12/site-packages/django/core/handlers/base.py", True),
        ("webpack:///./node_modules/react-dom/index.js", True),
        ("<frozen importlib._bootstrap>", True),
        ("node:internal/process/task_queues", True),
        ("shop/cart.py", False),
        ("src/venvironment/setup.py", False),
    ],
)
def test_vendor_paths_are_recognized(raw: str, vendor: bool) -> None:
    assert is_vendor_path(raw) is vendor


def test_ambiguous_file_names_are_not_guessed() -> None:
    tree = RepoTree(["a/util.py", "b/util.py", "b/only.py"])
    assert tree.resolve("/srv/x/util.py") is None  # two util.py, no shared folder: no answer
    assert tree.resolve("/srv/b/util.py") == "b/util.py"  # the parent folder decides
    assert tree.resolve("/elsewhere/only.py") == "b/only.py"  # unique name
