"""Whatever a campaign file holds, validation answers with problems, never an exception."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from config.campaign_files import read_campaign
from config.settings import get_settings
from models.errors import SpecError
from tests.unit.test_campaign_files import GOOD

KEYS = [
    "key",
    "name",
    "organization",
    "timezone",
    "phases",
    "start",
    "end",
    "obligations",
    "subject",
    "units",
    "persons",
    "kinds",
    "roles",
    "due",
    "evidence",
    "counts",
    "waves",
    "gates",
    "targets",
    "value",
    "select",
    "recurrence",
    "every",
    "from",
    "sign_off",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.sampled_from(
        ["2013-02-30", "mid 2013-12", "2027-01-01", "1 working day after x.end", "village", "start"]
    ),
)
documents = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=5
        ),
    ),
    max_leaves=30,
)


def check(tmp: Path, content: bytes) -> None:
    path = tmp / "fuzz.yaml"
    path.write_bytes(content)
    try:
        read_campaign(get_settings(), str(path))
    except SpecError as exc:
        assert exc.problems
        assert all(p.startswith(f"{path}:") for p in exc.problems), exc.problems


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(doc=documents)
def test_any_yaml_document(tmp_path: Path, doc: object) -> None:
    buffer = io.StringIO()
    YAML().dump(doc, buffer)
    check(tmp_path, buffer.getvalue().encode())


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cut=st.integers(0, len(GOOD.encode())), junk=st.binary(max_size=12))
def test_a_valid_file_cut_short_or_spliced_with_bytes(
    tmp_path: Path, cut: int, junk: bytes
) -> None:
    raw = GOOD.encode()
    check(tmp_path, raw[:cut] + junk + raw[cut : cut + 40])
