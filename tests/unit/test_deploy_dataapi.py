"""deploy.dataapi: a statement is retried while Aurora resumes, and any other error is raised at once."""

import pytest
from botocore.exceptions import ClientError

from deploy.dataapi import DataApi


class Client:
    """Answers execute_statement with the given errors first, then with one row."""

    def __init__(self, *codes: str):
        self.codes, self.calls = list(codes), 0

    def execute_statement(self, **request):
        self.calls += 1
        if self.codes:
            raise ClientError({"Error": {"Code": self.codes.pop(0), "Message": "m"}}, "ExecuteStatement")
        return {"formattedRecords": '[{"active": true}]'}


def test_a_resuming_database_is_retried_until_it_answers():
    client = Client("DatabaseResumingException")
    assert DataApi("arn:c", "arn:s", "shop", client=client).execute("SELECT 1") == [{"active": True}]
    assert client.calls == 2


def test_another_error_is_raised_at_once():
    client = Client("BadRequestException")
    with pytest.raises(ClientError, match="BadRequestException"):
        DataApi("arn:c", "arn:s", "shop", client=client).execute("SELECT 1")
    assert client.calls == 1


def test_a_database_that_stays_unavailable_raises_its_error_after_the_timeout():
    client = Client(*["DatabaseUnavailableException"] * 10)
    with pytest.raises(ClientError, match="DatabaseUnavailableException"):
        DataApi("arn:c", "arn:s", "shop", client=client, timeout=0).execute("SELECT 1")
    assert client.calls == 1
