"""Writes the import test files in this folder (run it again after changing a row here).

.venv/bin/python tests/importing/files/make_files.py
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

HERE = Path(__file__).parent
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def sf18(value: str) -> str:
    """Salesforce's 18-character form of a 15-character id (written out independently)."""
    suffix = ""
    for start in (0, 5, 10):
        bits = 0
        for i, ch in enumerate(value[start : start + 5]):
            if ch.isupper():
                bits |= 1 << i
        suffix += _CHECKSUM[bits]
    return value + suffix


PARENT = "0015g00000PaRnT"
CHILD_1 = "0015g00000ChiLd"
CHILD_2 = "0015g00000KiD2x"
GRANDCHILD = "0015g00000GrAnD"
OWNER_1 = "0055g00000OwnA1"
OWNER_2 = "0055g00000OwnB2"

SALESFORCE_HEADER = [
    "Id",
    "Name",
    "ParentId",
    "Website",
    "OwnerId",
    "MRR__c",
    "Health_Score__c",
    "Tier__c",
    "Lifecycle_Stage__c",
    "Renewal_Date__c",
    "Segment__c",
    "Description",
]
# Children come before their parent; ids are mixed 15- and 18-character forms.
SALESFORCE_ROWS = [
    [
        sf18(CHILD_1),
        "Zürich Stadtwerke, AG",
        PARENT,
        "zurich.example",
        OWNER_1,
        "1,797.19",
        "85",
        "Tier 1",
        "Onboarding",
        "2027-03-31",
        "Enterprise",
        "line one\r\nline two",
    ],
    [
        CHILD_2,
        "Ærø Shipping",
        sf18(PARENT),
        "aero.example",
        OWNER_2,
        "250",
        "40",
        "Tier 2",
        "Adoption",
        "",
        "SMB",
        "",
    ],
    [sf18(GRANDCHILD), 'Grandchild "Quoted" Ltd', CHILD_1, "", "", "", "", "", "", "", "", ""],
    [
        sf18(PARENT),
        "Société Générale Holding",
        "",
        "holding.example",
        OWNER_2,
        "10000.00",
        "99",
        "3",
        "Renewal",
        "2026-12-31",
        "Enterprise",
        "the top",
    ],
]

HUBSPOT_HEADER = [
    "Record ID",
    "Company name",
    "Company Domain Name",
    "Parent Company ID",
    "Company owner",
    "Lifecycle Stage",
    "Annual Revenue",
    "Create Date",
]
HUBSPOT_ROWS = [
    [
        "9001",
        "Acme Child",
        "child.acme.example",
        "9000",
        "ann@example.com",
        "customer",
        "1000000",
        "2024-01-02 10:00",
    ],
    [
        "9000",
        "Acme Corp",
        "acme.example",
        "",
        "bob@example.com; ann@example.com",
        "customer",
        "5000000",
        "2023-05-06 09:00",
    ],
    ["9002", "Beta GmbH", "beta.example", "", "", "lead", "", "2024-02-03 11:00"],
]

OWN_HEADER = ["external_id", "name", "mrr", "region", "csms"]
OWN_ROWS = [
    ["E1", "Zürich Stadtwerke", "1797.19", "EMEA", ""],
    ["E2", "Société Générale", "250", "EMEA", ""],
    ["E3", "Ærø Shipping", "", "Nordics", ""],
]

BAD_HEADER = [
    "external_id",
    "name",
    "mrr",
    "health_score",
    "renewal_date",
    "tier",
    "csms",
    "parent_external_id",
]
BAD_ROWS = [
    ["B1", "Good one", "100", "50", "2027-01-01", "1", "", ""],  # line 2
    ["B2", "Bad money", "12abc", "50", "", "", "", ""],  # line 3
    ["B3", "Multi\nline\nname", "1,000.50", "", "", "", "", ""],  # lines 4-6
    ["B4", "Health too high", "", "150", "", "", "", ""],  # line 7
    ["B5", "Bad date", "", "", "31/12/2027", "", "", ""],  # line 8
    ["B6", "Bad tier", "", "", "", "Gold", "", ""],  # line 9
    ["B7", "Unknown owner", "", "", "", "", "nobody@example.com", ""],  # line 10
    ["", "No id", "", "", "", "", "", ""],  # line 11
    ["B9", "Unknown parent", "", "", "", "", "", "NOPE"],  # line 12
    ["B10", "Decimal comma", "1797,19", "", "", "", "", ""],  # line 13
    ["B11", "x" * 10_001, "", "", "", "", "", ""],  # line 14
    ["B12", "Good two", "", "", "", "Tier 2", "", "B1"],  # line 15
]
# (line, column) of every planted problem, in the order they are reported.
BAD_EXPECTED = [
    (3, "mrr"),
    (7, "health_score"),
    (8, "renewal_date"),
    (9, "tier"),
    (10, "csms"),
    (11, "external_id"),
    (12, "parent_external_id"),
    (13, "mrr"),
    (14, "name"),
]

CYCLE_ROWS = [
    ["K1", "Cycle one", "K2"],
    ["K2", "Cycle two", "K1"],
    ["K3", "Fine", "K1"],
    ["K4", "Self", "K4"],
    ["K5", "Top", ""],
]
REPEAT_ROWS = [["R1", "First"], ["R2", "Second"], ["R1", "Again"], ["R1", "Third time"]]


def render(
    header: list[str], rows: list[list[str]], *, delimiter: str = ",", line_end: str = "\r\n"
) -> str:
    """CSV text as a spreadsheet would save it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def main() -> None:
    """Write every file."""
    salesforce = render(SALESFORCE_HEADER, SALESFORCE_ROWS)
    (HERE / "salesforce_accounts.csv").write_bytes(salesforce.encode("utf-8-sig"))
    (HERE / "hubspot_companies.csv").write_bytes(
        render(HUBSPOT_HEADER, HUBSPOT_ROWS, line_end="\n").encode("utf-8")
    )
    own = render(OWN_HEADER, OWN_ROWS)
    (HERE / "accounts_utf8.csv").write_bytes(own.encode("utf-8"))
    (HERE / "accounts_utf16.csv").write_bytes(own.encode("utf-16"))  # BOM, little-endian
    (HERE / "accounts_utf16be.csv").write_bytes(b"\xfe\xff" + own.encode("utf-16-be"))
    (HERE / "accounts_cp1252.csv").write_bytes(own.encode("cp1252"))
    (HERE / "accounts_semicolon.csv").write_bytes(
        render(OWN_HEADER, OWN_ROWS, delimiter=";").encode("utf-8")
    )
    (HERE / "bad_rows.csv").write_bytes(render(BAD_HEADER, BAD_ROWS, line_end="\n").encode())
    (HERE / "cycle.csv").write_bytes(
        render(["external_id", "name", "parent_external_id"], CYCLE_ROWS).encode()
    )
    (HERE / "repeated_id.csv").write_bytes(render(["external_id", "name"], REPEAT_ROWS).encode())


if __name__ == "__main__":
    main()
