"""ISO 4217 minor units: how many decimals each currency's amounts have (JPY none, USD two, KWD three).

The exponent says how a vendor's minor-unit integer becomes an amount (Stripe's `1500` JPY is 1,500 yen, its
`1500` USD is 15.00 dollars) and how many decimals an amount in that currency is shown with. Kept as data —
ISO 4217 List One, the active currencies and funds — so that a new currency is one line, not a code change.

    >>> exponent("JPY"), exponent("usd"), exponent("KWD"), exponent("CLF")
    (0, 2, 3, 4)
"""

from __future__ import annotations

# Every active ISO 4217 code by its minor unit. Codes ISO lists without a minor unit ("N.A.": precious metals,
# SDR, bond-market units, the test and no-currency codes) are in NO_MINOR_UNIT instead.
EXPONENTS: dict[str, int] = {
    # zero decimals
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND",
                     "VUV", "XAF", "XOF", "XPF"), 0),
    # three decimals
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    # four decimals: units of account
    **dict.fromkeys(("CLF", "UYW"), 4),
    # two decimals
    **dict.fromkeys((
        "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD",
        "BND", "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY",
        "COP", "COU", "CRC", "CUC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD",
        "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR",
        "IRR", "JMD", "KES", "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL",
        "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN",
        "NIO", "NOK", "NPR", "NZD", "PAB", "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR",
        "SBD", "SCR", "SDG", "SEK", "SGD", "SHP", "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL",
        "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES",
        "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
    ), 2),
}

NO_MINOR_UNIT = frozenset({"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA",
                           "XXX"})

# A code ISO does not list (or lists without a minor unit) is taken to have cents, as most currencies do.
DEFAULT_EXPONENT = 2


def exponent(code: str) -> int:
    """Decimals of an amount in `code` (any case): 0 for JPY, 2 for USD, 3 for KWD; 2 when ISO gives none."""
    return EXPONENTS.get(code.strip().upper(), DEFAULT_EXPONENT)


def known(code: str) -> bool:
    """Whether `code` (any case) is an active ISO 4217 currency code."""
    code = code.strip().upper()
    return code in EXPONENTS or code in NO_MINOR_UNIT
