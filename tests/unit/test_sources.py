"""chalicelib/api/sources.py: a request's source address becomes the keys of its per-source limits."""

import pytest

from chalicelib.api.sources import source_of
from chalicelib.model import Source


def test_an_ipv4_source_is_its_address_within_its_slash_24():
    assert source_of("198.51.100.7") == Source("ip4:198.51.100.7", "ip4:198.51.100.0/24")


def test_an_ipv6_source_is_its_slash_64_within_its_slash_48():
    assert source_of("2001:db8:1:2::1") == Source("ip6:2001:db8:1:2::/64", "ip6:2001:db8:1::/48")


def test_ipv6_neighbours_in_one_slash_64_are_one_source():
    assert len({source_of(f"2001:db8:1:2{n}") for n in ("::1", "::2", "::3", ":ffff:ffff:ffff:ffff")}) == 1


def test_ipv6_sources_in_other_slash_64s_of_one_slash_48_share_only_the_network():
    first, second = source_of("2001:db8:1:2::1"), source_of("2001:db8:1:3::1")

    assert first.own != second.own and first.network == second.network


def test_ipv4_neighbours_share_the_network_but_not_the_source():
    first, second = source_of("198.51.100.7"), source_of("198.51.100.8")

    assert first.own != second.own and first.network == second.network


def test_an_ipv4_mapped_ipv6_address_is_the_ipv4_source():
    assert source_of("::ffff:198.51.100.7") == source_of("198.51.100.7")


def test_spellings_of_one_ipv6_address_are_one_source():
    assert source_of("2001:0DB8:0001:0002:0000:0000:0000:0001") == source_of("2001:db8:1:2::1")


def test_a_zone_id_names_no_other_source():
    assert source_of("fe80::1%eth0") == source_of("fe80::1")


@pytest.mark.parametrize("text", ["unknown", "not an address", "", "999.1.1.1", "203.0.113.7/24"])
def test_text_that_is_no_address_is_a_source_and_network_of_its_own(text):
    source = source_of(text)

    assert source.own == source.network and source.own.startswith("other:")
    assert source.own not in {source_of("198.51.100.7").own, source_of("other").own}


def test_a_long_or_unusual_text_becomes_a_short_printable_key():
    source = source_of("x" * 5000 + "\u00e9\n")

    assert source.own.startswith("other:sha256-") and len(source.own) < 64 and source.own.isprintable()


def test_surrounding_spaces_are_ignored():
    assert source_of(" 198.51.100.7 ") == source_of("198.51.100.7")
