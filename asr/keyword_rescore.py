"""Second pass for key terms the first pass missed: the utterance re-decoded against variants.

The small Vosk model's language model often drops or replaces a short key word of synthetic or
telephone speech ("pay your damn bills" heard as "pay your bills"). When an utterance is final,
:class:`KeywordRescorer` decodes its audio again with a **grammar** made of the first-pass text
and every variant of it with one key term inserted before a word or put in place of one; the
acoustics then decide whether a key term was said. Only the key terms of the winning phrase that
the first pass lacked are returned (with their times), so the first-pass words are never changed.

When it runs (:class:`asr.recognizer.LegRecognizer`): at every VAD end of speech on the utterance
so far, against the words of Vosk's partial (so a key term is found when the speaker pauses, not
only once the utterance is settled ``asr.final_after_silence_s`` later); at the final only when
audio was added or the words changed since that pass, else its finding is reused.

Grammars need a model with the lookahead graph (``HCLr.fst`` + ``Gr.fst``): on a static ``HCLG.fst``
Vosk ignores them, so the pool hands this pass its lookahead model (:mod:`asr.model_loading`). The
key terms come from the caller (the pipeline takes them from the rule packs); this module knows
nothing about rules. Terms missing from the model's vocabulary are left out. Measured with the small
English model on the live evaluation's tuning half (agent turns of 3 calls, whole-turn decodes,
synthetic speech): the second pass costs about a tenth of the first pass's CPU.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from agent_monitor.errors import RecognizerError


def variants(words: Sequence[str], terms: Sequence[str]) -> list[str]:
    """The first-pass text and each variant with one term inserted or substituted."""
    out = {" ".join(words)}
    for i in range(len(words) + 1):
        head, tail = list(words[:i]), list(words[i:])
        for term in terms:
            out.add(" ".join([*head, term, *tail]))
            if tail:
                out.add(" ".join([*head, term, *tail[1:]]))
    return sorted(v for v in out if v)


@dataclass(frozen=True, slots=True)
class Rescored:
    """One second pass: the winning phrase's words and the key terms of it the first pass lacked,
    as Vosk word results (``word``, ``start``, ``end``, ``conf``; times from the audio's start)."""

    words: tuple[dict[str, Any], ...] = ()
    missed: tuple[dict[str, Any], ...] = ()


class KeywordRescorer:
    """Re-decodes utterances of one model with a grammar of key-term variants.

    ``below_conf``: a final is re-decoded only when one of its first-pass words has a confidence
    below this (:meth:`worth_it`; 1.0: every final). Counts its passes and their CPU time
    (``passes``, ``cpu_s``: the CPU of the thread that ran them, :func:`time.thread_time`), the
    finals that reused a pass made at a pause (``reused``) and those left alone as sure
    (``skipped``), for the CPU figures of the live evaluation."""

    def __init__(self, model: Any, sample_rate: int, terms: Sequence[str], below_conf: float = 1.0) -> None:
        self.model = model
        self.sample_rate = sample_rate
        self.below_conf = below_conf
        known = []
        for term in dict.fromkeys(t.strip().lower() for t in terms):
            if term and " " not in term and model.vosk_model_find_word(term) >= 0:
                known.append(term)
        self.terms = tuple(known)
        self.passes = 0
        self.reused = 0
        self.skipped = 0
        self.cpu_s = 0.0

    def __bool__(self) -> bool:
        return bool(self.terms)

    def worth_it(self, confs: Sequence[float]) -> bool:
        """Whether a final whose first-pass words have the confidences ``confs`` is re-decoded:
        a key term the first pass dropped or replaced leaves a word it is unsure of (the word put
        in its place, or a neighbour that took its sound), so a final it is sure of throughout is
        left alone (counted in ``skipped``)."""
        if self.below_conf >= 1.0 or any(c < self.below_conf for c in confs):
            return True
        self.skipped += 1
        return False

    def missed_terms(self, pcm: bytes, words: Sequence[str]) -> list[dict[str, Any]]:
        """Key terms of the best variant for ``pcm`` that ``words`` (the first pass) lacks, as
        Vosk word results (``word``, ``start``, ``end``, ``conf``; times from ``pcm``'s start)."""
        return list(self.rescore(pcm, words).missed)

    def rescore(self, pcm: bytes, words: Sequence[str]) -> Rescored:
        """Decode ``pcm`` against the variants of ``words``: the winner and its new key terms."""
        if not self.terms or not words or not pcm:
            return Rescored()
        from vosk import KaldiRecognizer

        grammar = json.dumps(variants(words, self.terms))
        began = time.thread_time()
        try:
            rec = KaldiRecognizer(self.model, self.sample_rate, grammar)
            rec.SetWords(True)
            rec.AcceptWaveform(pcm)
            result = json.loads(rec.FinalResult())
        except Exception as exc:  # vosk raises plain Exception on internal failure
            raise RecognizerError(f"keyword second pass failed: {exc}") from exc
        finally:
            self.passes += 1
            self.cpu_s += time.thread_time() - began
        won = tuple(w for w in result.get("result", []) if w.get("word"))
        had = set(words)
        return Rescored(won, tuple(w for w in won if w["word"] in self.terms and w["word"] not in had))
