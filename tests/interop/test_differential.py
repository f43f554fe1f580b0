"""Differential tests: every case of cases.py runs on tandem-server and on redis-server,
through redis-py (`py`) and a raw-socket client comparing reply bytes in RESP2 (`resp2`)
and after `HELLO 3` (`resp3`); the replies must be identical."""

import pytest

import difftest
from cases import CASES, COMMAND_SCOPE

PARAMS = [
    pytest.param(case, mode, id=f"{mode}-{case.name}")
    for case in CASES
    for mode in difftest.case_modes(case)
]


def test_case_names_are_unique():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case,mode", PARAMS)
def test_differential(pair, case, mode):
    tandem, redis_ref = pair
    want = difftest.run(case, mode, redis_ref.port)
    got = difftest.run(case, mode, tandem.port)
    problems = difftest.compare(case, mode, got, want)
    if problems:
        shown = "\n".join(problems[:12])
        more = f"\n  ... and {len(problems) - 12} more" if len(problems) > 12 else ""
        pytest.fail(
            f"{case.name} [{mode}]: {len(problems)} of {len(want)} replies differ\n{shown}{more}",
            pytrace=False,
        )


@pytest.mark.parametrize("name", COMMAND_SCOPE)
def test_command_info(pair, name):
    """COMMAND INFO: name, arity, flags (as a set) and first/last/step key positions."""

    def info(server):
        with server.raw() as c:
            f = c.call("COMMAND", "INFO", name)
        if f.is_error() or not f.children or not f.children[0].children:
            return f.raw
        e = f.children[0].children
        flags = sorted(x.value for x in e[2].children)
        return [e[0].value, e[1].value, flags, e[3].value, e[4].value, e[5].value]

    tandem, redis_ref = pair
    assert info(tandem) == info(redis_ref)
