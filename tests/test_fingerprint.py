"""Message normalization and fingerprints: same bug → same fingerprint, different bug → different."""

from __future__ import annotations

import polars as pl
import pytest

from selfheal.contracts import upgrade_original
from selfheal.fingerprint import (
    failure_fingerprint,
    fingerprint_failures,
    key_frame,
    normalize_message,
    normalize_message_expr,
)
from selfheal.models import Frame
from selfheal.records import Failure

CASES = [
    ("order 8812 failed after 30000ms", "order <n> failed after <n>ms"),
    ("user 3f2a9c0d-1e2b-4a56-9c0d-1e2b4a569c0d not found", "user <uuid> not found"),
    ("object at 0x7f3a2b1c not callable", "object at <hex> not callable"),
    ("GET https://api.example.com/v1/items?id=7 returned 502", "GET <url> returned <n>"),
    ("cannot open /tmp/pytest-of-root/x123/data.db", "cannot open <tmp>"),
    ("invalid literal for int() with base 10: 'abc'", "invalid literal for int() with base <n>: <str>"),
    ('Expected: "Welcome back, demo!"', "Expected: <str>"),
    ("'user_id'", "'user_id'"),  # a message that is only a quoted key keeps it: it is the bug
    ("'ACME-7'", "<str>"),  # ... but a quoted *value* (digits, dashes, upper case) is data
    ("'EUR'", "<str>"),
    ('"gift card"', "<str>"),
    ("discount code ACME-7 not found (SKU_2002, A17)", "discount code <id> not found (<id>, <id>)"),
    ("Expecting value: line 1 column 31 (char 30)", "Expecting value: line <n> column <n> (char <n>)"),
    ("mail jane@example.com bounced", "mail <email> bounced"),
    ("Error: x\n\nCall log:\n  - waiting\n    21 × locator resolved", "Error: x"),
    ("    19 × locator resolved to <p>", "<n> × locator resolved to <p>"),
    ("\x1b[31mTest timeout of 5000ms exceeded.\x1b[39m", "Test timeout of <n>ms exceeded."),
    ("a   b\n\tc", "a b c"),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_message_replaces_what_varies(raw: str, expected: str) -> None:
    assert normalize_message(raw) == expected


def test_polars_expression_matches_python_normalization_on_every_case() -> None:
    raw = [c[0] for c in CASES] + ["", "plain text", "deadbeef1234 and 42"]
    frame = pl.DataFrame({"m": raw}).select(normalize_message_expr("m").alias("n"))
    assert frame["n"].to_list() == [normalize_message(r) for r in raw]


def _sentry(item_id: str, message: str, frames: tuple[Frame, ...], exc: str = "KeyError") -> Failure:
    return Failure(
        source="sentry",
        item_id=item_id,
        title=f"{exc}: {message}",
        exception_type=exc,
        message=message,
        frames=frames,
    )


CART = Frame(filename="shop/cart.py", function="line_total", lineno=57, path="shop/cart.py")
CART_MOVED = Frame(filename="shop/cart.py", function="line_total", lineno=61, path="shop/cart.py")
CALLER_A = Frame(filename="shop/views.py", function="checkout", lineno=88, path="shop/views.py")
CALLER_B = Frame(filename="shop/views.py", function="cart_view", lineno=41, path="shop/views.py")
OTHER_FN = Frame(filename="shop/cart.py", function="add_item", lineno=20, path="shop/cart.py")


def test_same_bug_other_release_and_caller_shares_a_fingerprint() -> None:
    a = _sentry("1", "'sku'", (CART, CALLER_A))
    b = _sentry("2", "'sku'", (CART_MOVED, CALLER_B))
    assert failure_fingerprint(a) == failure_fingerprint(b)


def test_ids_in_the_message_do_not_split_a_bug() -> None:
    a = _sentry("1", "order 8812 not found", (CART,), "LookupError")
    b = _sentry("2", "order 9931 not found", (CART,), "LookupError")
    assert failure_fingerprint(a) == failure_fingerprint(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (_sentry("1", "'sku'", (CART,)), _sentry("2", "'price'", (CART,))),  # other key
        (_sentry("1", "'sku'", (CART,)), _sentry("2", "'sku'", (OTHER_FN,))),  # other function
        (
            _sentry("1", "boom", (CART,), "ValueError"),
            _sentry("2", "boom", (CART,), "TypeError"),
        ),  # other type
    ],
)
def test_different_bugs_never_share_a_fingerprint(a: Failure, b: Failure) -> None:
    assert failure_fingerprint(a) != failure_fingerprint(b)


def test_anonymous_test_frames_use_the_test_title_so_two_tests_stay_apart() -> None:
    spec = Frame(filename="tests/auth/login.spec.ts", function="", lineno=30, path="tests/auth/login.spec.ts")
    base = {
        "source": "playwright",
        "exception_type": "Error",
        "message": "expect(locator).toHaveText(expected) failed",
    }
    wrong = Failure(item_id="a", title="x", frames=(spec,), test_path=("Login", "shows an error"), **base)
    valid = Failure(item_id="b", title="y", frames=(spec,), test_path=("Login", "logs in"), **base)
    assert failure_fingerprint(wrong) != failure_fingerprint(valid)
    sku1 = Failure(item_id="c", title="z", frames=(spec,), test_path=("Cart", "removes SKU-1042"), **base)
    sku2 = Failure(item_id="d", title="z", frames=(spec,), test_path=("Cart", "removes SKU-2077"), **base)
    assert failure_fingerprint(sku1) == failure_fingerprint(sku2)


def test_key_frame_skips_vendor_frames_and_line_numbers() -> None:
    vendor = Frame(filename="django/core/handlers/base.py", function="_get_response", in_app=False)
    f = _sentry("1", "x", (vendor, CART))
    # The crash site names the file by its last two path parts without the extension (was
    # "shop/cart.py:line_total"), so a Sentry frame, a module name, a checkout path and a served
    # URL of one file give one key. Frames are crash first, so here the error was raised inside
    # the library frame: the key now also names the library call (and leaves the message out).
    assert key_frame(f) == "shop/cart:line_total > handlers/base:_get_response"
    assert key_frame(_sentry("2", "x", (CART, vendor))) == "shop/cart:line_total"


def test_log_message_issue_without_stack_is_located_by_logger() -> None:
    f = Failure(source="sentry", item_id="9", title="Payment timeout for order 1", logger="shop.payments")
    assert key_frame(f) == "shop.payments"


def test_fingerprint_frame_and_cluster_frame_group_raw_rows() -> None:
    from polars.testing import assert_frame_equal

    from selfheal.fingerprint import fingerprint_frame
    from selfheal.normalize import cluster_frame

    raw = pl.DataFrame(
        {
            "source": ["sentry", "sentry", "sentry", "playwright"],
            "item_id": ["1", "2", "3", "a"],
            "exception_type": ["KeyError", "LookupError", "LookupError", "Error"],
            "message": ["'sku'", "order 12 missing", "order 9931 missing", "expect failed"],
            "frame_key": [
                "shop/cart.py:line_total",
                "shop/o.py:load",
                "shop/o.py:load",
                "tests/a.spec.ts:A › b",
            ],
            "count": [5, 2, 3, 1],
            "users": [1, 0, 2, 0],
            "last_seen": ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"],
        }
    )
    with_fp = fingerprint_frame(raw)
    fps = with_fp["fingerprint"].to_list()
    assert fps[1] == fps[2]
    assert len(set(fps)) == 3
    assert all(len(fp) == 16 for fp in fps)
    clusters = cluster_frame(with_fp).select("items", "frequency", "users", "sources", "last_seen")
    expected = pl.DataFrame(
        {
            "items": [2, 1, 1],
            "frequency": [5, 5, 1],
            "users": [2, 1, 0],
            "sources": [["sentry"], ["sentry"], ["playwright"]],
            "last_seen": ["2026-11-03", "2026-11-01", "2026-11-04"],
        },
        schema_overrides={"items": pl.UInt32},
    )
    assert_frame_equal(
        clusters.sort(["frequency", "items"], descending=True), expected, check_row_order=False
    )


def test_one_test_spelled_with_and_without_the_checkouts_folder_is_one_bug() -> None:
    """The JSON report resolved against a checkout says e2e/tests/…, the JUnit report tests/…."""
    base = {
        "source": "playwright",
        "exception_type": "Error",
        "message": "expect(locator).toBeVisible() failed",
    }
    frames = [
        Frame(filename=p, function="", lineno=8, path=p)
        for p in ("e2e/tests/cart.spec.ts", "tests/cart.spec.ts")
    ]
    a, b = (
        Failure(item_id=str(n), title="t", frames=(f,), test_path=("Cart", "adds"), **base)
        for n, f in enumerate(frames)
    )
    assert failure_fingerprint(a) == failure_fingerprint(b)
    other = Failure(item_id="c", title="t", frames=(frames[0],), test_path=("Cart", "removes"), **base)
    assert failure_fingerprint(other) != failure_fingerprint(a)


def test_python_and_polars_normalization_agree_on_random_text() -> None:
    """Seeded random messages mixing ids, codes, quotes, URLs and non-ASCII word characters."""
    import random

    rng = random.Random(3)  # noqa: S311 - seeded test data, not cryptography
    pieces = [*"abcXYZ019-_#'\" .:/()é€›×\t\n", "ACME-7", "SKU_20", "0x1f", "http://a.b/c?d=1", "user@x.io"]
    pieces += ["/tmp/a b", "Call log:\n  - x", "中文", "ß", "Ωmega2"]
    raw = ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 30))) for _ in range(2000)]
    frame = pl.DataFrame({"m": raw}).select(normalize_message_expr("m").alias("n"))
    assert frame["n"].to_list() == [normalize_message(r) for r in raw]


def test_fingerprints_are_stable_values_on_every_path() -> None:
    """Last week's files are compared by fingerprint: the value must not change between versions."""
    assert failure_fingerprint(_sentry("1", "'sku'", (CART,))) == "a4e1f3cd80be0542"
    original = {
        "id": "sentry-1",
        "title": "LookupError: order 8812 not found",
        "culprit": "shop/orders.py in load",
    }
    assert upgrade_original(original)["fingerprint"] == "748455ea3b6e6f3d"


def test_a_batch_gives_each_item_the_fingerprint_it_gets_alone() -> None:
    """Hashing runs once per distinct key: the batch must map every key back to its own item."""
    spec = Frame(filename="tests/cart.spec.ts", function="", lineno=8, path="tests/cart.spec.ts")
    items = [
        _sentry("1", "'sku'", (CART, CALLER_A)),
        _sentry("2", "'sku'", (CART_MOVED, CALLER_B)),  # the same bug as 1
        _sentry("3", "order 8812 not found", (CART,), "LookupError"),
        _sentry("4", "order 9931 not found", (OTHER_FN,), "LookupError"),
        Failure(source="sentry", item_id="5", title="Payment timeout for order 1", logger="shop.payments"),
        Failure(source="junit", item_id="6", title="t", exception_type="AssertionError", frames=(spec,)),
        Failure(
            source="playwright", item_id="7", title="t", frames=(spec,), test_path=("Cart", "adds SKU-1")
        ),
        Failure(
            source="playwright", item_id="8", title="t", frames=(spec,), test_path=("Cart", "adds SKU-2")
        ),
    ]
    batch = fingerprint_failures(items)
    assert batch == [failure_fingerprint(item) for item in items]
    assert batch[0] == batch[1]
    assert batch[6] == batch[7]
    assert len(set(batch)) == 6
    assert fingerprint_failures(list(reversed(items))) == list(reversed(batch))


def test_normalization_reads_a_bounded_window_the_same_way_in_python_and_polars() -> None:
    """Hostile messages (a 64 KiB run of hex letters made the hex rule's work grow faster than
    the text) cost no more than their first NORMALIZED_WINDOW characters, on both paths."""
    from selfheal.fingerprint import MAX_KEY_CHARS, NORMALIZED_WINDOW

    spaced = " " * (NORMALIZED_WINDOW - 3) + "tail text"  # collapses: the key is read past the window
    raw = ["A" * 65_536, "dead1beef " * 9_000, spaced, "x" * (NORMALIZED_WINDOW - 1) + "é 12 ACME-7"]
    frame = pl.DataFrame({"m": raw}).select(normalize_message_expr("m").alias("n"))
    python = [normalize_message(r) for r in raw]
    assert frame["n"].to_list() == python
    assert python == [normalize_message(r[:NORMALIZED_WINDOW]) for r in raw]
    assert python[0] == "A" * MAX_KEY_CHARS
    assert python[1] == " ".join(["<hex>"] * 80)[:MAX_KEY_CHARS]
    assert python[2] == "tai"  # only what the window holds
