"""The batched classify style (``batch`` > 1): one call per run of consecutive segments."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from assistant.domain import RedactedSegment
from assistant.drafting.chunking import balanced_runs
from assistant.drafting.styles.base import Progress, Sections, no_progress
from assistant.drafting.styles.classify import Classify
from assistant.drafting.templates import NONE_LABEL
from assistant.errors import DraftingFailed

log = logging.getLogger(__name__)

BATCH_TOKENS_PER_LABEL = 8
"""At most what one label of a batched classify answer costs (its key, quotes and comma; the
longest key is a few tokens)."""
BATCH_SLACK_TOKENS = 8
"""The brackets around a batched answer, and the end token."""


class Batched(Classify):
    """A classify template that asks about runs of segments by number
    (:attr:`NoteTemplate.batch <assistant.drafting.templates.NoteTemplate.batch>`)."""

    def answer_tokens(self) -> int:
        return self.drafter.template.batch * BATCH_TOKENS_PER_LABEL + BATCH_SLACK_TOKENS

    def query(self, shown: Sequence[RedactedSegment]) -> str:
        if shown:  # a run of consecutive segments, by number
            first, last = shown[0].id, shown[-1].id
            if len(shown) == 1:
                return f"[{first}]"
            return f"[{first}] and [{last}]" if len(shown) == 2 else f"[{first}] to [{last}]"
        return super().query(shown)

    def draft_chunk(
        self, segments: Sequence[RedactedSegment], *, label: str, progress: Progress = no_progress
    ) -> tuple[Sections, int]:
        """Each call asks about a run of consecutive segments by their numbers ("[12] to
        [19]") and is answered with a list of exactly that many labels, the grammar allowing
        only labels. A run whose answer fails every attempt is asked again one segment at a
        time (a list of one label), so one bad answer costs a run's calls, not the draft. The
        segments are numbered consecutively in ``draft``, so "to" names every segment
        between."""
        d = self.drafter
        chosen: dict[str, list[str]] = {key: [] for key in d.template.section_keys}
        most = 0
        calls = 0
        started = time.perf_counter()
        runs = balanced_runs(segments, d.template.batch)
        done = 0
        for run in runs:
            progress(done / len(segments))
            done += len(run)
            try:
                labels, attempt = self._ask_run(segments, run, label=label)
                calls += 1
            except DraftingFailed:
                log.warning("batched answer failed: asking one segment at a time")
                labels, attempt = [], d.max_attempts  # the run used them all
                for segment in run:
                    (one,), tries = self._ask_run(segments, (segment,), label=label)
                    labels.append(one)
                    attempt = max(attempt, tries)
                    calls += 1
            for segment, answer in zip(run, labels, strict=True):
                if answer != NONE_LABEL:
                    chosen[answer].append(segment.id)
            most = max(most, attempt)
        return self.classified(chosen, segments, started, calls=calls), most

    def _ask_run(
        self,
        segments: Sequence[RedactedSegment],
        run: Sequence[RedactedSegment],
        *,
        label: str,
    ) -> tuple[list[str], int]:
        """The labels of one run of segments and the attempt that gave them."""
        schema = self.drafter.template.batch_schema(len(run))
        where = f"{label}, segments {run[0].id} to {run[-1].id}"
        labels, attempt, _ = self.ask(
            self.drafter.messages(segments, asked=run),
            lambda settings: schema,
            lambda data: data,
            where=where,
        )
        return list(labels), attempt
