"""`portside serve`'s options, as the command line parses them."""

from __future__ import annotations

import pytest

from portside.cli import DEFAULT_BACKLOG, _parser


def test_serve_listens_with_a_backlog_that_survives_a_reconnect_storm() -> None:
    args = _parser().parse_args(["serve"])
    assert args.backlog == DEFAULT_BACKLOG
    assert DEFAULT_BACKLOG >= 8192


def test_serve_takes_the_backlog_from_the_command_line() -> None:
    assert _parser().parse_args(["serve", "--backlog", "4096"]).backlog == 4096


@pytest.mark.parametrize(
    ("given", "said"),
    [("0", "must be at least 1, got 0"), ("lots", "expected a whole number, got 'lots'")],
)
def test_serve_refuses_a_backlog_that_is_not_a_positive_number(
    given: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(["serve", "--backlog", given])
    assert exited.value.code == 2
    assert said in capsys.readouterr().err
