"""A built-in, synthetic event stream for ``topictrack demo`` (no third-party data).

Eight stories, each with its own vocabulary and phrasing templates, start at
different event times over six hours; one of them bursts (a product launch
leak goes viral). A little unrelated chatter is mixed in. Everything is drawn
from ``random.Random(seed)``, so a seed always gives the same stream.

Each event carries its story as ``label`` (an extra property the schema
allows), so the demo stream can also be scored like the labeled data sets.
Each of the 500 users follows two stories and writes mostly about them, so
the demo's user profiles (docs/interests.md) have something to show.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

#: Event time of the first event: 2025-03-14 06:00:00 UTC.
START_TS = 1_741_932_000
#: Length of the generated stream in event time (seconds).
DURATION = 6 * 3600


@dataclass(frozen=True)
class Story:
    """One topic of the sample stream: when it runs, how loud, and how it is phrased."""

    name: str
    start_h: float
    count: int
    templates: tuple[str, ...]
    slots: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: (start hour, minutes, extra events): a burst on top of the base rate.
    burst: tuple[float, float, int] | None = None


STORIES: tuple[Story, ...] = (
    Story(
        name="wildfire",
        start_h=0.0,
        count=380,
        templates=(
            "{place} residents ordered to evacuate as the wildfire jumps {road}",
            "Firefighters battle {size} acre blaze near {place}, containment at {pct} percent",
            "Smoke from the {place} wildfire closes {road}; air quality alert issued",
            "Evacuation shelters open at {shelter} as the fire spreads toward {place}",
            "Water bombers and fire crews hold the line north of {place} overnight",
            "Wildfire update: {size} acres burned, {pct} percent contained, evacuations remain",
            "Ash falling in {place}. The fire crews say wind will push the flames east",
        ),
        slots={
            "place": ("Pine Ridge", "Cedar Falls", "Oak Valley", "Redwood Hills", "Silver Creek"),
            "road": ("Highway 9", "Route 40", "the county road", "Interstate 5"),
            "size": ("2,000", "5,500", "12,000", "18,300", "25,000"),
            "pct": ("5", "10", "20", "35", "50"),
            "shelter": ("the high school gym", "the fairgrounds", "the community center"),
        },
    ),
    Story(
        name="central-bank",
        start_h=0.2,
        count=340,
        templates=(
            "Central bank {verb} interest rates by {bp} basis points to fight inflation",
            "Markets react as the central bank {verb} rates; bond yields {move}",
            "Governor says inflation is {infl} and further rate moves depend on the data",
            "Mortgage rates expected to {move2} after the central bank decision",
            "Economists split on whether the bank will {verb2} rates again next quarter",
            "Bond traders price in another rate {noun} as core inflation stays {infl}",
        ),
        slots={
            "verb": ("raises", "hikes", "holds", "cuts"),
            "verb2": ("raise", "cut", "hold"),
            "bp": ("25", "50", "75"),
            "move": ("jump", "slide", "climb", "fall"),
            "move2": ("rise", "ease", "climb"),
            "infl": ("sticky", "stubborn", "cooling", "elevated"),
            "noun": ("hike", "cut", "pause"),
        },
    ),
    Story(
        name="football-transfer",
        start_h=0.5,
        count=360,
        templates=(
            "{club} agree {fee} million fee for striker {player}, medical on {day}",
            "Transfer news: {player} set to sign a {years}-year contract with {club}",
            "{club} manager confirms talks for {player} before the transfer window closes",
            "Fans react as {player} says goodbye after {years} seasons; {club} deal done",
            "Deadline day: {club} submit a late bid for {player}",
            "{player} spotted at the {club} training ground ahead of the transfer",
        ),
        slots={
            "club": ("United", "Rovers", "Athletic", "City", "Wanderers"),
            "player": ("Marco Silva", "Jonas Berg", "Luca Moretti", "Kwame Mensah"),
            "fee": ("40", "55", "70", "85"),
            "years": ("three", "four", "five"),
            "day": ("Monday", "Tuesday", "Friday"),
        },
    ),
    Story(
        name="phone-launch",
        start_h=1.0,
        count=260,
        templates=(
            "Leaked photos show the new {brand} phone with a {feature} and {storage} storage",
            "{brand} launch event confirmed: new phone, {feature}, price starts at {price}",
            "Hands on with the {brand} phone: the {feature} impresses, battery lasts {hours} hours",
            "Preorders for the {brand} phone sold out in {mins} minutes",
            "Is the new {brand} phone worth {price}? Camera, battery and {feature} reviewed",
            "Unboxing the {brand} phone: {storage} model, charger not included",
        ),
        slots={
            "brand": ("Nova", "Pixelon", "Orbit"),
            "feature": ("periscope camera", "foldable screen", "titanium frame", "120Hz display"),
            "storage": ("256GB", "512GB", "1TB"),
            "price": ("$899", "$999", "$1,199"),
            "hours": ("30", "36", "40"),
            "mins": ("3", "7", "12"),
        },
        burst=(3.0, 20.0, 420),
    ),
    Story(
        name="city-marathon",
        start_h=2.0,
        count=300,
        templates=(
            "{runner} wins the city marathon in {time}, a new course record",
            "Road closures on {street} for Sunday's marathon; runners start at {hour} am",
            "Over {n} runners cross the marathon finish line despite the {weather}",
            "Marathon volunteers hand out water at mile {mile} on {street}",
            "Wheelchair race at the city marathon won by {runner}",
            "Cheering crowds line {street} as marathon runners pass mile {mile}",
        ),
        slots={
            "runner": ("Amina Yusuf", "Daniel Okoro", "Sofia Lind", "Kenji Watanabe"),
            "time": ("2:05:41", "2:07:12", "2:21:08", "2:24:55"),
            "street": ("Main Street", "Harbor Avenue", "Park Road", "the river path"),
            "hour": ("7", "8"),
            "n": ("20,000", "30,000", "35,000"),
            "weather": ("heat", "rain", "headwind"),
            "mile": ("10", "13", "20", "26"),
        },
    ),
    Story(
        name="flu-outbreak",
        start_h=2.5,
        count=320,
        templates=(
            "Hospitals in {region} report a surge in flu cases; emergency rooms at capacity",
            "Health officials urge flu vaccination as {n} new cases confirmed in {region}",
            "Schools in {region} close after flu outbreak sickens students and teachers",
            "Flu season update: {region} clinics extend hours, antiviral supplies {supply}",
            "Doctors warn of a severe flu strain; masks recommended in {region} hospitals",
            "Pharmacies in {region} run low on flu medicine as infections climb",
        ),
        slots={
            "region": ("the north county", "Lakeside", "the metro area", "River District"),
            "n": ("300", "1,200", "2,500", "4,000"),
            "supply": ("running low", "restocked", "rationed"),
        },
    ),
    Story(
        name="train-strike",
        start_h=3.5,
        count=280,
        templates=(
            "Rail workers announce a {days}-day strike over pay; {line} trains cancelled",
            "Commuters stranded as train strike halts {line} services",
            "Union and rail operator resume talks to end the train strike",
            "Strike update: limited {line} service, replacement buses from {station}",
            "Train drivers walk out at {hour}; {station} platforms empty",
            "Rail strike enters day {day}: union says the pay offer is not enough",
        ),
        slots={
            "days": ("two", "three", "five"),
            "line": ("the northern line", "the coastal line", "all commuter", "intercity"),
            "station": ("Central Station", "Union Square", "the airport"),
            "hour": ("midnight", "6 am", "noon"),
            "day": ("two", "three", "four"),
        },
    ),
    Story(
        name="music-festival",
        start_h=4.0,
        count=280,
        templates=(
            "{band} headline the festival main stage tonight; gates open at {hour}",
            "Festival lineup announced: {band}, {band2} and more on the {stage}",
            "Muddy fields but great vibes: {band} close the festival with a three hour set",
            "Festival tickets resale opens {day}; {band} fans queue for wristbands",
            "Set times released: {band2} plays the {stage} before {band}",
            "Crowd sings along as {band} play their hit song at the festival",
        ),
        slots={
            "band": ("The Midnight Owls", "Neon Harbor", "Velvet Static", "Paper Lanterns"),
            "band2": ("Glass Rivers", "Solar Kite", "The Low Tides"),
            "hour": ("noon", "2 pm", "4 pm"),
            "stage": ("main stage", "forest stage", "tent stage"),
            "day": ("Friday", "Saturday", "tomorrow"),
        },
    ),
)

#: Unrelated one-off messages mixed in (they should not form topics).
#: Everyday chatter is built from independent halves, so no two messages need
#: agree: real chatter is varied, and ten sentences repeated a dozen times each
#: would (rightly) be found as ten small topics and alerted.
CHATTER_OPENERS = (
    "good morning everyone",
    "ugh, mondays",
    "can't believe it's already {m}",
    "note to self",
    "random thought",
    "so tired today",
    "well that was unexpected",
    "honestly",
    "quick question",
    "small win today",
    "not gonna lie",
    "weekend plans",
)
CHATTER_TAILS = (
    "coffee first",
    "anyone know a good pizza place downtown?",
    "my cat knocked the plant over again",
    "finally finished that book",
    "traffic is terrible",
    "who else is watching the new series tonight",
    "lost my keys again",
    "happy birthday to my little brother",
    "trying a new recipe for dinner",
    "the gym was packed",
    "need new running shoes",
    "the neighbours are painting their fence purple",
    "my plants are thriving for once",
    "forgot my umbrella, of course it rains",
    "learning to knit, send help",
    "the dog ate my sandwich",
)
CHATTER_MONTHS = ("march", "friday", "noon", "the weekend")


def _chatter(rng: random.Random) -> str:
    opener = rng.choice(CHATTER_OPENERS).format(m=rng.choice(CHATTER_MONTHS))
    return f"{opener}, {rng.choice(CHATTER_TAILS)}"


#: Malformed inputs the demo sends past the producer's validation, to show the
#: worker dead-lettering them (reason and raw bytes in ClickHouse).
MALFORMED = (
    b'{"id": "bad-1", "ts": 1741940000, "text": ',
    b'{"id": "bad-2", "ts": 1741940000}',
    b'{"id": "bad-3", "ts": "yesterday-ish", "text": "when was this?"}',
    b'{"id": 4, "ts": 1741940000, "text": "numeric id"}',
    b'{"id": "bad-5", "ts": 1741940000, "text": "   "}',
    b"\xff\xfe not utf-8 at all",
    b'["an", "array", "not", "an", "object"]',
    b'{"id": "bad-8", "ts": -5, "text": "before 1970"}',
)


def _fill(rng: random.Random, story: Story) -> str:
    template = rng.choice(story.templates)
    values = {k: rng.choice(v) for k, v in story.slots.items()}
    text = template.format(**values)
    r = rng.random()
    if r < 0.12:
        text = rng.choice(("BREAKING: ", "Update: ", "Just in: ", "wow. ")) + text
    elif r < 0.2:
        text = text + rng.choice((" #news", " (developing)", " - more soon", "!!"))
    return text


#: Users of the demo stream, and the stories each one follows.
N_USERS = 500
FAVOURITES = 2
#: Share of a story's posts written by its followers (the rest: anyone), so
#: each user's posts are mostly about their own stories: profiles worth showing.
LOYALTY = 0.85


def _users(seed: int, labels: list[str]) -> list[str]:
    """A user per event: mostly a follower of its story (deterministic in ``seed``).

    Drawn from a generator of its own, so the texts and times of a seed's
    stream are the same as before users had interests.
    """
    rng = random.Random(f"users-{seed}")
    names = [s.name for s in STORIES]
    fans: dict[str, list[str]] = {n: [] for n in names}
    for u in range(N_USERS):
        for story in rng.sample(names, FAVOURITES):
            fans[story].append(f"user{u:03d}")
    out = []
    for label in labels:
        if fans.get(label) and rng.random() < LOYALTY:
            out.append(rng.choice(fans[label]))
        else:
            out.append(f"user{rng.randrange(N_USERS):03d}")
    return out


def generate(seed: int = 7, scale: float = 1.0, chatter: float = 0.04) -> list[dict]:
    """The sample stream: event dicts sorted by ``ts`` (ties broken by id).

    ``scale`` multiplies every story's size (the default is ~3,100 events);
    ``chatter`` is the share of unrelated messages added on top.
    """
    rng = random.Random(seed)
    drafts: list[tuple[float, str, str]] = []
    end = START_TS + DURATION
    for story in STORIES:
        begin = START_TS + story.start_h * 3600
        for _ in range(max(1, round(story.count * scale))):
            drafts.append((rng.uniform(begin, end), story.name, _fill(rng, story)))
        if story.burst:
            at_h, minutes, extra = story.burst
            b0 = START_TS + at_h * 3600
            for _ in range(max(1, round(extra * scale))):
                drafts.append((rng.uniform(b0, b0 + minutes * 60), story.name, _fill(rng, story)))
    n_chatter = round(len(drafts) * chatter)
    for _ in range(n_chatter):
        drafts.append((rng.uniform(START_TS, end), "chatter", _chatter(rng)))
    drafts.sort(key=lambda d: d[0])
    users = _users(seed, [label for _, label, _ in drafts])
    out = []
    for i, (ts, label, text) in enumerate(drafts):
        out.append(
            {
                "id": f"demo-{seed}-{i:06d}",
                "ts": round(ts, 3),
                "text": text,
                "stream": "default",
                "user_id": users[i],
                "lang": "en",
                "source": "demo",
                "label": label,
            }
        )
    return out


def lines(seed: int = 7, scale: float = 1.0) -> Iterator[bytes]:
    """The sample stream as JSON lines (bytes), one per event."""
    for ev in generate(seed, scale):
        yield json.dumps(ev, separators=(",", ":")).encode("utf-8")
