"""A phase's figures (bench.measure) and visibility lookups (bench.lake.Visibility), from literal journals, events
and batch records."""

from bench.events import ChangeEvent, parse
from bench.lake import BatchRecord, Visibility, covered
from bench.measure import job_batches, latencies, match_journal, phase_figures

T = "shop.shop.orders"


def event(offset: int, key: int, txid: int, op: str = "c", commit: int = 10_000, kafka: int = 10_300,
          table: str = "orders") -> ChangeEvent:
    return ChangeEvent(T, 0, offset, table, op, f'{{"id":{key}}}', txid, commit, kafka, 1000 + offset)


def entry(key: int, txid: int, op: str = "c", table: str = "orders") -> dict:
    return {"table": table, "op": op, "key": {"id": key}, "row": None, "txid": txid, "seq": key}


def test_every_journaled_change_pairs_with_one_event_and_the_txid_is_compared_as_32_bits():
    journal = [entry(1, 2**32 + 7), entry(2, 2**32 + 7, "u")]
    matched = match_journal(journal, [event(0, 1, 7), event(1, 2, 7, "u")])
    assert (len(matched.events), matched.missing, matched.duplicates, matched.foreign) == (2, 0, 0, 0)


def test_an_event_delivered_twice_is_a_duplicate_and_the_first_delivery_counts():
    matched = match_journal([entry(1, 7)], [event(5, 1, 7), event(2, 1, 7)])
    assert ([e.offset for e in matched.events], matched.duplicates) == ([2], 1)


def test_a_change_without_event_is_missing_and_another_writers_event_is_foreign():
    matched = match_journal([entry(1, 7), entry(2, 8)], [event(0, 1, 7), event(1, 9, 99)])
    assert (matched.missing, matched.foreign, len(matched.events)) == (1, 1, 1)


def test_a_key_changed_twice_in_one_transaction_pairs_both_events():
    matched = match_journal([entry(1, 7, "u"), entry(1, 7, "u")], [event(0, 1, 7, "u"), event(1, 1, 7, "u")])
    assert (len(matched.events), matched.duplicates) == (2, 0)


def test_a_tombstone_is_no_change_event():
    assert parse(T, 0, 3, b'{"payload": {"id": 1}, "schema": {}}', None, 5) is None


def test_a_debezium_record_gives_its_position_commit_time_and_key():
    value = b'{"schema": {}, "payload": {"op": "u", "source": {"table": "orders", "txId": 42, "ts_ms": 1000}}}'
    e = parse(T, 0, 3, b'{"schema": {}, "payload": {"id": 1}}', value, 1250)
    assert (e.offset, e.table, e.op, e.key, e.txid, e.commit_ms, e.kafka_ms, e.size) == (
        3, "orders", "u", '{"id":1}', 42, 1000, 1250, len(value))


def batch(batch_id: int, first: int, last: int, visible: int, started: int | None = None) -> BatchRecord:
    return BatchRecord(batch_id, started if started is not None else visible - 4000, visible, last - first + 1,
                       {"merge": 3.0, "changelog": 1.0}, ((T, 0, first, last),))


def test_an_offset_is_visible_when_the_batch_holding_it_committed():
    v = Visibility.of_batches([batch(1, 0, 9, 20_000), batch(2, 10, 19, 25_000)])
    assert [v.visible_at(T, 0, o) for o in (0, 9, 10, 19, 20)] == [20_000, 20_000, 25_000, 25_000, None]
    assert v.visible_at("other", 0, 0) is None


def test_a_replayed_batch_does_not_make_an_offset_visible_later():
    v = Visibility.of_batches([batch(1, 0, 9, 20_000), batch(7, 0, 9, 90_000)])
    assert v.visible_at(T, 0, 5) == 20_000


def test_the_job_has_applied_what_its_checkpoint_or_a_later_batch_record_covers():
    # batch 3's changes are visible, its checkpoint commit waits for the quiet pace: the record says how far it got
    committed = {(T, 0): 10, ("shop.shop.customers", 0): 4}
    assert covered(committed, [batch(2, 0, 9, 20_000), batch(3, 10, 19, 25_000)]) == {
        (T, 0): 20, ("shop.shop.customers", 0): 4}
    assert covered(committed, [batch(1, 0, 5, 15_000)]) == committed  # an older record does not take it back


def test_phase_figures_from_commit_kafka_and_lake_times():
    events = [event(0, 1, 7, commit=10_000, kafka=10_500), event(1, 2, 7, commit=10_000, kafka=10_500),
              event(2, 3, 8, commit=11_000, kafka=11_200), event(3, 4, 9, commit=12_000, kafka=12_400)]
    matched = match_journal([entry(1, 7), entry(2, 7), entry(3, 8), entry(4, 9)], events)
    v = Visibility.of_batches([batch(1, 0, 1, 15_000), batch(2, 2, 3, 20_000)])
    visible, invisible = latencies(matched.events, lambda e: v.visible_at(e.topic, e.partition, e.offset))
    f = phase_figures(9_000, 12_100, 1000.0, matched, visible, len(invisible))
    assert f["counts"]["visible"] == 4 and f["counts"]["not_visible"] == 0
    assert f["throughput"]["debezium"] == 4 / 2.4          # last into Kafka 12.4 s, first commit 10 s
    assert f["throughput"]["lake"] == 4 / 10.0             # last visible 20 s
    assert f["throughput"]["debezium_peak_1s"] == 1        # whole seconds only: 11..12 s held one
    assert f["latency"]["commit_to_lake"]["max"] == 9.0    # committed at 11 s, visible at 20 s
    assert f["latency"]["commit_to_lake"]["p50"] == 6.5    # latencies 5, 5, 9, 8 s
    assert f["latency"]["commit_to_kafka"]["max"] == 0.5
    assert f["catch_up"] == {"producer_seconds": 3.1, "kafka": 0.3, "lake": 7.9}
    assert f["event_bytes"]["median"] == 1001.5


def test_a_change_never_visible_leaves_the_lake_rate_unmeasured():
    matched = match_journal([entry(1, 7), entry(2, 8)], [event(0, 1, 7), event(1, 2, 8)])
    v = Visibility.of_batches([batch(1, 0, 0, 15_000)])
    visible, invisible = latencies(matched.events, lambda e: v.visible_at(e.topic, e.partition, e.offset))
    f = phase_figures(9_000, 10_100, 1000.0, matched, visible, len(invisible))
    assert (f["counts"]["not_visible"], f["throughput"]["lake"], f["catch_up"]["lake"]) == (1, None, None)


def test_job_batches_say_where_the_jobs_time_went():
    batches = [batch(1, 0, 9, 20_000, started=16_000), batch(2, 10, 19, 26_000, started=20_000),
               batch(3, 20, 29, 99_000)]
    j = job_batches(batches, since_ms=15_000, until_ms=30_000)
    assert (j["batches"], j["messages_per_batch"], j["duration_s"]["max"]) == (2, 10, 6.0)
    assert j["step_share"] == {"changelog": 0.25, "merge": 0.75}
