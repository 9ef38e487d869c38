"""The progress and summary line."""

from collections import Counter

from producer.progress import progress_line


def test_line_shows_total_rate_and_each_operation():
    line = progress_line(Counter(c=6, u=3, d=1), transactions=4, elapsed=2.0)
    assert line == "producer: 10 changes in 4 transactions, 5.0 changes/s (insert 6 update 3 delete 1)"


def test_line_mentions_retried_transactions_only_when_there_were_some():
    assert progress_line(Counter(), 0, 0.0, retries=2).endswith(", 2 retried")
    assert "retried" not in progress_line(Counter(), 0, 0.0)


def test_summary_counts_reconnects_only_when_there_were_some():
    assert progress_line(Counter(), 0, 0.0, reconnects=2).endswith(", 2 reconnects")
    assert "reconnect" not in progress_line(Counter(), 0, 0.0)
