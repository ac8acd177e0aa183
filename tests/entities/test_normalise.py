from __future__ import annotations

import pytest

from tieout.entities.normalise import free_mail_domains, legal_name, registrable_domain, tax_id


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("55 1234567", "551234567"),
        ("55-1234567", "551234567"),
        ("de 123.456.789", "DE123456789"),
        ("  ", None),
        ("", None),
        (None, None),
        ("ß-12", "12"),
    ],
)
def test_tax_id(raw, expected):
    assert tax_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("billing.acme.co.uk", "acme.co.uk"),
        ("https://www.Acme.com/path", "acme.com"),
        ("http://user:pw@shop.acme.com:8080/x?y#z", "acme.com"),
        ("ap@acme.com", "acme.com"),
        ("mailto:ap@acme.com", "acme.com"),
        ("user@GMAIL.com", None),
        ("someone@mail.yahoo.com", None),  # a free-mail provider's subdomain is still free mail
        ("foo.github.io", "github.io"),  # private PSL rules are off, on both sides
        ("ap@initech-payables.example", None),  # .example is no public suffix: no registrable domain
        ("co.uk", None),
        ("localhost", None),
        ("1.2.3.4", None),
        ("acme.com.", "acme.com"),
        ("www.ck", "www.ck"),  # exception rule !www.ck
        ("a.b.ck", "a.b.ck"),  # wildcard rule *.ck
        ("b.ck", None),
        ("müller.de", "xn--mller-kva.de"),
        ("shop.xn--mller-kva.de", "xn--mller-kva.de"),
        ("not a domain", None),
        (None, None),
    ],
)
def test_registrable_domain(raw, expected):
    assert registrable_domain(raw) == expected


def test_free_mail_is_package_data():
    assert {"gmail.com", "outlook.com", "yahoo.com", "proton.me", "163.com"} <= free_mail_domains()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RHL Associates, LLC", "rhl associates"),
        ("Société Générale S.A.", "societe generale"),
        ("Müller GmbH & Co. KG", "muller"),
        ("GLOBEX LABS, L.L.C.", "globex labs"),
        ("Acme Analytics Inc.", "acme analytics"),
        ("Initech Systems Ltd", "initech systems"),
        ("Company Inc", "company inc"),  # every word is a form: kept whole rather than emptied
        ("AG", "ag"),  # never reduced to nothing
        ("S.A.", "s a"),
        ("Coca-Cola Co", "coca cola"),
        ("  ", None),
        (None, None),
    ],
)
def test_legal_name(raw, expected):
    assert legal_name(raw) == expected
