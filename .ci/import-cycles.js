#!/usr/bin/env node
/* global process, console */
// Fails (exit 1) when the project's own TypeScript files import each other in a cycle.
// Type-only imports and re-exports count: a type cycle is still a layering defect.
// Usage: node .ci/import-cycles.js lib decorators
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const files = [];
const walk = (dir) => {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.resolve(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) files.push(full);
  }
};
process.argv.slice(2).forEach(walk);
const known = new Set(files);

const resolveSpecifier = (from, specifier) => {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  return [`${base}.ts`, path.join(base, "index.ts")].find((candidate) => known.has(candidate));
};

const edges = new Map();
for (const file of files) {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest);
  const targets = new Set();
  const visit = (node) => {
    let specifier;
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      specifier = node.moduleSpecifier;
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      specifier = node.argument.literal;
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      specifier = node.arguments[0];
    }
    const target =
      specifier && ts.isStringLiteral(specifier)
        ? resolveSpecifier(file, specifier.text)
        : undefined;
    if (target) targets.add(target);
    ts.forEachChild(node, visit);
  };
  visit(source);
  edges.set(file, [...targets]);
}

// Tarjan's strongly connected components.
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
const connect = (file) => {
  index.set(file, counter);
  low.set(file, counter++);
  stack.push(file);
  onStack.add(file);
  for (const next of edges.get(file)) {
    if (!index.has(next)) {
      connect(next);
      low.set(file, Math.min(low.get(file), low.get(next)));
    } else if (onStack.has(next)) low.set(file, Math.min(low.get(file), index.get(next)));
  }
  if (low.get(file) !== index.get(file)) return;
  const component = [];
  let member;
  do {
    member = stack.pop();
    onStack.delete(member);
    component.push(member);
  } while (member !== file);
  components.push(component);
};
files.forEach((file) => index.has(file) || connect(file));

const cycles = components.filter((c) => c.length > 1 || edges.get(c[0]).includes(c[0]));
const relative = (file) => path.relative(process.cwd(), file);
for (const cycle of cycles)
  console.log(`import cycle of ${cycle.length} files: ${cycle.map(relative).sort().join(", ")}`);
console.log(
  cycles.length ? `${cycles.length} import cycle(s)` : `no import cycles (${files.length} files)`,
);
process.exitCode = cycles.length ? 1 : 0;
