"""Tokenisation for topic keywords, beyond English.

Words are runs of Unicode letters and digits that start with a letter,
lower-cased; scripts written without spaces (CJK, Thai) become character
bigrams so they still yield terms. URLs, user mentions, numbers and stop words
of the languages seen most in social streams are dropped; hashtags keep their
word (``#flood`` -> ``flood``).

Tokenising is stateless per-document work, so the pipeline does it in the
scale-out ``embed`` stage and hands the terms to the single-writer ``track``
stage (see :meth:`workers.topic_engine.TopicTrackEngine.learn_many`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# URLs, @mentions and HTML entities carry no topical meaning.
_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+|&\w+;")
# Two or more word characters starting with a letter; inner ' and - kept.
_WORD = re.compile(r"\b[^\W\d_](?:\w|['’-](?=\w))+")
_NO_SPACE_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f"
_HAS_NO_SPACE = re.compile(f"[{_NO_SPACE_CHARS}]")
_NO_SPACE_RUN = re.compile(f"[{_NO_SPACE_CHARS}]+")

STOP_WORDS: frozenset[str] = frozenset(
    """
    about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could did didn't do does doesn't doing don't down
    during each few for from further had has have having he her here hers herself him himself his
    how if in into is isn't it it's its itself just let's me more most my myself no nor not now
    of off on once only or other our ours ourselves out over own same she should so some such than
    that that's the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you
    your yours yourself yourselves i'm you're we're they're i've you've we've they've i'd you'd
    he's she's what's there's here's can't won't wouldn't shouldn't couldn't wasn't weren't hasn't
    haven't hadn't get got going gonna one two us via rt amp lol im dont cant ur ya yes oh still
    new like know see said says say make made back many much even well way may might must shall
    de la el en los las del que un una por con para al lo se su sus es mas más pero como
    le les des du et au aux est une pour dans par sur pas qui ce il elle ne sont avec
    di che per non da della dei delle nel si gli alla sono
    os um uma do da dos das em na com não mais ao
    der die das und ist den dem ein eine zu mit von nicht auf für im sich auch es
    ang mga sa ng na ni ay kay
    """.split()  # noqa: SIM905 - a block of words reads better than a 300-item list
)


def tokenize(text: str) -> list[str]:
    """Return the keyword terms of ``text`` in order (duplicates kept)."""
    text = _NOISE.sub(" ", text.lower())
    words = [w for w in _WORD.findall(text) if w not in STOP_WORDS]
    if _HAS_NO_SPACE.search(text) is None:
        return words
    out: list[str] = []
    for word in words:
        runs = _NO_SPACE_RUN.findall(word)
        if not runs:
            out.append(word)
            continue
        for run in runs:
            out.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return out


def tokenize_many(texts: Iterable[str]) -> list[list[str]]:
    """Tokenise a batch (one list of terms per text)."""
    return [tokenize(t) for t in texts]
