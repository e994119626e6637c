// Tingbro CBOR core (RFC 8949 subset) for the generated JS codecs.
// Pasted inside a function scope by the generator: function declarations only, no globals.
// ES5 on purpose: TTN runs ES5.1, ChirpStack runs it as a strict ES module in QuickJS.
// Decoded: ints (within +-2^53), byte strings (Uint8Array), text, arrays, maps (objects; int or
// text keys, int keys become decimal strings), true/false/null, floats (half/single/double).
// Encoded: the same minus floats, shortest form, map keys sorted like cbor2 canonical.
// Strict decoding also refuses anything but that canonical form (non-shortest heads and
// floats, unsorted map keys): exactly what re-encoding with cbor2 canonical=True would change.
var CBOR_MAX_DEPTH = 16;
var CBOR_MAX_SAFE_INT = 9007199254740991;

function cborFail(message) {
  var error = new Error(message);
  error.isCodecError = true;
  throw error;
}

function cborIsInt(value) {
  return typeof value === "number" && isFinite(value) && Math.floor(value) === value;
}

function cborCheckBytes(bytes) {
  if (bytes === null || typeof bytes !== "object" || typeof bytes.length !== "number") {
    cborFail("input bytes must be an array of integers 0..255");
  }
  for (var i = 0; i < bytes.length; i++) {
    var b = bytes[i];
    if (!cborIsInt(b) || b < 0 || b > 255) {
      cborFail("input byte " + i + " is not an integer 0..255");
    }
  }
}

// Decodes exactly one CBOR item spanning all of `bytes`; throws a codec error otherwise.
// A decoded float, kept apart from integers when the caller asks (markFloats): in JavaScript 0.0 and 0 are
// the same number, but a float where the catalogue wants an integer must be refused, as tingcodec does.
function CborFloat(value) {
  this.value = value;
}

function cborDecode(bytes, strict, markFloats) {
  cborCheckBytes(bytes);
  var state = { bytes: bytes, pos: 0, strict: strict === true, markFloats: markFloats === true };
  if (bytes.length === 0) {
    cborFail("empty input");
  }
  var value = cborReadItem(state, 0);
  if (state.pos !== bytes.length) {
    cborFail("trailing bytes after the CBOR item at byte " + state.pos);
  }
  return value;
}

function cborNeed(state, count) {
  if (state.pos + count > state.bytes.length) {
    cborFail("truncated input: need " + count + " more byte(s) at byte " + state.pos);
  }
}

function cborReadUint(state, count) {
  cborNeed(state, count);
  var value = 0;
  for (var i = 0; i < count; i++) {
    value = value * 256 + state.bytes[state.pos + i];
  }
  state.pos += count;
  return value;
}

// The argument of an initial byte; exact for values below 2^53, rejected above.
function cborReadArgument(state, info) {
  if (info < 24) {
    return info;
  }
  if (info > 27) {
    cborFail(info === 31 ? "indefinite lengths are not supported" : "reserved additional info " + info);
  }
  var count = 1 << (info - 24);
  var value;
  if (count === 8) {
    cborNeed(state, 8);
    var high = cborReadUint(state, 4);
    var low = cborReadUint(state, 4);
    if (high > 0x1fffff) {
      cborFail("integer or length beyond 2^53 is not supported");
    }
    value = high * 4294967296 + low;
  } else {
    value = cborReadUint(state, count);
  }
  // The smallest value each head width may carry in shortest form: 24, 2^8, 2^16, 2^32.
  if (state.strict && value < [24, 256, 65536, 0, 4294967296][count >> 1]) {
    cborFail("non-shortest head at byte " + (state.pos - count - 1));
  }
  return value;
}

function cborReadItem(state, depth) {
  if (depth > CBOR_MAX_DEPTH) {
    cborFail("nesting deeper than " + CBOR_MAX_DEPTH);
  }
  cborNeed(state, 1);
  var initial = state.bytes[state.pos];
  state.pos += 1;
  var major = initial >> 5;
  var info = initial & 31;
  if (major === 7) {
    return cborReadSimple(state, info);
  }
  var argument = cborReadArgument(state, info);
  if (major === 0) {
    if (argument > CBOR_MAX_SAFE_INT) {
      cborFail("integer beyond 2^53 is not supported");
    }
    return argument;
  }
  if (major === 1) {
    if (argument >= CBOR_MAX_SAFE_INT) {
      cborFail("integer beyond -2^53 is not supported");
    }
    return -1 - argument;
  }
  if (major === 2 || major === 3) {
    cborNeed(state, argument);
    var start = state.pos;
    state.pos += argument;
    return major === 2 ? cborSliceBytes(state.bytes, start, state.pos)
      : cborUtf8Decode(state.bytes, start, state.pos);
  }
  if (major === 4) {
    // Every item takes at least one byte: a length beyond the input is an error before allocating.
    cborNeed(state, argument);
    var items = [];
    for (var i = 0; i < argument; i++) {
      items.push(cborReadItem(state, depth + 1));
    }
    return items;
  }
  if (major === 5) {
    cborNeed(state, argument * 2);
    return cborReadMap(state, argument, depth);
  }
  cborFail("tags are not supported (initial byte " + initial + ")");
}

function cborReadMap(state, count, depth) {
  var map = {};
  var previousKey = null;
  for (var i = 0; i < count; i++) {
    var keyStart = state.pos;
    var key = cborReadItem(state, depth + 1);
    var keyBytes = { start: keyStart, end: state.pos };
    if (state.strict && previousKey !== null && cborCompareSlices(state.bytes, previousKey, keyBytes) >= 0) {
      cborFail("map keys not in canonical order at byte " + keyStart);
    }
    previousKey = keyBytes;
    if (typeof key === "number" && cborIsInt(key)) {
      key = String(key);
    } else if (typeof key !== "string") {
      cborFail("map keys must be integers or text");
    }
    if (Object.prototype.hasOwnProperty.call(map, key)) {
      cborFail("duplicate map key " + JSON.stringify(key));
    }
    // defineProperty: a key like "__proto__" becomes data, not the object's prototype.
    Object.defineProperty(map, key, {
      value: cborReadItem(state, depth + 1), enumerable: true, writable: true, configurable: true
    });
  }
  return map;
}

// Canonical key order (cbor2 canonical=True): shorter encoded key first, then bytewise.
function cborCompareSlices(bytes, a, b) {
  var lengthA = a.end - a.start;
  var lengthB = b.end - b.start;
  if (lengthA !== lengthB) {
    return lengthA - lengthB;
  }
  for (var i = 0; i < lengthA; i++) {
    if (bytes[a.start + i] !== bytes[b.start + i]) {
      return bytes[a.start + i] - bytes[b.start + i];
    }
  }
  return 0;
}

function cborReadSimple(state, info) {
  if (info === 20) {
    return false;
  }
  if (info === 21) {
    return true;
  }
  if (info === 22) {
    return null;
  }
  var start = state.pos - 1;
  if (info === 25) {
    var half = cborReadUint(state, 2);
    // Canonical NaN is f97e00; any other NaN payload would be rewritten.
    if (state.strict && (half & 0x7c00) === 0x7c00 && (half & 0x3ff) !== 0 && half !== 0x7e00) {
      cborFail("non-canonical NaN at byte " + start);
    }
    return cborFloatOut(state, cborHalfToNumber(half));
  }
  if (info === 26) {
    var single = cborReadUint(state, 4);
    if (state.strict && cborFloatFits((single >>> 23) & 0xff, single % 8388608, 23, 127, 10, -14, 15)) {
      cborFail("float at byte " + start + " fits a shorter form");
    }
    return cborFloatOut(state, cborBitsToNumber(single, 0, 8, 23));
  }
  if (info === 27) {
    cborNeed(state, 8);
    var high = cborReadUint(state, 4);
    var low = cborReadUint(state, 4);
    if (state.strict && cborFloatFits((high >>> 20) & 0x7ff, (high % 1048576) * 4294967296 + low, 52, 1023,
      23, -126, 127)) {
      cborFail("float at byte " + start + " fits a shorter form");
    }
    return cborFloatOut(state, cborBitsToNumber(high, low, 11, 52));
  }
  if (info === 31) {
    cborFail("unexpected break byte");
  }
  cborFail("unsupported simple value (additional info " + info + ")");
}

function cborFloatOut(state, value) {
  return state.markFloats ? new CborFloat(value) : value;
}

// Whether a float (biased exponent field, mantissa integer of mantissaBits bits) is exactly
// representable in a narrower format (targetBits of mantissa, normal exponents min..max).
// Infinities and NaN always fit: canonical CBOR writes them as half floats.
function cborFloatFits(exponentField, mantissa, mantissaBits, bias, targetBits, targetMin, targetMax) {
  if (exponentField === 2 * bias + 1) {
    return true;
  }
  if (exponentField === 0) {
    return mantissa === 0;  // zero fits; subnormals of the wider format are below the narrower's range
  }
  var exponent = exponentField - bias;
  if (exponent > targetMax) {
    return false;
  }
  // The narrower format's last mantissa bit is worth 2^lowest; every bit below it must be zero.
  var lowest = (exponent >= targetMin ? exponent : targetMin) - targetBits;
  var shift = lowest - exponent + mantissaBits;
  return shift <= 0 || (Math.pow(2, mantissaBits) + mantissa) % Math.pow(2, shift) === 0;
}

function cborHalfToNumber(bits) {
  var sign = bits & 0x8000 ? -1 : 1;
  var exponent = (bits >> 10) & 31;
  var mantissa = bits & 1023;
  if (exponent === 0) {
    return sign * mantissa * Math.pow(2, -24);
  }
  if (exponent === 31) {
    return mantissa ? NaN : sign * Infinity;
  }
  return sign * (1024 + mantissa) * Math.pow(2, exponent - 25);
}

// IEEE 754 single (high word only) or double (high and low words) to a number.
function cborBitsToNumber(high, low, exponentBits, mantissaBits) {
  var sign = high >= 0x80000000 ? -1 : 1;
  var highMantissaBits = mantissaBits - (exponentBits === 8 ? 0 : 32);
  var exponentMax = (1 << exponentBits) - 1;
  var exponent = Math.floor(high / Math.pow(2, highMantissaBits)) & exponentMax;
  var mantissa = (high % Math.pow(2, highMantissaBits)) * (exponentBits === 8 ? 1 : 4294967296) + low;
  var bias = (exponentMax >> 1) + mantissaBits;
  if (exponent === 0) {
    return sign * mantissa * Math.pow(2, 1 - bias);
  }
  if (exponent === exponentMax) {
    return mantissa ? NaN : sign * Infinity;
  }
  return sign * (mantissa + Math.pow(2, mantissaBits)) * Math.pow(2, exponent - bias);
}

function cborSliceBytes(bytes, start, end) {
  var out = typeof Uint8Array === "function" ? new Uint8Array(end - start) : [];
  for (var i = start; i < end; i++) {
    out[i - start] = bytes[i];
  }
  return out;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
function cborUtf8Decode(bytes, start, end) {
  var text = "";
  var pos = start;
  while (pos < end) {
    var lead = bytes[pos];
    var count = lead < 0x80 ? 0 : lead >= 0xc2 && lead < 0xe0 ? 1 : lead >= 0xe0 && lead < 0xf0 ? 2
      : lead >= 0xf0 && lead < 0xf5 ? 3 : -1;
    if (count < 0 || pos + count >= end) {
      cborFail("invalid UTF-8 in text string at byte " + pos);
    }
    var code = count === 0 ? lead : lead & (0x3f >> count);
    for (var i = 1; i <= count; i++) {
      var next = bytes[pos + i];
      if ((next & 0xc0) !== 0x80) {
        cborFail("invalid UTF-8 in text string at byte " + pos);
      }
      code = code * 64 + (next & 0x3f);
    }
    if ((count === 2 && (code < 0x800 || (code >= 0xd800 && code <= 0xdfff))) ||
        (count === 3 && (code < 0x10000 || code > 0x10ffff))) {
      cborFail("invalid UTF-8 in text string at byte " + pos);
    }
    if (code >= 0x10000) {
      code -= 0x10000;
      text += String.fromCharCode(0xd800 + (code >> 10), 0xdc00 + (code & 1023));
    } else {
      text += String.fromCharCode(code);
    }
    pos += count + 1;
  }
  return text;
}

// Encodes a value to a plain Array of byte numbers (what ChirpStack's encodeDownlink wants).
function cborEncode(value) {
  var out = [];
  cborWriteItem(out, value, 0);
  return out;
}

function cborWriteHead(out, major, argument) {
  var base = major << 5;
  if (argument < 24) {
    out.push(base + argument);
  } else if (argument < 256) {
    out.push(base + 24, argument);
  } else if (argument < 65536) {
    out.push(base + 25, argument >> 8, argument & 255);
  } else if (argument < 4294967296) {
    out.push(base + 26, (argument >>> 24) & 255, (argument >> 16) & 255, (argument >> 8) & 255, argument & 255);
  } else {
    var high = Math.floor(argument / 4294967296);
    var low = argument % 4294967296;
    out.push(base + 27, (high >> 24) & 255, (high >> 16) & 255, (high >> 8) & 255, high & 255,
      (low >>> 24) & 255, (low >> 16) & 255, (low >> 8) & 255, low & 255);
  }
}

function cborWriteItem(out, value, depth) {
  if (depth > CBOR_MAX_DEPTH) {
    cborFail("nesting deeper than " + CBOR_MAX_DEPTH);
  }
  if (value === null) {
    out.push(0xf6);
  } else if (value === true || value === false) {
    out.push(value ? 0xf5 : 0xf4);
  } else if (typeof value === "number") {
    if (!cborIsInt(value) || Math.abs(value) > CBOR_MAX_SAFE_INT) {
      cborFail("only integers within +-2^53 can be encoded, got " + value);
    }
    if (value >= 0) {
      cborWriteHead(out, 0, value);
    } else {
      cborWriteHead(out, 1, -1 - value);
    }
  } else if (typeof value === "string") {
    var encoded = cborUtf8Encode(value);
    cborWriteHead(out, 3, encoded.length);
    cborAppend(out, encoded);
  } else if (typeof Uint8Array === "function" && value instanceof Uint8Array) {
    cborWriteHead(out, 2, value.length);
    cborAppend(out, value);
  } else if (Object.prototype.toString.call(value) === "[object Array]") {
    cborWriteHead(out, 4, value.length);
    for (var i = 0; i < value.length; i++) {
      cborWriteItem(out, value[i], depth + 1);
    }
  } else if (typeof value === "object") {
    cborWriteMap(out, value, depth);
  } else {
    cborFail("cannot encode a value of type " + typeof value);
  }
}

// Text keys, ordered like cbor2's canonical output: shorter encoded key first, then bytewise.
function cborWriteMap(out, map, depth) {
  var entries = [];
  for (var key in map) {
    if (Object.prototype.hasOwnProperty.call(map, key)) {
      entries.push({ encoded: cborEncode(key), value: map[key] });
    }
  }
  entries.sort(function (a, b) {
    if (a.encoded.length !== b.encoded.length) {
      return a.encoded.length - b.encoded.length;
    }
    for (var i = 0; i < a.encoded.length; i++) {
      if (a.encoded[i] !== b.encoded[i]) {
        return a.encoded[i] - b.encoded[i];
      }
    }
    return 0;
  });
  cborWriteHead(out, 5, entries.length);
  for (var j = 0; j < entries.length; j++) {
    cborAppend(out, entries[j].encoded);
    cborWriteItem(out, entries[j].value, depth + 1);
  }
}

function cborAppend(out, bytes) {
  for (var i = 0; i < bytes.length; i++) {
    out.push(bytes[i]);
  }
}

function cborUtf8Encode(text) {
  var out = [];
  for (var i = 0; i < text.length; i++) {
    var code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) {
      var next = i + 1 < text.length ? text.charCodeAt(i + 1) : 0;
      if (code > 0xdbff || next < 0xdc00 || next > 0xdfff) {
        cborFail("text contains a lone surrogate at index " + i);
      }
      code = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
      i += 1;
    }
    if (code < 0x80) {
      out.push(code);
    } else if (code < 0x800) {
      out.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    } else if (code < 0x10000) {
      out.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    } else {
      out.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    }
  }
  return out;
}
