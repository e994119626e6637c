// Runs JS codec cases under node; stdin: {"source", "setup", "cases": [...]}, stdout: JSON results.
// mode "script": the source is run once as a plain script in a fresh vm context, each case is an
//   expression evaluated there (returning a JSON string).
// mode "module": each case builds ChirpStack's exact ES module wrapper (import of node's "buffer",
//   the source, `export default fn(chirpstack_input)`) and imports it as a fresh data: URL module.
const vm = require("vm");

async function main() {
  const request = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const sandbox = {};
  const context = vm.createContext(sandbox);
  const before = new Set(vm.runInContext("Object.getOwnPropertyNames(globalThis)", context));
  vm.runInContext(request.source, context);
  const after = vm.runInContext("Object.getOwnPropertyNames(globalThis)", context);
  if (request.setup) {
    vm.runInContext(request.setup, context);
  }
  const results = [];
  for (let index = 0; index < request.cases.length; index++) {
    const item = request.cases[index];
    try {
      if (item.mode === "module") {
        globalThis.chirpstack_input = item.input;
        if (item.fn === "decodeUplink") {
          item.input.recvTime = new Date(1700000000000);
        }
        const source = 'import { Buffer } from "buffer";\n' + request.source + "\n" +
          "export default " + item.fn + "(chirpstack_input);\n// case " + index + "\n";
        const module = await import("data:text/javascript," + encodeURIComponent(source));
        results.push({ ok: JSON.parse(JSON.stringify(module.default)) });
      } else {
        results.push({ ok: JSON.parse(vm.runInContext(item.expr, context, { timeout: 1000 })) });
      }
    } catch (error) {
      results.push({ threw: String(error && error.stack || error) });
    }
  }
  process.stdout.write(JSON.stringify({ newGlobals: after.filter((n) => !before.has(n)), results }));
}

main().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });
