"""Mobile numbers: stored whole in E.164, shown masked outside their organisation."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from service.chain.mobiles import format_mobile, mask_mobile, normalise_mobile
from service.errors import Invalid


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13812345678", "+8613812345678"),
        (" 138 1234 5678 ", "+8613812345678"),
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("+44 7911 123456", "+447911123456"),
        ("+81 90-1234-5678", "+819012345678"),
    ],
)
def test_normalise_reads_plain_numbers_as_chinese_and_keeps_international_ones(raw, e164):
    assert normalise_mobile(raw) == e164


@pytest.mark.parametrize("raw", ["", "abc", "12345", "1381234567", "+86 000 0000 0000"])
def test_normalise_refuses_what_is_not_a_valid_number(raw):
    with pytest.raises(Invalid) as raised:
        normalise_mobile(raw)
    assert list(raised.value.details["fields"]) == ["mobile"]


def test_normalise_names_the_field_it_is_told():
    with pytest.raises(Invalid) as raised:
        normalise_mobile("nope", field="member_mobile")
    assert list(raised.value.details["fields"]) == ["member_mobile"]


@pytest.mark.parametrize(
    ("e164", "masked"),
    [
        ("+8613812345678", "138****5678"),
        ("+447911123456", "+44 791***3456"),
        ("+14155552671", "+1 415***2671"),
    ],
)
def test_mask_keeps_head_and_tail_and_the_country_code_outside_china(e164, masked):
    assert mask_mobile(e164) == masked


cn_mobiles = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@given(cn_mobiles)
def test_mask_of_any_chinese_mobile_shows_first_three_and_last_four_digits_only(national):
    try:
        e164 = normalise_mobile(national)
    except Invalid:
        assume(False)

    masked = mask_mobile(e164)

    assert masked == national[:3] + "****" + national[-4:]
    assert national not in masked
    assert e164 not in masked


def test_mask_of_every_regions_example_mobile_hides_some_digits():
    leaks = {}
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        if example is None:
            continue
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        national = phonenumbers.national_significant_number(example)
        masked = mask_mobile(normalise_mobile(e164))
        if "*" not in masked or national in masked.replace(" ", ""):
            leaks[region] = masked
    assert leaks == {}


@pytest.mark.parametrize(
    ("e164", "shown"),
    [("+8613812345678", "138 1234 5678"), ("+447911123456", "+44 7911 123456")],
)
def test_a_whole_mobile_is_shown_as_people_read_it(e164, shown):
    assert format_mobile(e164) == shown
