"""Unit 09: text data for language models, generated here (nothing is downloaded).

Provided code (not graded): read it, use it, do not edit it.

``make_corpus`` writes a text in a small made-up language whose structure a character model can
learn, from the spelling of words up to rules that reach far back:

- sentences from a little grammar: ``an old owl sees a red fox (near the big tree).``, whose
  phrases in brackets nest, so that every ``(`` must be closed, possibly many characters later
  (and the article is "an" before a vowel);
- sums of small numbers: ``7+15=22.``, where the digits after ``=`` follow from those before it;
- lists in square brackets that repeat a word: ``[fox fox fox]``.

A ``Vocabulary`` maps the characters to ids (``encode``) and back (``decode``). For tasks that need
a long memory, ``make_copy_task`` builds sequences whose last symbols repeat their first ones.
"""

import numbers

import numpy as np

NOUNS = ["cat", "dog", "fox", "owl", "frog", "mouse", "bird", "tree", "river", "hill"]
ADJECTIVES = ["small", "big", "red", "old", "quick", "lazy", "green", "happy"]
VERBS = ["sees", "likes", "finds", "follows", "helps", "chases", "hears"]
PREPOSITIONS = ["near", "under", "behind", "with", "over"]
DETERMINERS = ["the", "a"]


def _noun_phrase(rng, depth):
    words = []
    if rng.random() < 0.5:
        words.append(ADJECTIVES[rng.integers(len(ADJECTIVES))])
    words.append(NOUNS[rng.integers(len(NOUNS))])
    determiner = DETERMINERS[rng.integers(2)]
    if determiner == "a" and words[0][0] in "aeiou":
        determiner = "an"  # "an old owl": the article depends on the next word
    phrase = " ".join([determiner, *words])
    if depth < 3 and rng.random() < 0.45 - 0.1 * depth:
        # a prepositional phrase in brackets, which may hold another one: nested brackets
        phrase += f" ({PREPOSITIONS[rng.integers(len(PREPOSITIONS))]} " \
                  f"{_noun_phrase(rng, depth + 1)})"
    return phrase


def _sentence(rng):
    subject = _noun_phrase(rng, 1)
    verb = VERBS[rng.integers(len(VERBS))]
    return f"{subject} {verb} {_noun_phrase(rng, 0)}."


def _sum(rng):
    a, b = (int(v) for v in rng.integers(0, 20, 2))
    return f"{a}+{b}={a + b}."


def _repetition(rng):
    word = NOUNS[rng.integers(len(NOUNS))]
    return "[" + " ".join([word] * int(rng.integers(2, 5))) + "]"


def make_corpus(num_chars=20_000, *, seed=0):
    """A text of at least ``num_chars`` characters in the made-up language, one line per item.

    About 70% of the lines are sentences, 15% sums and 15% repeated-word lists. The same seed
    gives the same text on every machine.

    Returns:
        text: str.
    """
    if isinstance(num_chars, bool) or not isinstance(num_chars, numbers.Integral) \
            or num_chars < 1:
        raise ValueError(f"make_corpus: num_chars must be a positive integer, got {num_chars!r}")
    rng = np.random.default_rng(seed)
    lines, size = [], 0
    while size < num_chars:
        r = rng.random()
        line = _sentence(rng) if r < 0.7 else _sum(rng) if r < 0.85 else _repetition(rng)
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines) + "\n"


class Vocabulary:
    """The characters of a text, each with an integer id (in sorted order).

    Attributes:
        chars: the list of characters; ``chars[i]`` has id i.
        size: V, the number of characters.
    """

    def __init__(self, text):
        if not isinstance(text, str) or not text:
            raise ValueError("Vocabulary: give a non-empty string")
        self.chars = sorted(set(text))
        self.size = len(self.chars)
        self._ids = {ch: i for i, ch in enumerate(self.chars)}

    def encode(self, text):
        """The ids of the characters of ``text``, an int64 array (len(text),)."""
        unknown = sorted(set(text) - set(self._ids))
        if unknown:
            raise ValueError(f"Vocabulary.encode: characters not in the vocabulary: {unknown}")
        return np.array([self._ids[ch] for ch in text], dtype=np.int64)

    def decode(self, ids):
        """The text of a sequence of ids."""
        ids = np.asarray(ids)
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise ValueError(f"Vocabulary.decode: ids must lie in [0, {self.size}), got values "
                             f"from {ids.min()} to {ids.max()}")
        return "".join(self.chars[int(i)] for i in ids.reshape(-1))

    def __repr__(self):
        return f"Vocabulary({self.size} characters: {''.join(self.chars)!r})"


def split_ids(ids, val_fraction=0.1):
    """(train_ids, val_ids): the last ``val_fraction`` of a sequence is kept for validation."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"split_ids: val_fraction must lie in (0, 1), got {val_fraction!r}")
    cut = int(round(len(ids) * (1 - val_fraction)))
    return ids[:cut], ids[cut:]


def make_copy_task(num, lag, *, num_symbols=4, seed=0):
    """Sequences that need a memory of ``lag`` steps: remember the first symbol, recall it at
    the end.

    Each sequence is ``s . . . . . ? s`` with ``s`` one of ``num_symbols`` symbols (ids 2 ..),
    ``lag`` filler symbols ``.`` (id 0) and the cue ``?`` (id 1). A model reading it one symbol at a
    time can predict every symbol except the first; the last one only if it remembered ``s`` for
    ``lag + 1`` steps.

    Returns:
        x: (num, lag + 2) input ids. y: (num, lag + 2) next-symbol targets (x shifted by one).
        symbols: the list of characters of the ids: ``".?abcd..."``.
    """
    for argname, value, low in (("num", num, 1), ("lag", lag, 0), ("num_symbols", num_symbols, 1)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"make_copy_task: {argname} must be an integer >= {low}, got "
                             f"{value!r}")
    if num_symbols > 26:
        raise ValueError(f"make_copy_task: num_symbols must be at most 26 (the letters a-z), "
                         f"got {num_symbols}")
    rng = np.random.default_rng(seed)
    first = rng.integers(0, num_symbols, num) + 2
    seq = np.zeros((num, lag + 3), dtype=np.int64)
    seq[:, 0] = first
    seq[:, lag + 1] = 1
    seq[:, lag + 2] = first
    symbols = ".?" + "abcdefghijklmnopqrstuvwxyz"[:num_symbols]
    return seq[:, :-1], seq[:, 1:], symbols
