"""Frame and report paths become the repository paths a person would open."""

from __future__ import annotations

from pathlib import Path

import pytest

from selfheal.config import PathMapping
from selfheal.paths import RepoTree, is_plausible_file_path, is_vendor_path, to_repo_path


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


def test_in_a_git_checkout_the_files_are_what_git_lists_not_what_it_ignores(tmp_path: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    files = {
        ".gitignore": "build/\n*.log\n",
        "src/shop/cart.py": "",  # tracked
        "src/shop/new_module.py": "",  # new, not ignored: the team's code all the same
        "build/lib/shop/cart.py": "",  # ignored build output
        "debug.log": "",
        "node_modules/x/index.js": "",  # listed by git if committed, still a dependency
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "src/shop/cart.py", "node_modules"], check=True)
    tree = RepoTree.scan(tmp_path)
    assert tree is not None
    assert "src/shop/cart.py" in tree
    assert "src/shop/new_module.py" in tree
    assert "build/lib/shop/cart.py" not in tree
    assert "debug.log" not in tree
    assert "node_modules/x/index.js" not in tree
    # Without the ignore rules the build copy would tie with the source: now it resolves.
    assert to_repo_path("/srv/app/shop/cart.py", tree=tree) == "src/shop/cart.py"
    sub = RepoTree.scan(tmp_path / "src")  # a sub-folder of the checkout: paths relative to it
    assert sub is not None
    assert "shop/cart.py" in sub


@pytest.mark.parametrize(
    ("raw", "vendor"),
    [
        ("/usr/local/lib/python3.12/site-packages/django/core/handlers/base.py", True),
        ("webpack:///./node_modules/react-dom/index.js", True),
        ("<frozen importlib._bootstrap>", True),
        ("node:internal/process/task_queues", True),
        ("shop/cart.py", False),
        ("src/venvironment/setup.py", False),
        ("https://cdn.jsdelivr.net/npm/react@18/umd/react.production.min.js", True),
        ("chrome-extension://abcdefghijklmnop/content.js", True),
        ("/home/runner/work/shop/shop/vendor/laravel/framework/src/Router.php", True),
        ("/rustc/90b35a6239c3d8bdabc530a6a0816f7ff89a0aaf/library/core/src/panicking.rs", True),
        ("package:flutter/src/widgets/framework.dart", True),
        ("/usr/local/bundle/gems/actionpack-7.1.3/lib/action_controller/metal.rb", True),
        ("package:shop_app/src/cart.dart", False),
        ("internal/cart/cart.go", False),  # a Go internal/ package is the project's own
        ("https://shop.example.com/static/js/app.js", False),
    ],
)
def test_vendor_paths_are_recognized(raw: str, vendor: bool) -> None:
    assert is_vendor_path(raw) is vendor


def test_ambiguous_file_names_are_not_guessed() -> None:
    tree = RepoTree(["a/util.py", "b/util.py", "b/only.py"])
    assert tree.resolve("/srv/x/util.py") is None  # two util.py, no shared folder: no answer
    assert tree.resolve("/srv/b/util.py") == "b/util.py"  # the parent folder decides
    assert tree.resolve("/elsewhere/only.py") == "b/only.py"  # unique name


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../sentry/scripts/views.js", "sentry/scripts/views.js"),  # a source map's relative source
        ("webpack:///../../src/app.tsx", "src/app.tsx"),
        ("webpack-internal:///./src/pages/index.tsx", "src/pages/index.tsx"),
        ("app:///src/screens/Checkout.tsx", "src/screens/Checkout.tsx"),  # React Native
        ("processing.rs:148", "processing.rs"),  # a line number is not part of the file
        ("src/cart.ts:12:5", "src/cart.ts"),
        ("tests/test_vector.cpp(31)", "tests/test_vector.cpp"),
        ("file:///home/runner/work/shop/shop/src/db/pool.js", "src/db/pool.js"),  # GitHub Actions
        ("/Users/runner/work/App/App/App/Cart/View.swift", "App/Cart/View.swift"),  # macOS runner
        ("D:\\a\\shop\\shop\\specs\\Steps\\CheckoutSteps.cs", "specs/Steps/CheckoutSteps.cs"),
        ("C:\\repo\\src\\Win.php", "src/Win.php"),
        ("/builds/acme/shop/app/models/order.rb", "app/models/order.rb"),  # GitLab CI
        ("/github/workspace/cmd/api/main.go", "cmd/api/main.go"),
        ("/workspace/svc/handlers.py", "svc/handlers.py"),
        ("/__w/calc/calc/test/parser_test.cc", "test/parser_test.cc"),  # GitHub container job
        ("/project/tests/functional/add.spec.ts", "tests/functional/add.spec.ts"),
        ("/var/www/html/app/Services/CartService.php", "app/Services/CartService.php"),  # Docker WORKDIR
        ("file:///android_asset/www/js/app.js", "www/js/app.js"),  # Cordova on Android
        ("package:shop_app/src/cart/cart_model.dart", "lib/src/cart/cart_model.dart"),  # a Dart package
        ("http://localhost:3000/static/app.js", "static/app.js"),
        ("Dockerfile", "Dockerfile"),
        ("app:///_next/server/app/(app)/analytics/page.js", "_next/server/app/(app)/analytics/page.js"),
        ("webpack:///./src/app/[locale]/[...slug]/page.tsx", "src/app/[locale]/[...slug]/page.tsx"),
        ("app/routes/posts.$slug.tsx", "app/routes/posts.$slug.tsx"),
        ("deploy/Makefile", "deploy/Makefile"),
        ("/go/src/github.com/acme/api/internal/orders/service.go", "internal/orders/service.go"),  # GOPATH
        ("app:///index.android.bundle", ""),  # a React Native bundle is build output
        ("lambda", ""),  # not a file
        ("123", ""),
        ("String expected, String currency", ""),  # a .NET argument list
        ("(Native Method)", ""),
        ("<anonymous>", ""),
        ("[native code]", ""),
    ],
)
def test_one_cleaning_function_for_every_source(raw: str, expected: str) -> None:
    assert to_repo_path(raw) == expected


@pytest.mark.parametrize(
    ("path", "plausible"),
    [
        ("src/x.py", True),
        ("Dockerfile", True),
        ("infra/Dockerfile.prod", True),
        ("a/b", False),  # no file name with an extension
        ("lambda", False),
        ("42", False),
        ("../x.py", False),
        ("/abs/x.py", False),
        ("x y.py", False),
    ],
)
def test_every_hint_is_checked_to_be_a_plausible_file_path(path: str, plausible: bool) -> None:
    assert is_plausible_file_path(path) is plausible


def test_a_served_url_resolves_to_the_file_in_the_checkout() -> None:
    tree = RepoTree(["frontend/static/app.js", "backend/app.py"])
    assert to_repo_path("http://localhost:3000/static/app.js", tree=tree) == "frontend/static/app.js"


def test_files_sharing_a_trailing_path_are_told_apart_by_the_whole_path() -> None:
    tree = RepoTree(["shop/static/app.js", "releases/v41/shop/static/app.js"])
    snapshot = "/srv/deploy/releases/v41/shop/static/app.js"
    assert to_repo_path(snapshot, tree=tree) == "releases/v41/shop/static/app.js"
    assert to_repo_path("/home/runner/work/shop/shop/shop/static/app.js", tree=tree) == "shop/static/app.js"


def test_a_hint_the_checkout_cannot_decide_is_kept_not_dropped() -> None:
    tree = RepoTree(["a/util.py", "b/util.py"])
    assert to_repo_path("/srv/x/util.py", tree=tree) == "x/util.py"  # unsure: the cleaned path stays
