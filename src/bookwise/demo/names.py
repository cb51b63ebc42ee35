"""Word lists and deterministic name makers for demo companies and people.

Top-level company names come from a bijection between the top-level index and the
(first word, second word, industry) grid, so they never repeat until the grid is used up;
subsidiaries and sites add a country or unit to their parent's name, so they are unique too.
"""

from __future__ import annotations

import random
import unicodedata
from math import gcd
from typing import NamedTuple

FIRST_WORDS = (
    "North", "South", "East", "West", "Blue", "Red", "Green", "Silver", "Golden", "Iron",
    "Bright", "Clear", "Crystal", "Deep", "Far", "High", "Long", "Swift", "True", "Wild",
    "Black", "White", "Grey", "Amber", "Azure", "Cedar", "Copper", "Coral", "Crimson",
    "Emerald", "Indigo", "Ivory", "Jade", "Maple", "Oak", "Pine", "Ruby", "Sapphire",
    "Scarlet", "Cobalt", "Onyx", "Pearl", "Sun", "Moon", "Star", "Sky", "Cloud", "Rain",
    "Snow", "Frost", "Storm", "Thunder", "Fire", "Ember", "Ocean", "Sea", "Lake", "Fox",
    "Wolf", "Bear", "Eagle", "Falcon", "Hawk", "Raven", "Lion", "Tiger", "Otter", "Heron",
    "Swan", "Elm", "Birch", "Willow", "Aspen", "Cypress", "Laurel", "Juniper", "Sage",
    "Clover", "Fern", "Ivy", "Lotus", "Orchid", "Rose", "Granite", "Marble", "Slate",
    "Quartz", "Flint", "Opal", "Nova", "Polar", "Alpine", "Arctic", "Atlas", "Apex",
    "Zenith", "Prime", "Noble", "Royal", "Grand", "Bold", "Brave", "Silent", "Quiet",
    "Rapid", "Open", "Little", "Big", "Old", "New", "Fjäll", "Öster", "Lumen", "Terra",
    "Aqua", "Sol", "Velvet", "Lucky", "Happy", "Wise", "Keen", "Pacific",
)  # fmt: skip

SECOND_WORDS = (
    "Harbor", "Wind", "Peak", "River", "Stone", "Field", "Bridge", "Gate", "Brook", "Ridge",
    "Valley", "Wood", "Point", "Port", "Haven", "Crest", "Forge", "Mill", "Rock", "Shore",
    "Spring", "Wave", "Hill", "Hollow", "Grove", "Glen", "Meadow", "Path", "Way", "Line",
    "Light", "Fall", "Ford", "Well", "Works", "Yard", "Tower", "Castle", "Crown", "Shield",
    "Anchor", "Arrow", "Beacon", "Compass", "Harvest", "Horizon", "Lantern", "Leaf", "Root",
    "Branch", "Seed", "Bloom", "Cove", "Creek", "Dale", "Dune", "Fjord", "Garden", "Isle",
    "Marsh", "Mesa", "Moor", "Park", "Pond", "Reef", "Sound", "Stream", "Trail", "Vale",
    "View", "Water", "Cliff", "Canyon", "Summit", "Ledge", "Pass", "Quarry", "Range",
    "Spire", "Vista", "Edge", "Core", "Loop", "Node", "Signal", "Pulse", "Spark", "Flow",
    "Stack", "Grid", "Cube", "Sphere", "Orbit", "Vector", "Matrix", "Logic", "Scale",
    "Shift", "Lane", "Bay", "Brink", "Rise", "Hearth", "Keep", "Wharf", "Mark",
    "Bell", "Wing", "Hart",
)  # fmt: skip

INDUSTRIES = (
    "Analytics", "Logistics", "Systems", "Solutions", "Labs", "Health", "Software",
    "Technologies", "Networks", "Consulting", "Capital", "Partners", "Foods", "Energy",
    "Media", "Retail", "Robotics", "Security", "Biosciences", "Pharma", "Therapeutics",
    "Insurance", "Finance", "Payments", "Learning", "Education", "Travel", "Hospitality",
    "Motors", "Aerospace", "Manufacturing", "Industries", "Materials", "Chemicals",
    "Textiles", "Apparel", "Design", "Studios", "Games", "Entertainment", "Telecom", "Data",
    "Devices", "Instruments", "Electronics", "Semiconductors", "Construction", "Engineering",
    "Architecture", "Realty", "Farms", "Marine", "Freight", "Mobility", "Fitness",
    "Wellness", "Diagnostics", "Genomics", "Recruiting", "Marketing", "Publishing",
    "Packaging", "Trading", "Interiors", "Beverages", "Cosmetics",
)  # fmt: skip

# Legal suffixes of top-level companies, with relative weights ("" = none).
LEGAL_SUFFIXES = (
    ("", 40), (" Inc.", 14), (" LLC", 8), (" Ltd", 7), (" GmbH", 6), (" AG", 2), (" S.A.", 3),
    (" B.V.", 2), (" Co.", 3), (" Corp.", 4), (" plc", 2), (" AB", 2), (" Oy", 1), (" SAS", 2),
    (" Group", 3), (" Holdings", 1),
)  # fmt: skip

TLDS = (("com", 60), ("io", 12), ("co", 6), ("net", 6), ("ai", 4), ("de", 4), ("co.uk", 4),
        ("fr", 2), ("nl", 2))  # fmt: skip


class Country(NamedTuple):
    """Where a subsidiary sits: its name, region, web domain ending and legal form."""

    name: str
    region: str
    tld: str
    legal: str


COUNTRIES = (
    Country("Deutschland", "EMEA", "de", "GmbH"), Country("France", "EMEA", "fr", "SAS"),
    Country("UK", "EMEA", "co.uk", "Ltd"), Country("Nederland", "EMEA", "nl", "B.V."),
    Country("España", "EMEA", "es", "S.L."), Country("Italia", "EMEA", "it", "S.r.l."),
    Country("Sverige", "EMEA", "se", "AB"), Country("Österreich", "EMEA", "at", "GmbH"),
    Country("Schweiz", "EMEA", "ch", "AG"), Country("Polska", "EMEA", "pl", "Sp. z o.o."),
    Country("Danmark", "EMEA", "dk", "ApS"), Country("Norge", "EMEA", "no", "AS"),
    Country("Suomi", "EMEA", "fi", "Oy"), Country("Ireland", "EMEA", "ie", "Ltd"),
    Country("Belgique", "EMEA", "be", "SA"), Country("Portugal", "EMEA", "pt", "Lda."),
    Country("South Africa", "EMEA", "co.za", "(Pty) Ltd"),
    Country("Middle East", "EMEA", "ae", "FZ-LLC"), Country("USA", "NA", "us", "Inc."),
    Country("Canada", "NA", "ca", "Inc."), Country("México", "LATAM", "mx", "S.A. de C.V."),
    Country("Brasil", "LATAM", "com.br", "Ltda."), Country("Argentina", "LATAM", "com.ar", "S.A."),
    Country("Chile", "LATAM", "cl", "SpA"), Country("Colombia", "LATAM", "com.co", "S.A.S."),
    Country("Japan", "APAC", "jp", "K.K."), Country("Australia", "APAC", "com.au", "Pty Ltd"),
    Country("Singapore", "APAC", "sg", "Pte. Ltd."), Country("India", "APAC", "in", "Pvt. Ltd."),
    Country("Korea", "APAC", "kr", "Co., Ltd."), Country("New Zealand", "APAC", "co.nz", "Ltd"),
    Country("Hong Kong", "APAC", "hk", "Limited"),
)  # fmt: skip

UNITS = (
    "Retail", "Manufacturing", "Services", "Research", "Logistics Hub", "Shared Services",
    "Field Operations", "Digital", "Customer Care", "Procurement",
)  # fmt: skip

FIRST_NAMES = (
    "Maria", "James", "Aisha", "Chen", "Sofia", "Liam", "Priya", "Lucas", "Fatima", "Noah",
    "Elena", "Mateo", "Yuki", "Olivia", "Kwame", "Emma", "Ravi", "Hannah", "Diego", "Zoë",
    "Omar", "Ingrid", "Tomás", "Amara", "Jonas", "Leila", "Marco", "Nadia", "Samuel", "Chloé",
    "Hiro", "Grace", "Ahmed", "Freya", "Andrés", "Mei", "Daniel", "Anika", "Pedro", "Sara",
    "Kofi", "Julia", "Arjun", "Léa", "Felix", "Amelia", "Ivan", "Noor", "Oscar", "Camila",
    "Björn", "Alice", "Tariq", "Rosa", "Ethan", "Ines", "Malik", "Clara", "Rafael", "Nina",
)  # fmt: skip

LAST_NAMES = (
    "Lopez", "Smith", "Khan", "Wang", "Rossi", "Murphy", "Patel", "Silva", "Haddad", "Brown",
    "Petrova", "García", "Tanaka", "Johnson", "Mensah", "Müller", "Sharma", "Schmidt",
    "Fernández", "Dubois", "Nasser", "Larsen", "Álvarez", "Okafor", "Weber", "Hosseini",
    "Bianchi", "Novak", "Cohen", "Lefèvre", "Sato", "Walker", "Farouk", "Nielsen", "Ruiz",
    "Li", "Becker", "Kowalski", "Costa", "Berg", "Owusu", "Fischer", "Reddy", "Martin",
    "Wagner", "Evans", "Ivanov", "Rahman", "Andersson", "Moreau", "Jensen", "Ali", "Romero",
    "Hughes", "Santos", "Yilmaz", "Ahmadi", "Kim", "Nowak", "Sousa",
)  # fmt: skip

_TRANSLITERATE = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "ß": "ss", "ł": "l", "Ł": "L"})


def ascii_slug(text: str, separator: str = "") -> str:
    """Lower-case ASCII letters and digits of ``text``, words joined by ``separator``."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = "".join(c if c.isascii() and c.isalnum() else " " for c in plain).lower().split()
    return separator.join(words)


def cumulative(weights: tuple[tuple[str, int], ...]) -> tuple[list[str], list[float]]:
    """Values and their cumulative probabilities, for ``bisect`` on ``random()``."""
    total = sum(weight for _, weight in weights)
    values, bounds, running = [], [], 0
    for value, weight in weights:
        running += weight
        values.append(value)
        bounds.append(running / total)
    return values, bounds


class CompanyNamer:
    """Unique company base names (``Northwind Analytics``) for top-level indexes 0, 1, 2, …"""

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"bookwise-demo-names-{seed}")
        self.first = list(FIRST_WORDS)
        self.second = list(SECOND_WORDS)
        self.industry = list(INDUSTRIES)
        for words in (self.first, self.second, self.industry):
            rng.shuffle(words)
        self.size = len(self.first) * len(self.second) * len(self.industry)
        self.step = rng.randrange(1, self.size)
        while gcd(self.step, self.size) != 1:
            self.step = rng.randrange(1, self.size)
        self.offset = rng.randrange(self.size)
        self.slugs = {
            word: ascii_slug(word) for word in (*self.first, *self.second, *self.industry)
        }

    def base(self, index: int, compound: bool) -> tuple[str, str]:
        """(base name, ASCII slug) of the ``index``-th top-level company, distinct per index."""
        r0, r1, r2 = len(self.industry), len(self.second), len(self.first)
        x = (self.step * index + self.offset) % self.size
        d0, d1, d2 = x % r0, (x // r0) % r1, x // (r0 * r1)
        # Feistel-like mixing keeps the map one-to-one while hiding the arithmetic progression.
        d0 = (d0 + d1 * d1 + 3 * d2) % r0
        d1 = (d1 + 7 * d0 * d0 + d2) % r1
        d2 = (d2 + 5 * d0 + 11 * d1) % r2
        first, second, industry = self.first[d2], self.second[d1], self.industry[d0]
        head = f"{first}{second.lower()}" if compound else f"{first} {second}"
        slug = self.slugs[first] + self.slugs[second] + self.slugs[industry]
        if index >= self.size:
            again = index // self.size + 1
            return f"{head} {industry} {again}", f"{slug}{again}"
        return f"{head} {industry}", slug


def person_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """``count`` distinct (full name, ``first.last@example.com``) pairs."""
    if count <= min(len(FIRST_NAMES), len(LAST_NAMES)):
        # A small team: nobody shares a first or a last name.
        firsts, lasts = rng.sample(FIRST_NAMES, count), rng.sample(LAST_NAMES, count)
        names = list(zip(firsts, lasts, strict=True))
    else:
        pairs = rng.sample(range(len(FIRST_NAMES) * len(LAST_NAMES)), count)
        names = [
            (FIRST_NAMES[p // len(LAST_NAMES)], LAST_NAMES[p % len(LAST_NAMES)]) for p in pairs
        ]
    people: list[tuple[str, str]] = []
    seen: set[str] = set()
    for first, last in names:
        local = f"{ascii_slug(first, '-')}.{ascii_slug(last, '-')}"
        email, n = f"{local}@example.com", 1
        while email in seen:
            n += 1
            email = f"{local}{n}@example.com"
        seen.add(email)
        people.append((f"{first} {last}", email))
    return people
