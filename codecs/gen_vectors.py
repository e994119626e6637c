"""Generate codecs/vectors.json from the catalogue: `python codecs/gen_vectors.py [--check]`.

Per message: a typical reading, every field at its minimum, every field at its maximum, the
longest payload (ints at whichever end encodes longer), the required fields only when the
message has optional ones, and an empty list where a list may be empty. "fields" is what the
decoder returns, so every runtime can compare its output to it exactly.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import tingcodec  # noqa: E402
from tingcodec import examples  # noqa: E402

VECTORS_PATH = HERE / "vectors.json"


def _cases(device: str, msg: dict) -> list[dict]:
    name = msg["name"]
    cases = [examples.typical(device, name), examples.extreme(msg, "min"), examples.extreme(msg, "max"),
             examples.largest(msg)]
    if any(field["optional"] for field in msg["fields"]):
        cases.append(examples.required_only(msg, examples.typical(device, name)))
    for field in msg["fields"]:
        if field["kind"] == "list" and field["min_items"] == 0:
            empty = examples.typical(device, name)
            empty[field["name"]] = []
            cases.append(empty)
    return cases


def build_vectors() -> list[dict]:
    vectors = []
    seen = set()
    previous = tingcodec.set_cbor_backend("pure")
    try:
        for device, msg in examples.all_messages():
            for fields in _cases(device, msg):
                fport, payload = tingcodec.encode(device, msg["name"], fields)
                key = (device, msg["direction"], fport, payload)
                if key in seen:
                    continue
                seen.add(key)
                decoded = tingcodec.decode(fport, payload, device, msg["direction"])
                vectors.append({"device": device, "message": msg["name"], "direction": msg["direction"],
                                "fPort": fport, "hex": payload.hex(), "fields": decoded["fields"]})
    finally:
        tingcodec.set_cbor_backend(previous)
    return vectors


def render(vectors: list[dict]) -> str:
    lines = ",\n".join("  " + json.dumps(vector, ensure_ascii=False) for vector in vectors)
    return "[\n" + lines + "\n]\n"


def main(argv: list[str]) -> int:
    text = render(build_vectors())
    if "--check" in argv:
        if VECTORS_PATH.read_text(encoding="utf-8") != text:
            print("codecs/vectors.json is stale: run python codecs/gen_vectors.py", file=sys.stderr)
            return 1
        return 0
    VECTORS_PATH.write_text(text, encoding="utf-8")
    count = len(json.loads(text))
    print(f"wrote {VECTORS_PATH} ({count} vectors)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
