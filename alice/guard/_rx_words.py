"""Which words must a regex's match contain? Read off the regex source, for indexing.

Used by the injection patterns: an alternative like
`\\b(?:ignore|disregard)[\\W_]+(?:\\w+[\\W_]+){0,4}?(?:instructions?|prompts?)` can only match a
text containing one of "instruction…" or "prompt…", so it is skipped for texts without them.
Handles the subset of regex syntax the rule table uses (groups, alternation, classes, escapes,
quantifiers, lookarounds); anything it cannot read makes the alternative "always run", never
wrongly skipped.
"""

from __future__ import annotations

__all__ = ["leading_words", "trigger_words"]

def _group_end(rx: str, start: int) -> int:
    """Index just past the group that opens at rx[start] (escapes and character classes skipped)."""
    depth, i = 0, start
    while i < len(rx):
        c = rx[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = rx.index("]", i + 2 if rx[i + 1] == "^" else i + 1) + 1
            continue
        depth += c == "("
        depth -= c == ")"
        i += 1
        if depth == 0:
            return i
    raise ValueError(f"unbalanced group in {rx!r}")


def _split_top(body: str) -> list[str]:
    parts, depth, cur, i = [], 0, "", 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            cur += body[i:i + 2]
            i += 2
            continue
        if c == "[":
            j = body.index("]", i + 2 if body[i + 1] == "^" else i + 1) + 1
            cur += body[i:j]
            i = j
            continue
        depth += c == "("
        depth -= c == ")"
        if c == "|" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    return [*parts, cur]


# Words too common to be worth indexing an alternative by when it has a rarer required word.
_COMMON = frozenset(
    "a ab all alla alle an answer are att be can dear der das det die dig do don du en er es ett for from för give "
    "har här how i ich in inte is ist it jag just kan list me med message mig my new no not note now nu och of on only "
    "på reply respond return say set show simply som sie sind stop tell that the this to tu und var vad was what wie "
    "with write you your är".split())
_QUANT_START = ("?", "*", "+", "{")
# Tokens after which the next literal starts a new word.
_SEPARATORS = ("\\b", "\\s", "\\W", "[\\W_]", "\\n")


def _skip_quantifier(rx: str, i: int) -> tuple[int, bool]:
    """Index after a quantifier at rx[i] (if any), and whether it allows zero repetitions."""
    if i >= len(rx) or rx[i] not in _QUANT_START:
        return i, False
    optional = rx[i] in "?*" or rx[i:i + 3] == "{0,"
    i = rx.index("}", i) + 1 if rx[i] == "{" else i + 1
    if i < len(rx) and rx[i] == "?":  # lazy
        i += 1
    return i, optional


def _ends_in_gap(body: str) -> bool:
    return body.rstrip("+*?").endswith((" ", *_SEPARATORS, "]+"))


def _elements(rx: str, boundary: bool = True) -> list[tuple[set[str], set[str]] | None]:
    """The required words of a top-level sequence, element by element: (exact, prefixes), or
    None for a required element whose words cannot be read (e.g. a suffix glued to \\w+)."""
    out: list[tuple[set[str], set[str]] | None] = []
    i = 0
    while i < len(rx):
        c = rx[i]
        if c == "(":
            end = _group_end(rx, i)
            j, optional = _skip_quantifier(rx, end)
            lookaround = rx.startswith(("(?=", "(?!", "(?<"), i)
            body = rx[i + 3 if rx.startswith("(?:", i) else i + 1:end - 1]
            if not optional and not lookaround:
                words: tuple[set[str], set[str]] | None = (set(), set())
                for option in _split_top(body):
                    first = next(iter(_elements(option, boundary)), None)
                    if first is None or words is None:
                        words = None
                        break
                    words[0].update(first[0])
                    words[1].update(first[1])
                out.append(words)
            if not lookaround:
                gap = _ends_in_gap(body)
                boundary = (boundary and gap) if optional else gap
            i = j
        elif c == "[":
            k = rx.index("]", i + 2 if rx[i + 1] == "^" else i + 1) + 1
            boundary = rx[i:k] == "[\\W_]"
            i, _ = _skip_quantifier(rx, k)
        elif c == "\\":
            boundary = rx[i:i + 2] in _SEPARATORS or not rx[i + 1].isalnum()
            i, _ = _skip_quantifier(rx, i + 2)
        elif c.isalnum():
            j = i
            while j < len(rx) and rx[j].isalnum():
                j += 1
            k, optional = _skip_quantifier(rx, j)
            word = rx[i:j - 1] if optional else rx[i:j]  # "tokens?": the "s" may be absent
            # The word may run on: a quantified last letter, \\w* or a class right after it, or
            # an optional joiner ("pre-?prompt", "system ?prompt").
            open_end = optional or (k < len(rx) and (rx[k] in "\\[(" or rx[k].isalnum()
                                                     or rx[k + 1:k + 2] in ("?", "*")))
            if word and boundary:
                out.append(({word}, set()) if not open_end else (set(), {word}))
            elif word:
                out.append(None)  # a suffix of a longer word cannot be looked up
            boundary = False
            i = k
        else:
            boundary = not c.isalnum()
            i, _ = _skip_quantifier(rx, i + 1)
    return out


def trigger_words(rx: str) -> tuple[set[str], set[str]] | None:
    """Words one of which every match must contain, as (exact, prefixes); None if unknown.

    Per top-level alternative, the first required element free of common words is used (else
    the first one), so "\\bwhat (?:were|are) you (?:told|…)" is indexed by "told", not "what"."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for part in _split_top(rx):
        elements = _elements(part)
        usable = [e for e in elements if e is not None]
        if not usable:
            return None
        best = next((e for e in usable if not (e[0] | e[1]) & _COMMON), usable[0])
        exact |= best[0]
        prefixes |= best[1]
    return exact, prefixes


def leading_words(rx: str) -> tuple[set[str], set[str]] | None:
    """The words a match starts with, as (exact, prefixes); None if the regex does not start
    with a plain word or word group (then it must be searched for, not anchored at words)."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for part in _split_top(rx):
        if part.startswith("\\b"):
            part = part[2:]
        if part.startswith("(?:"):
            if _skip_quantifier(part, _group_end(part, 0))[1]:
                return None  # an optional first group: the match may start elsewhere
        elif not part[:1].isalnum():
            return None
        first = next(iter(_elements(part)), None)
        if first is None:
            return None
        exact |= first[0]
        prefixes |= first[1]
    return exact, prefixes
