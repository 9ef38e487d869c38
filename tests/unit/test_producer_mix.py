"""Parsing --mix: operation=weight pairs, validated."""

import pytest

from producer.plan import parse_mix


def test_mix_gives_each_named_operation_its_weight():
    assert parse_mix("insert=0.5,update=0.35,delete=0.15") == {"insert": 0.5, "update": 0.35, "delete": 0.15}


def test_operations_left_out_of_the_mix_get_zero():
    assert parse_mix("insert=1") == {"insert": 1.0, "update": 0.0, "delete": 0.0}


def test_spaces_around_names_and_weights_are_ignored():
    assert parse_mix(" insert = 2 , delete=1")["insert"] == 2.0


def test_unknown_operation_is_named_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"unknown operation 'upsert' \(use insert, update, delete\)"):
        parse_mix("insert=0.5,upsert=0.5")


def test_negative_weight_is_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        parse_mix("insert=1,delete=-0.1")


def test_weight_that_is_not_a_number_is_rejected():
    with pytest.raises(ValueError, match="weight of update must be a number, got 'lots'"):
        parse_mix("update=lots")


def test_infinite_weight_is_rejected():
    with pytest.raises(ValueError, match="non-negative number"):
        parse_mix("insert=inf")


def test_weights_summing_to_zero_are_rejected():
    with pytest.raises(ValueError, match="must not all be 0"):
        parse_mix("insert=0,update=0")


def test_pair_without_equals_sign_is_rejected():
    with pytest.raises(ValueError, match="is not operation=weight"):
        parse_mix("insert")


def test_operation_given_twice_is_rejected():
    with pytest.raises(ValueError, match="given twice"):
        parse_mix("insert=1,insert=2")
