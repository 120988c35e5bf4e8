"""The n-grams of every training row as one sparse matrix, cut per fit without re-reading the texts.

Training fits the same rows again and again (5 folds x 5 fold seeds x 2 views, each fit twice for
the vocabulary cut). ``TfidfVectorizer`` would run its Python analyser loop over every text for
each of them; :class:`GramMatrix` extracts each text's n-grams once (:func:`qa_rules.classifier.features`),
keeps them as a binary CSR matrix over the sorted vocabulary of all rows, and builds each fit's
count matrix from it with numpy: **the same arrays, entry for entry and in the same order**, as
``TfidfVectorizer(binary=True, min_df=...)`` (or with a fixed ``vocabulary=``) gives on those rows,
so the TF-IDF weighting, the regression and the model written stay byte-identical.

It also scores held-out rows with a fitted view (:func:`view_logits`), the arithmetic of
:meth:`qa_rules.classifier.View.logit` on whole matrices instead of one text at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.sparse import csr_matrix

from qa_rules.classifier import features

IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class GramMatrix:
    """Binary row x n-gram matrix of one n-gram spec; columns are the n-grams in sorted order."""

    spec: dict[str, list[int]]
    names: npt.NDArray[np.object_]
    #: CSR, float64 ones, int32 indices ascending within each row (the analyser's sorted order)
    x: csr_matrix

    @classmethod
    def build(
        cls, texts: Sequence[str], spec: dict[str, list[int]], grams: dict[str, list[str]] | None = None
    ) -> GramMatrix:
        """Each distinct text's n-grams extracted once; ``grams`` (text -> sorted n-grams) reused, filled."""
        grams = {} if grams is None else grams
        rows = []
        for text in texts:
            found = grams.get(text)
            if found is None:
                found = grams[text] = sorted(features(text, spec))
            rows.append(found)
        names = sorted({g for row in rows for g in row})
        column = {g: j for j, g in enumerate(names)}
        indices = np.fromiter((column[g] for row in rows for g in row), dtype=np.int32)
        indptr = np.zeros(len(rows) + 1, dtype=np.int32)
        np.cumsum([len(row) for row in rows], out=indptr[1:])
        x = csr_matrix(
            (np.ones(len(indices)), indices, indptr), shape=(len(rows), len(names)), dtype=np.float64
        )
        return cls(spec, np.array(names, dtype=object), x)

    def counts(self, rows: IntArray, min_df: int) -> tuple[csr_matrix, IntArray]:
        """``TfidfVectorizer(binary=True, min_df=min_df)``'s count matrix of ``rows`` and its columns here.

        Its vocabulary is the n-grams in at least ``min_df`` of the rows, in sorted order; within a
        row its entries come in the order the rows first met each n-gram (scikit-learn numbers
        n-grams as it meets them, sorts each row by that number, then renumbers the columns by
        name without re-sorting the rows), which the TF-IDF norm's float sum follows.
        """
        sub = self.x[rows]
        cols = sub.indices
        keep = np.bincount(cols, minlength=len(self.names)) >= min_df
        seen, first = np.unique(cols, return_index=True)
        met = np.empty(len(self.names), dtype=np.intp)
        met[seen] = first
        row_of = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        order = np.lexsort((met[cols], row_of))
        return _select(cols[order], row_of[order], len(rows), keep), np.flatnonzero(keep)

    def restricted(self, rows: IntArray, columns: IntArray) -> csr_matrix:
        """``TfidfVectorizer(binary=True, vocabulary=names[columns])``'s count matrix of ``rows``.

        ``columns`` ascending (a sorted vocabulary); the entries stay in ascending order.
        """
        sub = self.x[rows]
        keep = np.zeros(len(self.names), dtype=bool)
        keep[columns] = True
        row_of = np.repeat(np.arange(len(rows)), np.diff(sub.indptr))
        return _select(sub.indices, row_of, len(rows), keep)


def _select(cols: IntArray, row_of: IntArray, n_rows: int, keep: npt.NDArray[np.bool_]) -> csr_matrix:
    """CSR of the entries (in the order given) whose column is kept, columns renumbered among the kept."""
    mask = keep[cols]
    renumber = np.cumsum(keep) - 1
    indices = renumber[cols[mask]].astype(np.int32)
    indptr = np.zeros(n_rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(row_of[mask], minlength=n_rows), out=indptr[1:])
    shape = (n_rows, int(keep.sum()))
    return csr_matrix((np.ones(len(indices)), indices, indptr), shape=shape, dtype=np.float64)


def view_logits(
    grams: GramMatrix, rows: IntArray, columns: IntArray, table: dict[str, Any], intercept: float
) -> npt.NDArray[np.float64]:
    """:meth:`View.logit`'s log-odds of ``rows`` for a fitted view: ``table`` (n-gram -> rounded
    coefficient and idf, in the order of ``columns``), the float arithmetic of the one-text version.
    """
    entries = np.array(list(table.values()), dtype=np.float64).reshape(-1, 2)
    coef_idf = np.zeros(len(grams.names))
    idf_sq = np.zeros(len(grams.names))
    coef_idf[columns] = entries[:, 0] * entries[:, 1]
    idf_sq[columns] = entries[:, 1] * entries[:, 1]
    sub = grams.x[rows]
    total = sub @ coef_idf
    norm = sub @ idf_sq
    out = np.full(len(rows), intercept)
    some = norm > 0
    out[some] += total[some] * (1.0 / np.sqrt(norm[some]))
    return out


def probabilities(
    grams: Sequence[GramMatrix], rows: IntArray, part: dict[str, Any], columns: Sequence[IntArray]
) -> npt.NDArray[np.float64]:
    """:meth:`AbuseModel.score`'s probability of ``rows`` for a fitted part (:func:`fit_rows`):
    the mean of its views' log-odds through the logistic function."""
    views = part.get("views", [part])
    z = np.zeros(len(rows))
    for g, view, cols in zip(grams, views, columns, strict=True):
        z = z + view_logits(g, rows, cols, view["weights"], view["intercept"])
    z /= len(views)
    out = np.zeros(len(rows))
    some = z > -500
    out[some] = 1.0 / (1.0 + np.exp(-z[some]))
    return out
