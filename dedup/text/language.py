"""The language a document is written in, and its function words.

The language is detected by py3langid (langid.py's model, shipped inside its wheel: nothing
is fetched at run time; 97 languages, ISO 639-1 codes) on ``SAMPLE_CHARS`` characters of the
text's longest line (a paragraph of the article, not the page's menu), or of its middle
when its lines are shorter (hard-wrapped copy, whose first line may be a French company's
name in an English story): 0.14 ms a text, against 0.9 ms for 2,000 characters. Its
function words (stop words) come from the stopwords-iso lists (package ``stopwordsiso``),
scikit-learn's English list for English: the cleaning's function-word signal reads them, so
that prose in French or German is not taken for a menu, and TF-IDF leaves them out of its
terms. Its Snowball stemmer (PyStemmer, 30 languages) gives the keys under which rewritten
sentences match their words.
"""

from __future__ import annotations

import functools

import regex

SAMPLE_CHARS = 300  # characters of a text its language is read from
HEAD_CHARS = 2000  # the first characters, whose longest line is the sample
# The probability the model must give its language (text it cannot place, a list of names or
# made-up words, has no language: documents in different languages are never compared, and a
# wrong language would cost a pair).
MIN_CONFIDENCE = 0.95
# ASCII text (its first HEAD_CHARS characters) of which this share of words are English
# function words is English, without asking the model (English prose has 40-50 %; a quarter
# of a scan's time in cleaning went to the model, on Reuters-21578).
ENGLISH_SHARE = 0.3
# A text with fewer letters than this has no language to tell (a table, a headline).
MIN_LETTERS = 20


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` is written in, or None when it has too few
    letters to tell."""
    head = text[:HEAD_CHARS]
    longest = max(head.splitlines() or [""], key=len)
    if len(longest) >= SAMPLE_CHARS:
        sample = longest[:SAMPLE_CHARS]
    else:  # short or hard-wrapped lines: the middle of the text, the article's body
        middle = max(0, len(text) // 2 - SAMPLE_CHARS // 2)
        sample = text[middle : middle + SAMPLE_CHARS]
    if sum(map(str.isalpha, sample)) < MIN_LETTERS:
        return None
    if head.isascii():
        # English by its function words over the first HEAD_CHARS characters, not only the
        # sample (which may be a run of French company names in an English story).
        words = head.lower().split()
        english = function_words("en") or frozenset()
        if words and sum(map(english.__contains__, words)) >= ENGLISH_SHARE * len(words):
            return "en"
    language, confidence = _identifier().classify(sample)
    if confidence >= MIN_CONFIDENCE:
        return str(language)
    return _by_script(sample)


# Scripts that name their language: kana is Japanese's, Hangul Korean's, Thai Thai's; Han
# without kana is Chinese (langid.py's probabilities split Han text between Chinese and
# Japanese, seldom reaching MIN_CONFIDENCE).
_SCRIPT_LANGUAGES = [
    ("ja", regex.compile(r"[\p{Hiragana}\p{Katakana}]")),
    ("ko", regex.compile(r"\p{Hangul}")),
    ("th", regex.compile(r"\p{Thai}")),
    ("zh", regex.compile(r"\p{Han}")),
]


def _by_script(sample: str) -> str | None:
    """The language whose script holds at least a fifth of the sample's letters (kana
    before Han: Japanese writes both), or None."""
    letters = sum(map(str.isalpha, sample))
    for language, pattern in _SCRIPT_LANGUAGES:
        if len(pattern.findall(sample)) * 5 >= letters:
            return language
    return None


def comparable_languages(a: str | None, b: str | None) -> bool:
    """Whether texts in languages ``a`` and ``b`` are compared: the same language, or either
    unknown (translation is not reuse dedup can see). The scan applies the rule to its
    candidate pairs in bulk (:func:`~dedup.match.candidates.candidate_pairs`)."""
    return a is None or b is None or a == b


def load_model() -> None:
    """Load the language model now (0.6 s): before worker processes are forked, so that they
    share it instead of each loading its own."""
    _identifier()


@functools.cache
def _identifier():  # type: ignore[no-untyped-def]
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.cache
def function_words(language: str | None) -> frozenset[str] | None:
    """The function words of ``language`` (lower-case), or None when there is no list for it
    or its words do not stand alone (Chinese and Japanese are tokenised into pairs of
    characters; Korean writes its particles onto the words they follow)."""
    if language is None or language in ("zh", "ja", "ko", "th", "lo", "km", "my"):
        return None
    if language == "en":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return frozenset(ENGLISH_STOP_WORDS)
    import stopwordsiso

    if not stopwordsiso.has_lang(language):
        return None
    return frozenset(word.lower() for word in stopwordsiso.stopwords(language))


@functools.cache
def stop_words(language: str | None) -> frozenset[str]:
    """The words TF-IDF leaves out of a text in ``language``: English's (scikit-learn's list)
    and the language's own function words, when it has a list (a misread language then still
    drops English's; a text of unknown language has English's)."""
    english = function_words("en") or frozenset()
    return english | (function_words(language) or frozenset())


# Snowball's stemmers (PyStemmer) by the ISO 639-1 codes py3langid gives.
_SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german",
    "el": "greek", "en": "english", "eo": "esperanto", "es": "spanish", "et": "estonian",
    "eu": "basque", "fa": "persian", "fi": "finnish", "fr": "french", "ga": "irish",
    "hi": "hindi", "hu": "hungarian", "hy": "armenian", "id": "indonesian", "it": "italian",
    "lt": "lithuanian", "nb": "norwegian", "ne": "nepali", "nl": "dutch", "nn": "norwegian",
    "no": "norwegian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sr": "serbian", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}  # fmt: skip


def stemmer_name(language: str | None) -> str | None:
    """The Snowball stemmer of ``language`` (English's for an unknown language), or None
    when Snowball has none (Chinese, Japanese, Korean, Thai: their tokens are matched as
    they are)."""
    import Stemmer

    name = _SNOWBALL.get(language or "en")
    return name if name in Stemmer.algorithms() else None
