"""Any table created in the captured schema is captured, whatever its key."""

import os

from cdc import match_journal


def test_new_table_with_composite_key_is_captured(app_conn, reader, unique_name, topic_for):
    table = f"{os.environ['PG_SCHEMA']}.{unique_name}"
    topic = topic_for(unique_name)
    with app_conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} (region text, id int, qty numeric(10,3), note text,"
                    f" PRIMARY KEY (region, id))")
        cur.execute(f"INSERT INTO {table} VALUES ('eu', 1, 1.500, 'a'), ('us', 1, 2.250, 'b') RETURNING txid_current()")
        tx_insert = cur.fetchone()[0]
        cur.execute(f"UPDATE {table} SET qty = 9.125 WHERE region = 'eu' AND id = 1 RETURNING txid_current()")
        tx_update = cur.fetchone()[0]
        cur.execute(f"DELETE FROM {table} WHERE region = 'us' RETURNING txid_current()")
        tx_delete = cur.fetchone()[0]
    try:
        journal = [
            {"seq": 1, "table": unique_name, "op": "c", "key": {"region": "eu", "id": 1}, "txid": tx_insert,
             "row": {"region": "eu", "id": 1, "qty": "1.500", "note": "a"}},
            {"seq": 2, "table": unique_name, "op": "c", "key": {"region": "us", "id": 1}, "txid": tx_insert,
             "row": {"region": "us", "id": 1, "qty": "2.250", "note": "b"}},
            {"seq": 3, "table": unique_name, "op": "u", "key": {"region": "eu", "id": 1}, "txid": tx_update,
             "row": {"region": "eu", "id": 1, "qty": "9.125", "note": "a"}},
            {"seq": 4, "table": unique_name, "op": "d", "key": {"region": "us", "id": 1}, "txid": tx_delete,
             "row": None},
        ]
        events = reader.read_until([topic], {}, lambda got: not match_journal(journal, got).missing, timeout=60)
        result = match_journal(journal, events)
        assert not result.missing and not result.mismatched, (result.missing, result.mismatched)
        assert {tuple(sorted(e.key)) for e in events} == {("id", "region")}
        assert any(e.tombstone and e.key == {"region": "us", "id": 1} for e in events)
    finally:
        with app_conn.cursor() as cur:
            cur.execute(f"DROP TABLE {table}")
