"""The message table in codecs/README.md is the one the catalogue renders today."""

import gen_readme


def test_readme_table_is_not_stale() -> None:
    assert gen_readme.main(["--check"]) == 0, "run: .venv/bin/python codecs/gen_readme.py"


def test_readme_table_lists_every_message() -> None:
    table = gen_readme.render_table()
    from tingcodec import examples

    for device, msg in examples.all_messages():
        assert f"| {device} | `{msg['name']}` | {msg['direction']} | {msg['fport']} |" in table
