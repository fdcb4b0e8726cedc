"""bench/item_sizes.py sizes items by DynamoDB's documented rules, and prices a write by the started kilobyte."""

from decimal import Decimal

from bench.item_sizes import item_size, items_of_one_registration, units


def test_names_and_strings_count_their_utf8_bytes():
    assert item_size({"id": "ab", "ü": "é"}) == 2 + 2 + 2 + 2


def test_a_number_takes_a_byte_per_two_significant_digits_plus_one():
    assert item_size({"n": 1_800_000_000}) == 1 + 2  # "18" significant
    assert item_size({"n": Decimal(123456)}) == 1 + 4


def test_lists_and_maps_take_three_bytes_and_one_per_element():
    assert item_size({"l": [b"\0" * 32, True]}) == 1 + 3 + (32 + 1) + (1 + 1)
    assert item_size({"m": {"k": "v"}}) == 1 + 3 + (1 + 1 + 1)


def test_a_write_costs_a_unit_per_started_kilobyte_and_twice_in_a_transaction():
    assert (units(1024, False), units(1025, False), units(1025, True)) == (1, 2, 4)


def test_one_registration_writes_a_record_that_holds_its_document():
    items = items_of_one_registration()
    document_bytes = items["document"]["bytes"]
    assert item_size(items["record_queued"]) > document_bytes
    assert item_size(items["wallet_head"]) > document_bytes  # a lookup reads the head alone
