// Tingbro payload codec for lifebuoy devices: ChirpStack v4 device profiles and TTN.
// GENERATED from codecs/tingcodec/catalogue.py by `make jscodecs`: do not edit by hand.
//
// decodeUplink({fPort, bytes})   -> {data: {message, fields: {...}}} or {errors: [...]}
// decodeDownlink({fPort, bytes}) -> {data: {message, fields: {...}}} or {errors: [...]}
// encodeDownlink({data: {message, fields: {...}}}) -> {bytes, fPort} or {errors: [...]}
//
// Runs as a plain ES5 script (TTN, node) and inside ChirpStack's strict ES module wrapper
// (QuickJS, >= 4.17); the only names it defines are the three functions above.
//
// Messages (fPort, direction, name: fields):
//     1 up   device_info: firmware_major 0..255, firmware_minor 0..255, firmware_patch 0..255, reset_cause (power_on/brownout/watchdog/software/external_pin/deep_sleep_wake/hard_fault/unknown), device_type (unknown/fill_level/lifebuoy/streetlight)
//     2 up   config_ack: command_fport 1..223, result (applied/unknown_command/malformed/out_of_range/unsupported/busy), applied_crc16 0..65535
//    10 up   presence: present|tamper, event_seq 0..255
//    11 up   heartbeat: present|tamper, battery_mv 0..5100, temperature_c -40..125, presence_changes 0..65535
//    20 down set_heartbeat_interval: heartbeat_interval_s 300..604800
//    21 down set_debounce: debounce_ms 0..60000
var decodeUplink, decodeDownlink, encodeDownlink;
(function () {
"use strict";
var DEVICE = "lifebuoy";
var MESSAGES = [{"name":"device_info","direction":"up","fport":1,"required":5,"fields":[{"name":"firmware_major","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":0,"max":255,"wire_min":0,"wire_max":255},{"name":"firmware_minor","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":0,"max":255,"wire_min":0,"wire_max":255},{"name":"firmware_patch","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":0,"max":255,"wire_min":0,"wire_max":255},{"name":"reset_cause","kind":"enum","optional":false,"values":["power_on","brownout","watchdog","software","external_pin","deep_sleep_wake","hard_fault","unknown"]},{"name":"device_type","kind":"enum","optional":false,"values":["unknown","fill_level","lifebuoy","streetlight"]}]},{"name":"config_ack","direction":"up","fport":2,"required":3,"fields":[{"name":"command_fport","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":1,"max":223,"wire_min":1,"wire_max":223},{"name":"result","kind":"enum","optional":false,"values":["applied","unknown_command","malformed","out_of_range","unsupported","busy"]},{"name":"applied_crc16","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":0,"max":65535,"wire_min":0,"wire_max":65535}]},{"name":"presence","direction":"up","fport":10,"required":2,"fields":[{"name":"state","kind":"flags","optional":false,"bits":["present","tamper"]},{"name":"event_seq","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":0,"max":255,"wire_min":0,"wire_max":255}]},{"name":"heartbeat","direction":"up","fport":11,"required":4,"fields":[{"name":"state","kind":"flags","optional":false,"bits":["present","tamper"]},{"name":"battery_mv","kind":"int","optional":false,"unit":"mV","scale":1,"step":20,"min":0,"max":5100,"wire_min":0,"wire_max":255},{"name":"temperature_c","kind":"int","optional":false,"unit":"\u00b0C","scale":2,"step":1,"min":-40,"max":125,"wire_min":-80,"wire_max":250},{"name":"presence_changes","kind":"int","optional":false,"unit":"","scale":1,"step":1,"min":0,"max":65535,"wire_min":0,"wire_max":65535}]},{"name":"set_heartbeat_interval","direction":"down","fport":20,"required":1,"fields":[{"name":"heartbeat_interval_s","kind":"int","optional":false,"unit":"s","scale":1,"step":1,"min":300,"max":604800,"wire_min":300,"wire_max":604800}]},{"name":"set_debounce","direction":"down","fport":21,"required":1,"fields":[{"name":"debounce_ms","kind":"int","optional":false,"unit":"ms","scale":1,"step":1,"min":0,"max":60000,"wire_min":0,"wire_max":60000}]}];

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
// Tingbro message layer: pasted after the CBOR core, inside the same function scope, with
// DEVICE (the device type) and MESSAGES (catalogue data prepared by the generator) in scope.
// Mirrors tingcodec's decoder and encoder rule for rule; see codecs/README.md for the rules.

function messageFor(direction, fport) {
  for (var i = 0; i < MESSAGES.length; i++) {
    if (MESSAGES[i].direction === direction && MESSAGES[i].fport === fport) {
      return MESSAGES[i];
    }
  }
  cborFail("no " + direction + "link message on fPort " + fport + " for " + DEVICE);
}

function messageNamed(name) {
  for (var i = 0; i < MESSAGES.length; i++) {
    if (MESSAGES[i].direction === "down" && MESSAGES[i].name === name) {
      return MESSAGES[i];
    }
  }
  var known = [];
  for (var j = 0; j < MESSAGES.length; j++) {
    if (MESSAGES[j].direction === "down") {
      known.push(MESSAGES[j].name);
    }
  }
  cborFail("unknown downlink message " + JSON.stringify(name) + " for " + DEVICE + " (known: " + known.join(", ") + ")");
}

function isPlainObject(value) {
  return value !== null && typeof value === "object" && Object.prototype.toString.call(value) !== "[object Array]";
}

function hasKey(object, key) {
  return Object.prototype.hasOwnProperty.call(object, key);
}

// ---------------------------------------------------------------- decoding

function decodePayload(direction, fport, bytes) {
  if (!cborIsInt(fport)) {
    cborFail("fPort must be an integer");
  }
  var message = messageFor(direction, fport);
  // Strict: only the canonical form our encoders write (tingcodec re-encodes and compares).
  var items = cborDecode(bytes, true, true);
  if (Object.prototype.toString.call(items) !== "[object Array]") {
    cborFail("message " + message.name + ": payload is not a CBOR array");
  }
  if (items.length < message.required) {
    cborFail("message " + message.name + ": " + items.length + " fields, at least " + message.required + " required");
  }
  var fields = {};
  // Items beyond the known fields are newer fields: ignored (append-only evolution).
  var count = Math.min(items.length, message.fields.length);
  for (var i = 0; i < count; i++) {
    decodeField(message.fields[i], items[i], fields);
  }
  return { message: message.name, fields: fields };
}

function checkWireInt(name, wire, low, high) {
  if (!cborIsInt(wire) || wire < low || wire > high) {
    var shown = wire instanceof CborFloat ? "float " + wire.value : JSON.stringify(wire);
    cborFail("field " + name + ": wire value " + shown + " not an integer in " + low + ".." + high);
  }
}

function decodeField(field, wire, fields) {
  var i;
  if (field.kind === "int") {
    checkWireInt(field.name, wire, field.wire_min, field.wire_max);
    fields[field.name] = wire * field.step / field.scale;
  } else if (field.kind === "flags") {
    checkWireInt(field.name, wire, 0, 4294967295);
    for (i = 0; i < field.bits.length; i++) {
      fields[field.bits[i]] = Math.floor(wire / Math.pow(2, i)) % 2 === 1;
    }
  } else if (field.kind === "enum") {
    checkWireInt(field.name, wire, 0, field.values.length - 1);
    fields[field.name] = field.values[wire];
  } else {
    fields[field.name] = decodeList(field, wire);
  }
}

function decodeList(field, wire) {
  if (Object.prototype.toString.call(wire) !== "[object Array]" || wire.length < field.min_items ||
      wire.length > field.max_items) {
    cborFail("field " + field.name + ": expected an array of " + field.min_items + ".." + field.max_items + " items");
  }
  var items = [];
  for (var i = 0; i < wire.length; i++) {
    checkWireInt(field.name + " item", wire[i], 0, Math.pow(2, field.width) - 1);
    var entry = {};
    var shift = 1;
    for (var j = 0; j < field.item.length; j++) {
      var sub = field.item[j];
      var size = Math.pow(2, sub.width);
      var value = Math.floor(wire[i] / shift) % size + sub.min;
      if (value > sub.max) {
        cborFail("field " + field.name + ": " + sub.name + " " + value + " above " + sub.max);
      }
      entry[sub.name] = sub.values ? sub.values[value] : value;
      shift *= size;
    }
    items.push(entry);
  }
  return items;
}

// ---------------------------------------------------------------- encoding

function encodeMessage(name, fields) {
  var message = messageNamed(name);
  if (!isPlainObject(fields)) {
    cborFail("fields must be an object");
  }
  var specs = message.fields;
  // Trailing optional fields that were not given are left out of the array.
  var count = specs.length;
  while (count > 0 && specs[count - 1].optional && !fieldPresent(specs[count - 1], fields)) {
    count -= 1;
  }
  var items = [];
  var used = {};
  for (var i = 0; i < count; i++) {
    var field = specs[i];
    if (field.kind === "flags" || hasKey(fields, field.name)) {
      items.push(encodeField(field, fields, used));
    } else if (field.optional) {
      items.push(encodeInt(field, field["default"]));
    } else {
      cborFail("message " + name + ": missing field " + field.name);
    }
  }
  for (var key in fields) {
    if (hasKey(fields, key) && !hasKey(used, key)) {
      cborFail("message " + name + ": unknown field " + JSON.stringify(key));
    }
  }
  return { bytes: cborEncode(items), fPort: message.fport };
}

function fieldPresent(field, fields) {
  if (field.kind !== "flags") {
    return hasKey(fields, field.name);
  }
  for (var i = 0; i < field.bits.length; i++) {
    if (hasKey(fields, field.bits[i])) {
      return true;
    }
  }
  return false;
}

function encodeField(field, fields, used) {
  if (field.kind === "flags") {
    var wire = 0;
    for (var i = 0; i < field.bits.length; i++) {
      var bit = field.bits[i];
      if (hasKey(fields, bit)) {
        used[bit] = true;
        if (fields[bit] !== true && fields[bit] !== false) {
          cborFail("field " + bit + ": expected true or false, got " + JSON.stringify(fields[bit]));
        }
        wire += fields[bit] ? Math.pow(2, i) : 0;
      }
    }
    return wire;
  }
  used[field.name] = true;
  var value = fields[field.name];
  if (field.kind === "int") {
    return encodeInt(field, value);
  }
  if (field.kind === "enum") {
    return encodeEnum(field.name, field.values, value);
  }
  return encodeList(field, value);
}

// Scales a value to its wire integer, rounding half away from zero like tingcodec.
function encodeInt(field, value) {
  if (typeof value !== "number" || !isFinite(value)) {
    cborFail("field " + field.name + ": expected a finite number, got " + JSON.stringify(value));
  }
  if (value < field.min || value > field.max) {
    cborFail("field " + field.name + ": " + value + " outside " + field.min + ".." + field.max + " " + field.unit);
  }
  var magnitude;
  if (cborIsInt(value)) {
    var numerator = Math.abs(value * field.scale);
    var remainder = numerator % field.step;
    magnitude = (numerator - remainder) / field.step + (2 * remainder >= field.step ? 1 : 0);
  } else {
    magnitude = Math.floor(Math.abs(value * field.scale / field.step) + 0.5);
  }
  return value < 0 ? -magnitude : magnitude;
}

function encodeEnum(name, values, value) {
  for (var i = 0; i < values.length; i++) {
    if (values[i] === value) {
      return i;
    }
  }
  cborFail("field " + name + ": " + JSON.stringify(value) + " is not one of " + values.join(", "));
}

function encodeList(field, value) {
  if (Object.prototype.toString.call(value) !== "[object Array]") {
    cborFail("field " + field.name + ": expected a list");
  }
  if (value.length < field.min_items || value.length > field.max_items) {
    cborFail("field " + field.name + ": " + value.length + " items, allowed " + field.min_items + ".." + field.max_items);
  }
  var items = [];
  for (var i = 0; i < value.length; i++) {
    var entry = value[i];
    if (!isPlainObject(entry)) {
      cborFail("field " + field.name + ": each item must be an object");
    }
    var packed = 0;
    var shift = 1;
    var known = {};
    for (var j = 0; j < field.item.length; j++) {
      var sub = field.item[j];
      known[sub.name] = true;
      if (!hasKey(entry, sub.name)) {
        cborFail("field " + field.name + ": item lacks " + sub.name);
      }
      var stored;
      if (sub.values) {
        stored = encodeEnum(sub.name, sub.values, entry[sub.name]);
      } else {
        var subValue = entry[sub.name];
        if (!cborIsInt(subValue) || subValue < sub.min || subValue > sub.max) {
          cborFail("field " + field.name + ": " + sub.name + " must be an integer in " + sub.min + ".." + sub.max +
            ", got " + JSON.stringify(subValue));
        }
        stored = subValue - sub.min;
      }
      packed += stored * shift;
      shift *= Math.pow(2, sub.width);
    }
    for (var key in entry) {
      if (hasKey(entry, key) && !hasKey(known, key)) {
        cborFail("field " + field.name + ": unknown item key " + JSON.stringify(key));
      }
    }
    items.push(packed);
  }
  return items;
}

// ---------------------------------------------------------------- the codec entry points

// Runs `work`; codec errors (and anything unexpected) become {errors: [...]}, never a throw.
function guarded(work) {
  try {
    return work();
  } catch (error) {
    var text = error && error.isCodecError ? error.message : "internal error: " + (error && error.message || error);
    return { errors: [DEVICE + ": " + text] };
  }
}

function inputObject(input) {
  if (!isPlainObject(input)) {
    cborFail("input must be an object");
  }
  return input;
}

function decodeUplinkImpl(input) {
  return guarded(function () {
    inputObject(input);
    return { data: decodePayload("up", input.fPort, input.bytes) };
  });
}

function decodeDownlinkImpl(input) {
  return guarded(function () {
    inputObject(input);
    return { data: decodePayload("down", input.fPort, input.bytes) };
  });
}

// input.data = {message: "<downlink name>", fields: {...}}, the shape decodeDownlink returns.
function encodeDownlinkImpl(input) {
  return guarded(function () {
    var data = inputObject(input).data;
    if (!isPlainObject(data) || typeof data.message !== "string") {
      cborFail("input.data must be {\"message\": \"<downlink name>\", \"fields\": {...}}");
    }
    for (var key in data) {
      if (hasKey(data, key) && key !== "message" && key !== "fields") {
        cborFail("input.data has an unknown key " + JSON.stringify(key) + " (expected message and fields)");
      }
    }
    return encodeMessage(data.message, hasKey(data, "fields") ? data.fields : {});
  });
}
decodeUplink = decodeUplinkImpl;
decodeDownlink = decodeDownlinkImpl;
encodeDownlink = encodeDownlinkImpl;
})();
