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
