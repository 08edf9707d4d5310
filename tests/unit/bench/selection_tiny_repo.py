"""A tiny git repository for `bench selection`: two modules, four tests, three commits.

shop/cart.py has its tests in tests/test_checkout.py, a name that file-name matching cannot
tie to it; shop/pricing.py has tests/test_pricing.py.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

PRICING = """def discount(total):
    if total >= 100:
        return total * 0.5
    return total
"""
PRICING_LATER = """def discount(total):
    if total >= 100:
        return total * 0.5
    return total


def is_free(total):
    return total == 0
"""
CART = """from shop.pricing import discount


def checkout(items):
    return discount(sum(items))
"""
CART_LATER = """from shop.pricing import discount


def checkout(items):
    total = sum(items)
    if not items:
        return 0
    return discount(total)
"""
TEST_PRICING = """from shop.pricing import discount, is_free


def test_small_totals_pay_in_full():
    assert discount(99) == 99


def test_large_totals_get_half_off():
    assert discount(200) == 100


def test_free():
    assert is_free(0) and not is_free(3)
"""
TEST_CHECKOUT = """from shop.cart import checkout


def test_large_baskets_get_half_off():
    assert checkout([100, 100]) == 100


def test_an_empty_basket_costs_nothing():
    assert checkout([]) == 0
"""
TEST_PRICING_FIRST = """from shop.pricing import discount


def test_small_totals_pay_in_full():
    assert discount(99) == 99


def test_large_totals_get_half_off():
    assert discount(200) == 100
"""


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    done = subprocess.run(
        ["git", "-C", str(repo), *identity, *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def make_tiny_repo(repo: Path) -> list[str]:
    """The three commits, oldest first: the index's, a cart change, a pricing change."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    first = commit(
        repo,
        {
            "shop/__init__.py": "",
            "shop/pricing.py": PRICING,
            "shop/cart.py": CART,
            "tests/test_pricing.py": TEST_PRICING_FIRST,
            "tests/test_checkout.py": TEST_CHECKOUT,
        },
        "shop: pricing and cart",
    )
    second = commit(
        repo,
        {"shop/cart.py": CART_LATER},
        "cart: an empty basket costs nothing",
    )
    third = commit(
        repo,
        {"shop/pricing.py": PRICING_LATER, "tests/test_pricing.py": TEST_PRICING},
        "pricing: is_free",
    )
    return [first, second, third]
