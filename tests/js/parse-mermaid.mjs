// Parse Mermaid diagrams with the real `mermaid` package and report what it read, one JSON line per file.
//
//   node tests/js/parse-mermaid.mjs FILE...
//
// For each file: {"file", "ok": true, "type", "title", "actors": [[id, label]], "messages": [{from, to, type, text}]}
// or {"file", "ok": false, "error"}. Entity codes (#59;) come back decoded, so a label reads as the text it renders.
// Used by tests/test_formats.py; install with `npm ci --prefix tests/js`.
import { readFileSync } from "node:fs";
import { JSDOM } from "jsdom";

// mermaid sanitises labels with DOMPurify, which needs a DOM: give it jsdom's before mermaid is loaded.
const { window } = new JSDOM("<!doctype html><html><body></body></html>");
globalThis.window = window;
globalThis.document = window.document;
const { default: mermaid } = await import("mermaid");

mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

// mermaid swaps "#59;" for a placeholder before parsing and back after rendering; undo it the way the renderer does.
const decode = (s) =>
  s == null ? s : String(s).replace(/ﬂ°°(\d+)¶ß/g, (_, n) => String.fromCodePoint(Number(n))).replace(/ﬂ°(\w+)¶ß/g, "&$1;");

async function report(file) {
  const text = readFileSync(file, "utf8");
  try {
    const diagram = await mermaid.mermaidAPI.getDiagramFromText(text); // parses (and throws) as mermaid.parse does
    const db = diagram.db;
    const actors = db.getActors ? [...db.getActors().values()].map((a) => [a.name, decode(a.description)]) : [];
    const messages = db.getMessages
      ? db.getMessages().map((m) => ({ from: m.from ?? null, to: m.to ?? null, type: m.type, text: decode(m.message) }))
      : [];
    const title = db.getDiagramTitle ? decode(db.getDiagramTitle()) : "";
    return { file, ok: true, type: diagram.type, title, actors, messages };
  } catch (e) {
    return { file, ok: false, error: String((e && e.message) || e) };
  }
}

for (const file of process.argv.slice(2)) {
  process.stdout.write(JSON.stringify(await report(file)) + "\n");
}
