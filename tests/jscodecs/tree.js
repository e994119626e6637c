// Test helper: converts decoded CBOR values to a JSON "tree" that keeps what JSON loses
// (byte strings, NaN, infinities, -0), and back, so Python can compare with cbor2.
function toTree(value) {
  if (value === null) { return ["null"]; }
  if (value === true || value === false) { return ["bool", value]; }
  if (typeof value === "number") {
    if (value !== value) { return ["nan"]; }
    if (value === Infinity || value === -Infinity) { return ["inf", value > 0 ? 1 : -1]; }
    if (value === 0 && 1 / value < 0) { return ["negzero"]; }
    return ["num", value];
  }
  if (typeof value === "string") { return ["text", value]; }
  if (value instanceof Uint8Array) { return ["bytes", Array.prototype.slice.call(value)]; }
  if (Array.isArray(value)) { return ["array", value.map(toTree)]; }
  var pairs = [];
  Object.keys(value).forEach(function (key) { pairs.push([key, toTree(value[key])]); });
  return ["map", pairs];
}

function fromTree(tree) {
  var kind = tree[0];
  if (kind === "null") { return null; }
  if (kind === "bool" || kind === "num" || kind === "text") { return tree[1]; }
  if (kind === "bytes") { return new Uint8Array(tree[1]); }
  if (kind === "array") { return tree[1].map(fromTree); }
  if (kind === "map") {
    var map = {};
    tree[1].forEach(function (pair) {
      Object.defineProperty(map, pair[0], { value: fromTree(pair[1]), enumerable: true, writable: true, configurable: true });
    });
    return map;
  }
  if (kind === "float") { return tree[1]; }
  throw new Error("unknown tree kind " + kind);
}

// One CBOR case: {op: "decode", bytes: [...]} or {op: "encode", tree: [...]}.
function runCborCase(caseJson) {
  var c = JSON.parse(caseJson);
  try {
    if (c.op === "decode") { return JSON.stringify({ ok: toTree(TingCbor.decode(c.bytes, c.strict === true)) }); }
    return JSON.stringify({ ok: TingCbor.encode(fromTree(c.tree)) });
  } catch (error) {
    return JSON.stringify({ error: String(error.message), codecError: error.isCodecError === true });
  }
}
