"""A short soak of the running chat app: every request of many users ends in an answer or
a clear message while Claude is slow and failing, and the app's memory stays put.

The full size (50 users x 10 questions) runs on demand: `python tests/soak.py`.
"""

from __future__ import annotations

import json

import pytest
from soak import soak

pytestmark = pytest.mark.filterwarnings(
    "ignore:.*(no_silent_downcasting|copy keyword).*"  # gradio's queue stats on pandas 3
)
RSS_GROWTH_MB = 150  # generous: what matters is that it doesn't grow with every request


@pytest.mark.slow
def test_many_users_through_a_flaky_upstream_all_get_an_answer_or_a_clear_message() -> None:
    report = soak(users=12, questions=5, fault_rate=0.2, budget_seconds=90)
    summary = report.summary()
    print("\nsoak:", json.dumps(summary))

    assert summary["failures"] == [] and report.ok, summary
    assert summary["outcomes"].get("answered", 0) + summary["outcomes"].get("message", 0) == 60
    assert summary["outcomes"].get("message", 0) > 0  # the injected faults did reach users
    assert report.upstream_requests > 60  # and the SDK retried some of them
    assert report.rss_after_mb - report.rss_before_mb < RSS_GROWTH_MB
