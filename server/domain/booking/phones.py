"""Phone numbers that can receive texts."""

from __future__ import annotations

import phonenumbers

from server.domain.errors import InvalidInput

MOBILE_TYPES = frozenset(
    {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}
)


def normalise_phone(text: str, default_region: str) -> str:
    """A mobile number in E.164 (+46701740605); numbers without a country code are read in
    ``default_region``. Error messages never repeat the number."""
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidInput("this is not a phone number", code="invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("this is not a valid phone number", code="invalid_phone")
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise InvalidInput("texts need a mobile number", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
