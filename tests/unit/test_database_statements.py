"""The pipeline's database statements (stack.database): one set for the local cluster and for Aurora's Data API."""

import re

import pytest

from stack import database

NAMES = database.Names(database="shop", schema="shop", schema_owner="app", cdc_user='odd "user', publication="pub")


def test_a_script_splits_at_semicolons_ending_lines_outside_quotes_and_bodies():
    sql = """-- a comment
CREATE TABLE t (a text DEFAULT 'x;
y');
CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$
    SELECT 1;
$$;
DO $body$ BEGIN PERFORM 1; END $body$;  -- trailing comment
SELECT ';' AS semicolon;
"""
    assert database.split(sql) == [
        "CREATE TABLE t (a text DEFAULT 'x;\ny');",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$\n    SELECT 1;\n$$;",
        "DO $body$ BEGIN PERFORM 1; END $body$;  -- trailing comment",
        "SELECT ';' AS semicolon;",
    ]


def test_a_script_that_ends_inside_a_statement_is_an_error():
    with pytest.raises(ValueError, match="ends inside a statement"):
        database.split("CREATE FUNCTION f() AS $$ SELECT 1;\n")


def test_names_are_filled_in_as_literals_and_identifiers_even_in_bodies():
    filled = database.fill("DO $$ BEGIN CREATE ROLE :\"cdc_user\"; PERFORM :'cdc_user'; END $$; SELECT x::text",
                           {"cdc_user": 'odd "user'})
    assert filled == "DO $$ BEGIN CREATE ROLE \"odd \"\"user\"; PERFORM 'odd \"user'; END $$; SELECT x::text"
    with pytest.raises(KeyError, match="schema"):
        database.fill(":'schema'", {})


def test_the_pipeline_statements_name_nothing_unfilled_and_grant_replication_the_aurora_way_too():
    statements = database.pipeline_statements(NAMES)
    assert not [s for s in statements if re.search(r":['\"]\w+['\"]", s)]
    roles = next(s for s in statements if "CREATE ROLE" in s)
    assert 'GRANT rds_replication TO "odd ""user"' in roles and 'ALTER ROLE "odd ""user" REPLICATION' in roles
    # no password in any statement: it is set through cdc.set_password's bound parameters
    assert database.SET_PASSWORD == "SELECT cdc.set_password(:role, :password)"
    assert not [s for s in statements if "PASSWORD '" in s.upper()]


def test_teardown_drops_the_slot_publication_and_role_of_the_deployment_only():
    slot, publication, role = database.teardown_statements("t1_slot", "t1_pub", "t1_user")
    assert "slot_name = 't1_slot'" in slot and publication == 'DROP PUBLICATION IF EXISTS "t1_pub"'
    assert 'DROP OWNED BY "t1_user"; DROP ROLE "t1_user"' in role
