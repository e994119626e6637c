// Tingbro payload codec for @DEVICE@ devices: ChirpStack v4 device profiles and TTN.
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
@MESSAGE_TABLE@
var decodeUplink, decodeDownlink, encodeDownlink;
(function () {
"use strict";
var DEVICE = @DEVICE_JSON@;
var MESSAGES = @MESSAGES_JSON@;

@CBOR_CORE@
@MESSAGE_CODEC@
decodeUplink = decodeUplinkImpl;
decodeDownlink = decodeDownlinkImpl;
encodeDownlink = encodeDownlinkImpl;
})();
