import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartcity.kernel.errors import InvalidInput
from smartcity.kernel.notify.categories import Category
from smartcity.kernel.notify.templates import LOCALES, format_yuan, shipped_templates

BILL = {
    "biller": "电力",
    "amount": "123.45",
    "period": "2026-10",
    "due_date": "2026-12-01",
    "bill_number": "B-7",
}

REQUIRED = {
    "bill_issued",
    "bill_due_soon",
    "payment_received",
    "receipt_ready",
    "certificate_issued",
    "certificate_revoked",
    "login_new_device",
    "card_frozen",
    "notice_published",
}


def test_every_required_template_ships_in_both_locales_with_the_same_parameters() -> None:
    catalogue = shipped_templates()
    assert catalogue.names >= REQUIRED
    for name in catalogue.names:
        zh, en = (catalogue.get(name, locale) for locale in LOCALES)
        assert zh.parameters == en.parameters, name
        assert zh.category == en.category


def test_bill_issued_renders_in_chinese_and_english() -> None:
    catalogue = shipped_templates()
    zh = catalogue.render("bill_issued", "zh_CN", BILL)
    en = catalogue.render("bill_issued", "en", BILL)
    assert zh.title == "电力账单已出：123.45 元"
    assert "请于 2026-12-01 前缴纳" in zh.body
    assert en.title == "电力 bill issued: ¥123.45"
    assert "Please pay by 2026-12-01" in en.body
    assert zh.link == en.link == "/me#bill-B-7"
    assert zh.category is Category.BILL


def test_missing_parameters_are_named() -> None:
    with pytest.raises(InvalidInput) as caught:
        shipped_templates().render("bill_issued", "en", {"biller": "water"})
    assert "amount" in caught.value.reason and "due_date" in caught.value.reason
    assert caught.value.details["missing"] == ["amount", "bill_number", "due_date", "period"]


def test_unknown_template_or_locale_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="unknown template 'bill_paid'"):
        shipped_templates().render("bill_paid", "en", {})
    with pytest.raises(InvalidInput, match="unknown locale"):
        shipped_templates().render("bill_issued", "fr", BILL)


@given(st.text(st.characters(exclude_characters="\x00"), max_size=200))
def test_parameter_text_is_inserted_verbatim_never_expanded(value: str) -> None:
    rendered = shipped_templates().render("message", "en", {"title": value, "body": "${title}"})
    assert rendered.title == value
    assert rendered.body == "${title}"


def test_nul_characters_are_refused() -> None:
    with pytest.raises(InvalidInput, match="NUL"):
        shipped_templates().render("message", "en", {"title": "a\x00", "body": "b"})


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_format_yuan_round_trips_fen(fen: int) -> None:
    text = format_yuan(fen)
    assert round(float(text.replace(",", "")) * 100) == fen
