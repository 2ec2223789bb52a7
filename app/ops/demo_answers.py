"""Made-up answers that follow each field's type and rules, for demo data and the benchmarks."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from datetime import timedelta
from typing import Any

from app.fields import FIELD_TYPES
from app.fields import FieldSpec
from app.models import Form


def _words(text: str) -> list[str]:
    return text.split()


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIRST_NAMES = _words(
    "Ann Bob Carla Dmitri Eve Farid Grace Hiro Ines Jamal Kofi Lena Mateo Nadia Omar Priya "
    "Quinn Rosa Sven Tomas Uma Vera Wen Ximena Yusuf Zoe"
)
LAST_NAMES = _words(
    "Smith Garcia Müller Rossi Dubois Silva Kowalski Novak Jensen Okafor Tanaka Chen Patel "
    "Ivanova Haddad Johansson Murphy Costa Nguyen Kim"
)
# A hundred cities: each long answer names one, so searching a city finds about 1% of rows.
CITIES = _words(
    "Aarhus Accra Adelaide Algiers Amman Amsterdam Ankara Antwerp Athens Atlanta Auckland "
    "Baku Baltimore Bangalore Bangkok Barcelona Beirut Belgrade Bergen Berlin Bern Bilbao "
    "Bogota Bologna Bordeaux Boston Bratislava Brisbane Brno Brussels Bucharest Budapest "
    "Cairo Calgary Canberra Cardiff Chennai Chicago Cologne Copenhagen Cork Dakar Dallas "
    "Delhi Denver Doha Dresden Dublin Dundee Durban Edinburgh Florence Frankfurt Galway "
    "Geneva Genoa Ghent Glasgow Granada Hamburg Hanoi Havana Helsinki Honolulu Houston "
    "Istanbul Jakarta Kampala Kathmandu Kigali Krakow Kyoto Lagos Leipzig Lille Lima Lisbon "
    "Ljubljana Lyon Madrid Malmo Manila Marseille Melbourne Milan Montreal Mumbai Munich "
    "Nairobi Nantes Naples Oslo Oporto Ottawa Palermo Porto Prague Quito Riga Rotterdam"
)[:100]
WORDS = _words(
    "the service was quick and friendly but the website could be easier to use I would like "
    "more options for delivery and a clearer price list overall a good experience thank you "
    "team support answered my question within a day checkout felt slow on my phone please add "
    "dark mode the new design looks great keep going love the product staff were helpful "
    "booking was simple waiting time was long parking is hard to find coffee was excellent "
    "room clean bright comfortable noisy street view"
)
DOMAINS = ("example.com", "example.org", "mail.example", "post.example", "inbox.example")
AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 Version/18.1 Safari/605",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
)
REFERRERS = ("https://www.example.org/contact", "https://news.example/", "", "")


@dataclass
class SeedResult:
    form: Form
    count: int
    seconds: float = 0.0


Answerer = Callable[[random.Random, int], Any]


def answerer_for(spec: FieldSpec) -> Answerer | None:
    """A function giving a plausible stored answer to ``spec`` (None: the field takes none)."""
    if not FIELD_TYPES[spec.type].takes_answer or spec.type == "file":
        return None
    make = _ANSWERERS.get(spec.type, _short_text)
    answer = make(spec)
    if spec.required:
        return answer
    return lambda rng, n: answer(rng, n) if rng.random() < 0.75 else None


def _short_text(spec: FieldSpec) -> Answerer:
    if "name" in spec.key or "name" in spec.label.lower():
        names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
        return lambda rng, n: names[int(rng.random() * len(names))]
    phrases = _phrases(500, 2, 5)
    return lambda rng, n: phrases[int(rng.random() * len(phrases))]


def _phrases(count: int, fewest: int, most: int) -> list[str]:
    rng = random.Random(count)  # noqa: S311 -- sample data, not secrets
    return [
        " ".join(rng.choices(WORDS, k=rng.randint(fewest, most))).capitalize() for _ in range(count)
    ]


def _long_text(spec: FieldSpec) -> Answerer:
    phrases = _phrases(5000, 8, 20)

    def answer(rng: random.Random, n: int) -> str:
        city = CITIES[int(rng.random() * len(CITIES))]
        return f"{phrases[int(rng.random() * len(phrases))]}, from {city}."

    return answer


def _email(spec: FieldSpec) -> Answerer:
    def answer(rng: random.Random, n: int) -> str:
        return f"{FIRST_NAMES[n % len(FIRST_NAMES)].lower()}.{n}@{DOMAINS[n % len(DOMAINS)]}"

    return answer


def _number(spec: FieldSpec) -> Answerer:
    low = spec.rules.get("min")
    high = spec.rules.get("max")
    low = 18 if low is None else low
    high = max(low, 90 if high is None else high)
    if spec.rules.get("kind") == "integer":
        low, size = int(low), int(high) - int(low) + 1
        return lambda rng, n: low + int(rng.random() * size)
    return lambda rng, n: round(rng.uniform(low, high), 2)


def _choice(spec: FieldSpec) -> Answerer:
    values = [choice["value"] for choice in spec.rules["choices"]]
    # Earlier options are picked more often: each is listed (options left + 1) times.
    pool = [value for index, value in enumerate(values) for _ in range(len(values) - index + 1)]
    return lambda rng, n: pool[int(rng.random() * len(pool))]


def _multiple(spec: FieldSpec) -> Answerer:
    values = [choice["value"] for choice in spec.rules["choices"]]
    fewest = spec.rules.get("min_picks") or 1
    most = spec.rules.get("max_picks") or min(3, len(values))

    rng = random.Random(len(values))  # noqa: S311 -- sample data, not secrets
    pool = []
    for _ in range(500):
        picked = set(rng.sample(values, rng.randint(fewest, max(fewest, most))))
        pool.append([value for value in values if value in picked])
    return lambda rng, n: pool[int(rng.random() * len(pool))]


def _rating(spec: FieldSpec) -> Answerer:
    if spec.rules.get("scale") == "nps":
        pool = _weighted(range(11), [1, 1, 1, 1, 2, 3, 4, 6, 9, 10, 9])
    else:
        pool = _weighted(range(1, 6), [1, 2, 4, 7, 6])
    return lambda rng, n: pool[int(rng.random() * len(pool))]


def _weighted(values: range, weights: list[int]) -> list[int]:
    return [value for value, weight in zip(values, weights, strict=True) for _ in range(weight)]


def _consent(spec: FieldSpec) -> Answerer:
    if spec.rules.get("style") == "yes_no":
        return lambda rng, n: rng.random() < 0.8
    return lambda rng, n: True


def _date(spec: FieldSpec) -> Answerer:
    start = date(2024, 1, 1)
    return lambda rng, n: (start + timedelta(days=rng.randrange(900))).isoformat()


_ANSWERERS: dict[str, Callable[[FieldSpec], Answerer]] = {
    "short_text": _short_text,
    "long_text": _long_text,
    "email": _email,
    "number": _number,
    "phone": lambda spec: lambda rng, n: f"+1 555 {rng.randrange(10000):04d}",
    "url": lambda spec: lambda rng, n: f"https://www.{rng.choice(DOMAINS)}/{n}",
    "date": _date,
    "time": lambda spec: lambda rng, n: f"{rng.randrange(8, 19):02d}:{rng.choice(('00', '30'))}",
    "single_choice": _choice,
    "dropdown": _choice,
    "multiple_choice": _multiple,
    "consent": _consent,
    "rating": _rating,
    "hidden": lambda spec: lambda rng, n: rng.choice(("newsletter", "ad", "search", "")),
}
ENDPOINT_FIELDS = [
    FieldSpec("name", "short_text", "name", required=True),
    FieldSpec("email", "email", "email", required=True),
    FieldSpec("message", "long_text", "message", required=True),
]
