"""Session cookies and CSRF tokens of the CSM page (`serving.uisession`)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from serving.uisession import csrf_ok, issue, login_ok, verify

TOKENS = [b"alpha-token", b"beta-token"]


@given(name=st.text(min_size=1, max_size=60), expires=st.integers(min_value=1, max_value=2**40))
def test_any_name_round_trips_and_the_token_never_shows(name, expires):
    value = issue("beta-token", name, expires)
    assert "beta-token" not in value
    session = verify(value, TOKENS, now=expires - 1)
    assert session is not None and session.name == name
    assert csrf_ok(session, session.csrf)
    assert verify(value, TOKENS, now=expires) is None


@given(garbage=st.text(max_size=200))
def test_garbage_cookies_are_no_session(garbage):
    assert verify(garbage, TOKENS, now=0) is None


@given(
    expires=st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=12),
    name=st.text(max_size=10),
)
def test_expiry_digits_beyond_ascii_are_no_session(expires, name):
    """str.isdigit accepts superscripts and other scripts' digits, int() only some of them:
    a cookie carrying them is no session, never an error."""
    value = f"{name.encode().hex()}.{expires}.abc"
    assert verify(value, TOKENS, now=0) is None or expires.isascii()


def test_csrf_differs_per_session_and_rejects_others():
    a = verify(issue("alpha-token", "Ann", 100), TOKENS, now=0)
    b = verify(issue("alpha-token", "Bob", 100), TOKENS, now=0)
    assert a is not None and b is not None and a.csrf != b.csrf
    assert not csrf_ok(a, b.csrf) and not csrf_ok(a, None) and not csrf_ok(a, "")


def test_login_uses_the_services_token_check():
    assert login_ok(" alpha-token ", TOKENS)
    assert not login_ok("alpha", TOKENS) and not login_ok("", TOKENS)
