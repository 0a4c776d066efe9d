// The syntax gate for the built Espruino modules (DESIGN.md, "The portable subset"): parses a bundle with the
// TypeScript compiler (as JavaScript) and refuses every construct the Espruino interpreter lacks, with its
// line, column and the text around it. device/ sources already pass the portable-subset gate; this one checks
// what esbuild made of them, so that a lowering esbuild does not do, a helper it injects, or a global nobody
// meant to use is caught before a board is.

import ts from "typescript";
import { checkEspruinoSyntaxNode, isFunctionWithBody } from "../portable/espruino-rules";

export interface SyntaxFinding {
  rule: string;
  line: number;
  column: number;
  /** The bundle text at the finding (minified code is one long line). */
  excerpt: string;
  message: string;
}

export const SYNTAX_RULES: Readonly<Record<string, string>> = {
  "default-parameter": "default parameters do not run on Espruino",
  destructuring: "destructuring does not run on Espruino",
  "spread-rest": "spread and rest do not run on Espruino",
  "computed-key": "computed keys do not run on Espruino",
  "labelled-statement": "labelled statements (labelled break/continue) do not run on Espruino",
  "optional-chaining": "?. does not run on Espruino",
  exponent: "** does not run on Espruino",
  "logical-assignment": "??=, ||= and &&= do not run on Espruino",
  "async-await": "async/await does not run on Espruino",
  generator: "generators do not run on Espruino",
  "map-set-symbol": "Map, Set, WeakMap, WeakSet, WeakRef and Symbol do not exist on Espruino",
  "array-from": "Array.from does not exist on Espruino",
  "promise-race-finally": "Promise.race/any/allSettled and .finally() do not exist on Espruino",
  "array-method": "Array.prototype.slice, map and friends are missing on Espruino (only push, pop, indexOf)",
  "extends-error": "class X extends Error does not work on Espruino",
  "loop-closure": "for (let ...) has no per-iteration binding on Espruino: a closure in the loop sees the last value",
  "fromcharcode-apply": "String.fromCharCode.apply takes at most 256 arguments on Espruino",
  "private-field": "#private class members do not run on Espruino",
  "static-block": "class static blocks do not run on Espruino",
  "optional-catch-binding": "Espruino's parser wants catch (e): catch without a binding does not parse",
  "es-module": "Espruino modules are not ES modules: no import or export statements, no import() or import.meta",
  require: 'the module may require only Espruino\'s built-in "net" and "tls"',
  "unknown-global": "a global that Espruino does not provide (or that the module is not meant to use)",
};

/** The globals the modules may use: what Espruino provides and the device code needs. */
export const ESPRUINO_GLOBALS: ReadonlySet<string> = new Set([
  "exports", "module", "require", "E", "getTime", "setTimeout", "clearTimeout",
  "Uint8Array", "String", "Math", "Object", "Array", "Number", "Promise",
  "undefined", "NaN", "Infinity", "isNaN", "parseInt", "parseFloat",
]);

const MISSING_GLOBALS = new Set(["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol"]);
const ERROR_CLASSES = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"]);
/**
 * Members of Array.prototype that Espruino lacks. The bundle carries no types, so a call of one of these names is
 * refused whatever it is called on (strings and typed arrays have some of them; the device code uses none),
 * unless a class of the bundle defines a method of that name (the engine's Outbox.find): the portable-subset
 * gate, which has the types, checks those calls in the sources.
 */
export const ARRAY_METHODS: ReadonlySet<string> = new Set([
  "slice", "map", "forEach", "filter", "reduce", "reduceRight", "some", "every", "find", "findIndex", "findLast",
  "findLastIndex", "flat", "flatMap", "fill", "splice", "sort", "reverse", "join", "concat", "includes", "at",
  "copyWithin", "entries", "keys", "values", "shift", "unshift", "lastIndexOf",
]);
const PROMISE_MISSING = new Set(["race", "any", "allSettled"]);

/** An identifier that names a property or a label rather than refers to a binding. */
function isNamePosition(id: ts.Identifier): boolean {
  const p = id.parent;
  if ((ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p)) && (p as { name?: ts.Node }).name === id) return true;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) ||
    ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p)) && p.name === id) return true;
  if (ts.isLabeledStatement(p) || ts.isBreakStatement(p) || ts.isContinueStatement(p)) return true;
  if (ts.isBindingElement(p) && p.propertyName === id) return true;
  if (ts.isMetaProperty(p)) return true;
  if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p)) return true;
  return false;
}

/** An identifier that declares a binding. */
function isDeclarationName(id: ts.Identifier): boolean {
  const p = id.parent;
  if ((ts.isVariableDeclaration(p) || ts.isFunctionDeclaration(p) || ts.isFunctionExpression(p) || ts.isClassDeclaration(p) ||
    ts.isClassExpression(p) || ts.isParameter(p) || ts.isBindingElement(p)) && p.name === id) return true;
  if (ts.isImportClause(p) || ts.isNamespaceImport(p) || ts.isImportSpecifier(p)) return true;
  return false;
}

function boundNames(name: ts.BindingName, out: string[]): string[] {
  if (ts.isIdentifier(name)) {
    out.push(name.text);
  } else {
    for (const element of name.elements) {
      if (ts.isBindingElement(element)) boundNames(element.name, out);
    }
  }
  return out;
}

/** Checks JavaScript `code` (a built bundle); `fileName` only labels the parse. */
export function checkEspruinoSyntax(code: string, fileName = "bundle.js"): SyntaxFinding[] {
  const sf = ts.createSourceFile(fileName, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const findings: SyntaxFinding[] = [];

  function report(node: ts.Node, rule: string, detail?: string): void {
    const start = node.getStart(sf);
    const { line, character } = sf.getLineAndCharacterOfPosition(start);
    const from = Math.max(0, start - 30);
    const excerpt = code.slice(from, Math.min(code.length, start + 50)).replace(/\s+/g, " ");
    const base = SYNTAX_RULES[rule];
    findings.push({ rule, line: line + 1, column: character + 1, excerpt, message: detail === undefined ? base : `${detail}: ${base}` });
  }

  // Parse errors first: a bundle TypeScript cannot parse is not one to judge construct by construct.
  const diagnostics = (sf as unknown as { parseDiagnostics?: ts.Diagnostic[] }).parseDiagnostics ?? [];
  if (diagnostics.length > 0) {
    throw new Error(`${fileName}: does not parse: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, "\n")}`);
  }

  // Every name the bundle declares anywhere; a name it uses without declaring is a global.
  const declared = new Set<string>();
  const collect = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && isDeclarationName(node)) declared.add(node.text);
    ts.forEachChild(node, collect);
  };
  collect(sf);
  const ownMethods = new Set<string>();
  const collectMethods = (node: ts.Node): void => {
    if (ts.isMethodDeclaration(node) && ts.isIdentifier(node.name)) ownMethods.add(node.name.text);
    ts.forEachChild(node, collectMethods);
  };
  collectMethods(sf);

  /** Names a closure inside a `for (let/const ...)` uses that the loop declares (no function in between). */
  function checkLoopClosure(fn: ts.Node): void {
    for (let p = fn.parent; p !== undefined && !ts.isSourceFile(p); p = p.parent) {
      if (isFunctionWithBody(p)) return;
      let list: ts.ForInitializer | undefined;
      if (ts.isForStatement(p) || ts.isForOfStatement(p) || ts.isForInStatement(p)) list = p.initializer;
      if (list === undefined || !ts.isVariableDeclarationList(list)) continue;
      if ((list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) continue;
      const names = new Set<string>();
      for (const declaration of list.declarations) boundNames(declaration.name, []).forEach((n) => names.add(n));
      let used: string | undefined;
      const walk = (n: ts.Node): void => {
        if (used !== undefined) return;
        if (ts.isIdentifier(n) && names.has(n.text) && !isNamePosition(n) && !isDeclarationName(n)) {
          used = n.text;
          return;
        }
        ts.forEachChild(n, walk);
      };
      walk(fn);
      if (used !== undefined) {
        report(fn, "loop-closure", `closure captures loop variable '${used}'`);
        return;
      }
    }
  }

  function visit(node: ts.Node): void {
    // The purely syntactic rules are shared with the portable-subset gate; the ones below need the bundle's names.
    checkEspruinoSyntaxNode(node, sf, report);
    if (ts.isPropertyAccessExpression(node)) visitMember(node);
    else if (ts.isCallExpression(node)) visitCall(node);
    switch (node.kind) {
      case ts.SyntaxKind.CatchClause:
        if ((node as ts.CatchClause).variableDeclaration === undefined) report(node, "optional-catch-binding");
        break;
      case ts.SyntaxKind.PrivateIdentifier:
        report(node, "private-field", (node as ts.PrivateIdentifier).text);
        break;
      case ts.SyntaxKind.ImportDeclaration:
      case ts.SyntaxKind.ExportDeclaration:
      case ts.SyntaxKind.ExportAssignment:
        report(node, "es-module");
        break;
      case ts.SyntaxKind.MetaProperty:
        if ((node as ts.MetaProperty).keywordToken === ts.SyntaxKind.ImportKeyword) report(node, "es-module", "import.meta");
        break;
      case ts.SyntaxKind.HeritageClause: {
        const clause = node as ts.HeritageClause;
        for (const base of clause.types) {
          const expr = base.expression;
          if (ts.isIdentifier(expr) && ERROR_CLASSES.has(expr.text) && !declared.has(expr.text)) {
            report(base, "extends-error", `extends ${expr.text}`);
          }
        }
        break;
      }
      case ts.SyntaxKind.Identifier: {
        const id = node as ts.Identifier;
        if (!isNamePosition(id) && !isDeclarationName(id) && !declared.has(id.text)) {
          if (MISSING_GLOBALS.has(id.text)) report(id, "map-set-symbol", id.text);
          else if (!ESPRUINO_GLOBALS.has(id.text) && !ERROR_CLASSES.has(id.text)) report(id, "unknown-global", id.text);
        }
        break;
      }
    }
    if (isFunctionWithBody(node)) checkLoopClosure(node);
    ts.forEachChild(node, visit);
  }

  function isGlobal(node: ts.Node, name: string): boolean {
    return ts.isIdentifier(node) && node.text === name && !declared.has(name);
  }

  function visitMember(node: ts.PropertyAccessExpression): void {
    const member = node.name.text;
    const target = node.expression;
    if (member === "from" && isGlobal(target, "Array")) report(node, "array-from");
    else if (PROMISE_MISSING.has(member) && isGlobal(target, "Promise")) report(node, "promise-race-finally", `Promise.${member}`);
    else if (member === "apply" && ts.isPropertyAccessExpression(target) && target.name.text === "fromCharCode") {
      report(node, "fromcharcode-apply");
    }
  }

  function visitCall(node: ts.CallExpression): void {
    const callee = node.expression;
    if (callee.kind === ts.SyntaxKind.ImportKeyword) {
      report(node, "es-module", "import()");
      return;
    }
    if (ts.isIdentifier(callee) && callee.text === "require" && !declared.has("require")) {
      const arg = node.arguments[0];
      if (node.arguments.length !== 1 || !ts.isStringLiteral(arg) || (arg.text !== "net" && arg.text !== "tls")) {
        report(node, "require", `require(${node.arguments.map((a) => a.getText(sf)).join(", ")})`);
      }
    }
    if (ts.isPropertyAccessExpression(callee)) {
      const member = callee.name.text;
      if (member === "finally") report(callee.name, "promise-race-finally", ".finally()");
      else if (ARRAY_METHODS.has(member) && !ownMethods.has(member)) report(callee.name, "array-method", `.${member}()`);
    }
  }

  visit(sf);
  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return findings;
}

export function formatSyntaxFinding(fileName: string, f: SyntaxFinding): string {
  return `${fileName}:${f.line}:${f.column} ${f.rule} — ${f.message} — at: ${f.excerpt}`;
}
