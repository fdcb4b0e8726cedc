"""chalicelib/api/http_caching.py: entity tags, If-None-Match and Cache-Control of one answer (RFC 9110 sections
8.8.3, 13.1.2 and 15.4.5), as a pure function of the method, status, body and the two header values."""

import base64
import hashlib

import pytest

from chalicelib.api.http_caching import (
    IMMUTABLE,
    NO_STORE,
    cache_answer,
    entity_tag,
    none_match,
    revalidating,
)

BODY = b'{"wallet":"0xabc","version":1}'
TAG = entity_tag(BODY)
SHORT = revalidating(5, 10)


def test_the_entity_tag_is_the_quoted_base64url_sha256_of_the_exact_bytes():
    encoded = base64.urlsafe_b64encode(hashlib.sha256(BODY).digest()).decode().rstrip("=")
    assert entity_tag(BODY) == f'"{encoded}"'
    assert not TAG.startswith("W/")  # strong


def test_bodies_that_differ_by_one_byte_have_different_tags():
    assert entity_tag(BODY) != entity_tag(BODY.replace(b"1", b"2"))
    assert entity_tag(BODY) != entity_tag(BODY + b" ")


def test_revalidating_names_max_age_and_stale_while_revalidate():
    assert revalidating(5, 10) == "public, max-age=5, stale-while-revalidate=10"


def test_a_get_answered_200_carries_its_etag_and_the_chosen_cache_control():
    answer = cache_answer("GET", 200, BODY, SHORT, None)

    assert (answer.status, answer.body) == (200, BODY)
    assert answer.headers == {"ETag": TAG, "Cache-Control": SHORT}


def test_a_get_whose_if_none_match_names_the_tag_is_304_with_no_body_and_the_same_validators():
    answer = cache_answer("GET", 200, BODY, IMMUTABLE, TAG)

    assert (answer.status, answer.body) == (304, b"")
    assert answer.headers == {"ETag": TAG, "Cache-Control": IMMUTABLE}


def test_a_get_whose_if_none_match_names_another_tag_gets_the_full_answer():
    answer = cache_answer("GET", 200, BODY, SHORT, entity_tag(b"an older body"))

    assert (answer.status, answer.body) == (200, BODY)


@pytest.mark.parametrize("status", [400, 404, 429, 500, 308])
def test_any_other_status_of_a_get_is_no_store_without_an_etag_and_ignores_if_none_match(status):
    answer = cache_answer("GET", status, BODY, None, "*")

    assert (answer.status, answer.body) == (status, BODY)
    assert answer.headers == {"Cache-Control": NO_STORE}


def test_other_methods_are_no_store_without_an_etag_even_with_if_none_match():
    answer = cache_answer("POST", 200, BODY, None, TAG)

    assert (answer.status, answer.body, answer.headers) == (200, BODY, {"Cache-Control": NO_STORE})


def test_a_cache_control_its_handler_chose_is_kept():
    assert cache_answer("GET", 200, BODY, "no-cache", None).headers["Cache-Control"] == "no-cache"
    assert cache_answer("GET", 404, BODY, "no-cache", None).headers["Cache-Control"] == "no-cache"


def test_a_get_200_without_a_chosen_cache_control_is_no_store():
    assert cache_answer("GET", 200, BODY, None, None).headers == {"ETag": TAG, "Cache-Control": NO_STORE}


@pytest.mark.parametrize(
    "field",
    [
        TAG,
        "*",
        "  *  ",
        f"W/{TAG}",  # weak comparison (RFC 9110 13.1.2): CloudFront weakens a tag when it compresses
        f'"older", {TAG}',
        f'"older",{TAG}',
        f'W/"older" ,\t{TAG} , ',
        f", , {TAG}",  # empty list elements are allowed (RFC 9110 5.6.1)
        f'"a,b", {TAG}',  # a comma inside a quoted tag is part of it
    ],
)
def test_if_none_match_matches(field):
    assert none_match(field, TAG)


@pytest.mark.parametrize(
    "field",
    [
        None,
        "",
        '"older"',
        '"older", W/"other"',
        TAG[1:-1],  # unquoted
        TAG + "x",
        TAG[:-1],  # unterminated
        f"{TAG} {TAG}",  # two tags without a comma
        f"*, {TAG}",  # * stands alone
        "garbage",
        "W/",
        '"\x00"',
        "\u00e9" + TAG,
    ],
)
def test_if_none_match_does_not_match(field):
    assert not none_match(field, TAG)


def test_a_weak_tag_of_ours_matches_its_strong_form_too():
    assert none_match(TAG, "W/" + TAG)
