"""Parameters the writer sends: JSON documents adapted as JSON, everything else untouched."""

from decimal import Decimal

from psycopg2.extras import Json

from producer.writer import jsonb_params


def test_documents_are_sent_as_json_and_scalars_as_they_are():
    params = jsonb_params({"profile": {"tier": "gold"}, "tags": ["a"], "credit_limit": Decimal("1.00"), "id": 3})
    assert isinstance(params["profile"], Json) and isinstance(params["tags"], Json)
    assert params["credit_limit"] == Decimal("1.00") and params["id"] == 3
