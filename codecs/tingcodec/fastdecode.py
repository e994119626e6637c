# CPython only: per-message decoders generated as Python source, for bridge throughput.
#
# A generated decoder handles the happy path with inlined checks and no per-field calls.
# Anything it does not accept at once (a bad value, extra items from newer firmware, a
# payload that is not in preferred serialization) it hands to the reference decoder
# (`slow`, the closure-based one in decoder.py), which gives the exact error or result.
# So the generated code can only be faster, never more lenient: tests compare the two.
#
# Preferred serialization without re-encoding: for integers the shortest head is unique
# and any other form is longer, so "payload length == sum of shortest item sizes" (plus a
# one-byte array head, checked directly) proves there are no trailing or non-shortest bytes.


_SIZE_CLASSES = ((1, 24), (2, 256), (3, 65536), (5, 4294967296), (9, 18446744073709551616))


def _size_expr(var, lo, hi):
    # CBOR bytes of an integer var known to lie in lo..hi: only the size classes that range reaches
    def size_of(w):
        for size, limit in _SIZE_CLASSES:
            if -limit <= w < limit:
                return size
        return 9
    smallest, largest = min(size_of(lo), size_of(hi), 1 if lo <= 0 <= hi else 9), max(size_of(lo), size_of(hi))
    expr = str(largest)
    for size, limit in reversed(_SIZE_CLASSES):
        if smallest <= size < largest:
            test = ("%s < %d" % (var, limit)) if lo >= 0 else ("%d < %s < %d" % (-limit - 1, var, limit))
            expr = "(%d if %s else %s)" % (size, test, expr)
    return expr


def _list_size(items):
    # size of a nested array of validated integers, or -1 when its head would not be one byte
    if len(items) > 23:
        return -1
    size = 1
    for w in items:
        size += 1 if -25 < w < 24 else 2 if -257 < w < 256 else 3 if -65537 < w < 65536 else (
            5 if -4294967297 < w < 4294967296 else 9)
    return size


def _field_lines(index, field, env):
    w = "w%d" % index
    kind = field["kind"]
    lines = ["%s = items[%d]" % (w, index)]
    if kind == "list":
        env["conv%d" % index] = env["converters"][index]
        lines += ["if type(%s) is not list: return slow(items, payload)" % w,
                  "conv%d(%s, f)" % (index, w),
                  "n_list = _list_size(%s)" % w,
                  "if n_list < 0: return slow(items, payload)",
                  "size += n_list"]
        return lines
    if kind == "int":
        lo = field["min"] * field["scale"] // field["step"]
        hi = field["max"] * field["scale"] // field["step"]
    elif kind == "flags":
        lo, hi = 0, 0xFFFFFFFF
    else:
        lo, hi = 0, len(field["values"]) - 1
    lines.append("if type(%s) is not int or %s < %d or %s > %d: return slow(items, payload)" % (w, w, lo, w, hi))
    lines.append("size += " + _size_expr(w, lo, hi))
    if kind == "int":
        scale, step = field["scale"], field["step"]
        if scale == 1:
            value = w if step == 1 else "%s * %d" % (w, step)
        else:
            num = w if step == 1 else "(%s * %d)" % (w, step)
            value = "(%s // %d if %s %% %d == 0 else %s / %d)" % (num, scale, num, scale, num, scale)
        lines.append("f[%r] = %s" % (field["name"], value))
    elif kind == "flags":
        for bit_index, bit in enumerate(field["bits"]):
            lines.append("f[%r] = %s & %d != 0" % (bit, w, 1 << bit_index))
    else:
        env["values%d" % index] = field["values"]
        lines.append("f[%r] = values%d[%s]" % (field["name"], index, w))
    return lines


def compile_fast(msg, converters, slow):
    """A decoder(items, payload) for msg, equivalent to slow but faster on valid payloads."""
    fields = msg["fields"]
    required = sum(1 for field in fields if not field["optional"])
    known = len(fields)
    env = {"slow": slow, "_list_size": _list_size, "converters": converters}
    body = ["def decode(items, payload):",
            "    if type(items) is not list: return slow(items, payload)",
            "    n = len(items)",
            "    if n < %d or n > %d or payload[0] != 0x80 | n: return slow(items, payload)" % (required, known),
            "    size = 1",
            "    f = {}"]
    for index, field in enumerate(fields):
        indent = "    "
        if field["optional"]:
            body.append("    if n > %d:" % index)
            indent = "        "
        body += [indent + line for line in _field_lines(index, field, env)]
    body += ["    if size != len(payload): return slow(items, payload)",
             "    return {'message': %r, 'fields': f}" % msg["name"]]
    exec("\n".join(body), env)  # noqa: S102 - source built from our own catalogue only
    return env["decode"]
