// The portable-subset gate: every construct in device/ must run on Espruino (after esbuild) and on NodeMCU
// Lua (after typescript-to-lua). The rules come from DESIGN.md, "The portable subset". Each rule has a
// stable id and a message that says what to write instead. Type-only constructs (interfaces, type aliases,
// annotations, `import type`, `as`, `!`) are never looked at: they do not reach either runtime.

import ts from "typescript";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkEspruinoSyntaxNode, type EspruinoSyntaxOptions, isFunctionWithBody } from "./espruino-rules";

export interface Finding {
  file: string;
  line: number;
  column: number;
  rule: string;
  message: string;
}

/** Rule id -> what is wrong and what to write instead. */
export const RULES: Readonly<Record<string, string>> = {
  // Espruino
  "default-parameter": "default parameters do not run on Espruino: give the argument explicitly (callers pass it)",
  destructuring: "destructuring does not run on Espruino: read the fields one by one (const a = o.a; const b = o.b)",
  "spread-rest":
    "spread and rest do not run on Espruino: pass the arguments one by one, copy with an index loop, or take an array parameter",
  "computed-key":
    "computed keys do not run on Espruino: use a plain member name, or assign obj[key] = value after creating the object",
  "labelled-statement":
    "labels (labelled break/continue) do not run on Espruino: use a flag variable, or move the loop into a function and return",
  "optional-chaining": "?. does not run on Espruino: test explicitly (x !== null ? x.y : ...)",
  exponent: "** does not run on Espruino: multiply, or use Math.pow",
  "logical-assignment": "??=, ||= and &&= do not run on Espruino: write if (x === null) { x = ...; }",
  "async-await": "async/await does not run on Espruino: use callbacks, or then/catch on a Promise",
  generator: "generators do not run on Espruino: keep the state in an object with an explicit next() method",
  "map-set-symbol":
    "Map, Set, WeakMap, WeakSet, WeakRef and Symbol (and so iterators) exist neither on Espruino nor in NodeMCU Lua: use preallocated arrays, slots or plain objects",
  "array-from": "Array.from does not exist on Espruino: build the array with an index loop and push",
  "promise-race-finally":
    "Promise.race/any/allSettled and .finally() do not exist on Espruino: use then/catch (and Promise.all)",
  "array-method":
    "Array.prototype methods other than push, pop and indexOf (slice, map, forEach, ...) are missing on Espruino: write an index loop",
  "extends-error": "class X extends Error does not work on Espruino: return a numeric error code instead",
  "loop-closure":
    "for (let ...) has no per-iteration binding on Espruino, so this closure sees the last value of the loop variable: pass the value as an argument, or make the closure in a function called from the loop",
  "fromcharcode-apply":
    "String.fromCharCode.apply takes at most 256 arguments on Espruino: go through the platform byte layer, or build the string in chunks",
  "private-field": "#private members are lowered by esbuild to WeakMap, which Espruino lacks: use a TypeScript `private` field",
  "static-block": "class static blocks do not run on Espruino: initialise with a module-level statement",
  // typescript-to-lua / NodeMCU
  continue:
    "continue becomes goto in typescript-to-lua, which Lua 5.1 cannot parse: put the rest of the loop body under an if/else",
  "unsigned-shift": ">>> breaks on Lua 5.3 with 32-bit integers: divide (Math.floor(x / 65536)) or use >> with a mask",
  "tostring-radix": "toString(radix) is not supported by typescript-to-lua: write the digits with an explicit loop",
  "new-error": "new Error needs debug.getinfo, which NodeMCU's Lua 5.1 lacks: return a numeric error code",
  throw: "device code does not throw: return a numeric error code (as device/codec/errors.ts does)",
  truthiness:
    "'' and 0 are truthy in Lua: compare explicitly (n !== 0, s !== \"\", x !== null), and no || for defaults",
  regex: "regular expressions do not exist in NodeMCU Lua: scan the characters with charCodeAt",
  bigint: "BigInt exists neither on Espruino nor in NodeMCU Lua: keep integers below 2^31, or split them in two halves",
  "large-integer":
    "integers of 2^31 and more break on Lua 5.3 with 32-bit integers (a hex literal even wraps to a negative number): keep integers below 2^31, split into high and low halves",
  "for-of-non-array":
    "for-of runs only over arrays in the portable subset (strings, typed arrays and iterables do not translate): use an index loop",
  "too-many-locals":
    "too many locals in one function for NodeMCU's Lua 5.1 (about 50, and typescript-to-lua adds temporaries): at most 40, split the function",
  // Runtime specifics stay in the platform layer
  "typed-array-outside-platform":
    "typed arrays do not exist in NodeMCU Lua (new Uint8Array fails at run time): allocate and access bytes through device/platform (newBytes, byteAt, setByte)",
  "bytes-index":
    "a buffer is read and written through the byte layer (byteAt, setByte): on NodeMCU a received buffer is a Lua string, which cannot be indexed",
  "runtime-global-outside-platform":
    "runtime-specific globals belong in device/platform/: take what you need from the platform layer or as an injected callback",
  "node-import":
    "device code has no runtime dependencies: import only relative device/ modules (node: and package imports belong in device/platform/node* and device/platform/bytes.ts)",
  "dynamic-import": "import() exists neither on Espruino nor in NodeMCU Lua: use a static relative import",
};

export const MAX_LOCALS = 40;

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

const MAP_SET_SYMBOL = new Set(["Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry", "Symbol"]);
const TYPED_ARRAYS = new Set([
  "Uint8Array", "Int8Array", "Uint8ClampedArray", "Uint16Array", "Int16Array", "Uint32Array", "Int32Array",
  "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "DataView", "ArrayBuffer", "SharedArrayBuffer",
]);
const RUNTIME_GLOBALS = new Set([
  // Node
  "Buffer", "process", "require", "module", "exports", "global", "globalThis", "__dirname", "__filename",
  "TextDecoder", "TextEncoder", "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval",
  "clearImmediate", "queueMicrotask", "console", "performance", "fetch", "structuredClone", "atob", "btoa",
  // The clock and text formats differ per runtime (Lua has neither Date nor JSON).
  "Date", "JSON",
  // Espruino and NodeMCU
  "E", "Serial1", "ESP32", "ESP8266", "tmr", "wifi", "net", "tls", "sjson", "node",
]);
const ERROR_CLASSES = new Set([
  "Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError", "AggregateError",
]);
const ARRAY_MEMBERS_ALLOWED = new Set(["length", "push", "pop", "indexOf"]);
const PROMISE_MISSING = new Set(["race", "any", "allSettled"]);

function relativeName(fileName: string): string {
  return path.relative(ROOT, path.resolve(ROOT, fileName)).split(path.sep).join("/");
}

function inPlatform(rel: string): boolean {
  return rel.startsWith("device/platform/");
}

/** The Node byte layer and the Node platform files may import node: modules and packages. */
function mayImportPackages(rel: string): boolean {
  return rel === "device/platform/bytes.ts" || /^device\/platform\/node(\/|\.ts$|[-_.])/.test(rel);
}

let cachedOptions: ts.CompilerOptions | undefined;

function compilerOptions(): ts.CompilerOptions {
  if (cachedOptions === undefined) {
    const configPath = path.join(ROOT, "tsconfig.json");
    const read = ts.readConfigFile(configPath, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(read.config ?? {}, ts.sys, ROOT, undefined, configPath);
    cachedOptions = { ...parsed.options, noEmit: true };
  }
  return cachedOptions;
}

// Library and declaration files parsed once and shared by every program this module builds (fixtures build one
// program each; the lib and @types/node files are by far the largest part of the work).
const sourceFileCache = new Map<string, ts.SourceFile>();

// File-system probes of module resolution, remembered for installed packages (which do not change during a
// run); device/ files are always looked up afresh.
const probeCache = new Map<string, unknown>();

function probe<T>(kind: string, name: string, look: () => T): T {
  if (!name.includes("/node_modules")) return look();
  const key = `${kind}:${name}`;
  if (probeCache.has(key)) return probeCache.get(key) as T;
  const value = look();
  probeCache.set(key, value);
  return value;
}

function makeHost(options: ts.CompilerOptions, extra: Map<string, string>): ts.CompilerHost {
  const host = ts.createCompilerHost(options, true);
  const baseFileExists = host.fileExists.bind(host);
  const baseReadFile = host.readFile.bind(host);
  const baseDirectoryExists = host.directoryExists?.bind(host);
  const baseRealpath = host.realpath?.bind(host);
  host.fileExists = (fileName) =>
    extra.has(path.resolve(fileName)) || probe("f", fileName, () => baseFileExists(fileName));
  if (baseDirectoryExists !== undefined) {
    host.directoryExists = (name) => probe("d", name, () => baseDirectoryExists(name));
  }
  if (baseRealpath !== undefined) {
    host.realpath = (name) => probe("r", name, () => baseRealpath(name));
  }
  host.readFile = (fileName) => extra.get(path.resolve(fileName)) ?? baseReadFile(fileName);
  host.getSourceFile = (fileName, languageVersion, onError) => {
    const abs = path.resolve(fileName);
    const text = extra.get(abs);
    if (text !== undefined) {
      return ts.createSourceFile(fileName, text, languageVersion, true);
    }
    const cached = sourceFileCache.get(abs);
    if (cached !== undefined) {
      return cached;
    }
    const content = baseReadFile(fileName);
    if (content === undefined) {
      if (onError) onError(`cannot read ${fileName}`);
      return undefined;
    }
    // Comments in declaration files carry no types for TypeScript sources: skip parsing them as JSDoc.
    const parse: ts.CreateSourceFileOptions =
      typeof languageVersion === "object" ? { ...languageVersion } : { languageVersion };
    if (fileName.endsWith(".d.ts")) parse.jsDocParsingMode = ts.JSDocParsingMode.ParseNone;
    const created = ts.createSourceFile(fileName, content, parse, true);
    // Only files that do not change during a run are worth keeping: libraries and declaration files.
    if (created.isDeclarationFile) {
      sourceFileCache.set(abs, created);
    }
    return created;
  };
  return host;
}

function runProgram(rootNames: string[], extra: Map<string, string>): Finding[] {
  const options = compilerOptions();
  const program = ts.createProgram({ rootNames, options, host: makeHost(options, extra) });
  const checker = program.getTypeChecker();
  const findings: Finding[] = [];
  for (const name of rootNames) {
    const sf = program.getSourceFile(name);
    if (sf === undefined) {
      throw new Error(`portable-subset gate: cannot read ${name}`);
    }
    findings.push(...checkSourceFile(sf, checker));
  }
  findings.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column));
  return findings;
}

/** Checks files on disk (absolute, or relative to the project root) in one program. */
export function checkFiles(fileNames: string[]): Finding[] {
  return runProgram(fileNames.map((f) => path.resolve(ROOT, f)), new Map());
}

/** Checks one in-memory file; `fileName` is relative to the project root (e.g. device/codec/fixture.ts). */
export function checkSource(fileName: string, text: string): Finding[] {
  const abs = path.resolve(ROOT, fileName);
  return runProgram([abs], new Map([[abs, text]]));
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column} ${f.rule} — ${f.message}`;
}

// ---------------------------------------------------------------------------------------------------------

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  return modifiers !== undefined && modifiers.some((m) => m.kind === kind);
}

/** Declared with `declare` (itself or an enclosing declaration): it describes something, it runs nothing. */
function isAmbient(node: ts.Node): boolean {
  for (let n: ts.Node | undefined = node; n !== undefined; n = n.parent) {
    if (ts.isSourceFile(n)) return n.isDeclarationFile;
    if (hasModifier(n, ts.SyntaxKind.DeclareKeyword)) return true;
  }
  return false;
}

function boundNames(name: ts.BindingName, out: ts.Identifier[]): ts.Identifier[] {
  if (ts.isIdentifier(name)) {
    out.push(name);
  } else {
    for (const element of name.elements) {
      if (ts.isBindingElement(element)) boundNames(element.name, out);
    }
  }
  return out;
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const clause = node.importClause;
  if (clause === undefined) return false; // `import "x"` runs x
  if (clause.isTypeOnly) return true;
  if (clause.name !== undefined) return false;
  const bindings = clause.namedBindings;
  if (bindings === undefined || ts.isNamespaceImport(bindings)) return false;
  return bindings.elements.length > 0 && bindings.elements.every((e) => e.isTypeOnly);
}

function isRelativeSpecifier(spec: string): boolean {
  return spec.startsWith("./") || spec.startsWith("../") || spec === "." || spec === "..";
}

function checkSourceFile(sf: ts.SourceFile, checker: ts.TypeChecker): Finding[] {
  const rel = relativeName(sf.fileName);
  const platform = inPlatform(rel);
  const packageImports = mayImportPackages(rel);
  const findings: Finding[] = [];
  const destructuringTargets = new Set<ts.Node>();

  function report(node: ts.Node, rule: string, detail?: string): void {
    const base = RULES[rule];
    if (base === undefined) throw new Error(`unknown rule ${rule}`);
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    findings.push({
      file: rel,
      line: line + 1,
      column: character + 1,
      rule,
      message: detail === undefined ? base : `${detail}: ${base}`,
    });
  }

  /** The symbol an identifier in value position refers to, through import aliases. */
  function valueSymbol(id: ts.Identifier): ts.Symbol | undefined {
    let symbol = ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id
      ? checker.getShorthandAssignmentValueSymbol(id.parent)
      : checker.getSymbolAtLocation(id);
    if (symbol !== undefined && (symbol.flags & ts.SymbolFlags.Alias) !== 0) {
      symbol = checker.getAliasedSymbol(symbol);
    }
    return symbol;
  }

  /** True when `id` (in value position) is the runtime's global of that name, not something device/ declared. */
  function isGlobal(id: ts.Identifier): boolean {
    const symbol = valueSymbol(id);
    if (symbol === undefined || symbol.declarations === undefined || symbol.declarations.length === 0) {
      return true; // unresolved: only the runtime could provide it
    }
    return symbol.declarations.every(isAmbient);
  }

  function isGlobalNamed(node: ts.Node, name: string): boolean {
    return ts.isIdentifier(node) && node.text === name && isGlobal(node);
  }

  /** An identifier that names something rather than refers to a value. */
  function isNamePosition(id: ts.Identifier): boolean {
    const p = id.parent;
    if (ts.isPropertyAccessExpression(p) && p.name === id) return true;
    if (ts.isQualifiedName(p) && p.right === id) return true;
    if (ts.isPropertyAssignment(p) && p.name === id) return true;
    if (ts.isLabeledStatement(p) || ts.isBreakStatement(p) || ts.isContinueStatement(p)) return true;
    if (ts.isImportSpecifier(p) || ts.isExportSpecifier(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return true;
    if (ts.isMetaProperty(p)) return true;
    if (ts.isBindingElement(p) && p.propertyName === id) return true;
    if (ts.isJsxAttribute(p)) return true;
    const named = p as ts.Node & { name?: ts.Node };
    if (named.name === id && !ts.isShorthandPropertyAssignment(p)) return true; // declarations, members
    return false;
  }

  function isArrayLike(type: ts.Type): boolean {
    return checker.isArrayType(type) || checker.isTupleType(type);
  }

  /** The receiver is an Array (or a union holding one). */
  function isArrayReceiver(expr: ts.Expression): boolean {
    const type = checker.getNonNullableType(checker.getTypeAtLocation(expr));
    if (type.isUnion()) return type.types.some(isArrayLike);
    if (type.isIntersection()) return type.types.some(isArrayLike);
    return isArrayLike(type);
  }

  /** A platform buffer: Uint8Array in the Node byte layer this program is checked with. */
  function isBytes(expr: ts.Expression): boolean {
    const symbol = checker.getNonNullableType(checker.getTypeAtLocation(expr)).getSymbol();
    return symbol !== undefined && TYPED_ARRAYS.has(symbol.getName());
  }

  /** Only arrays (every member of a union) may be iterated with for-of. */
  function isArrayIterable(expr: ts.Expression): boolean {
    const type = checker.getTypeAtLocation(expr);
    if (type.isUnion()) return type.types.every(isArrayLike);
    return isArrayLike(type);
  }

  /** A type whose truthiness differs in Lua: it is or includes a string or a number (or is unknown). */
  function luaTruthinessDiffers(type: ts.Type, depth: number): boolean {
    if (depth > 8) return false;
    const f = type.flags;
    if (f & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return true;
    if (f & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.EnumLike)) return true;
    if (type.isUnionOrIntersection()) return type.types.some((t) => luaTruthinessDiffers(t, depth + 1));
    if (f & ts.TypeFlags.TypeParameter) {
      const constraint = checker.getBaseConstraintOfType(type);
      return constraint === undefined || constraint === type || luaTruthinessDiffers(constraint, depth + 1);
    }
    return false;
  }

  /** The expression's truthiness is tested (a condition, the operand of `!`, an operand of && / ||). */
  function isTested(expr: ts.Node): boolean {
    const p = expr.parent;
    if (p === undefined) return false;
    if (ts.isParenthesizedExpression(p)) return isTested(p);
    if ((ts.isIfStatement(p) || ts.isWhileStatement(p) || ts.isDoStatement(p)) && p.expression === expr) return true;
    if (ts.isForStatement(p) && p.condition === expr) return true;
    if (ts.isConditionalExpression(p) && p.condition === expr) return true;
    if (ts.isPrefixUnaryExpression(p) && p.operator === ts.SyntaxKind.ExclamationToken) return p.operand === expr;
    if (ts.isBinaryExpression(p)) {
      const op = p.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) {
        // The left operand decides; the right one is tested only when the whole expression is.
        return p.left === expr || (p.right === expr && isTested(p));
      }
    }
    return false;
  }

  function checkTruthiness(node: ts.Node): void {
    if (ts.isParenthesizedExpression(node)) return; // its inner expression is checked instead
    if (ts.isBinaryExpression(node)) {
      const op = node.operatorToken.kind;
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken) return; // operands are
    }
    if (!isTested(node)) return;
    const type = checker.getTypeAtLocation(node);
    if (luaTruthinessDiffers(type, 0)) {
      report(node, "truthiness", `truthiness test on ${checker.typeToString(type)}`);
    }
  }

  function loopVariables(loop: ts.Node): Set<ts.Symbol> | undefined {
    let list: ts.ForInitializer | undefined;
    if (ts.isForStatement(loop)) list = loop.initializer;
    else if (ts.isForOfStatement(loop) || ts.isForInStatement(loop)) list = loop.initializer;
    if (list === undefined || !ts.isVariableDeclarationList(list)) return undefined;
    if ((list.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const)) === 0) return undefined;
    const symbols = new Set<ts.Symbol>();
    for (const declaration of list.declarations) {
      for (const id of boundNames(declaration.name, [])) {
        const symbol = checker.getSymbolAtLocation(id);
        if (symbol !== undefined) symbols.add(symbol);
      }
    }
    return symbols.size > 0 ? symbols : undefined;
  }

  function references(node: ts.Node, symbols: Set<ts.Symbol>): ts.Identifier | undefined {
    let found: ts.Identifier | undefined;
    const walk = (n: ts.Node): void => {
      if (found !== undefined) return;
      if (ts.isIdentifier(n) && !isNamePosition(n)) {
        const symbol = ts.isShorthandPropertyAssignment(n.parent)
          ? checker.getShorthandAssignmentValueSymbol(n.parent)
          : checker.getSymbolAtLocation(n);
        if (symbol !== undefined && symbols.has(symbol)) {
          found = n;
          return;
        }
      }
      ts.forEachChild(n, walk);
    };
    walk(node);
    return found;
  }

  /** A closure made inside a `for (let/const ...)` loop (no function in between) that uses its variable. */
  function checkLoopClosure(fn: ts.Node): void {
    for (let p = fn.parent; p !== undefined && !ts.isSourceFile(p); p = p.parent) {
      if (isFunctionWithBody(p)) return;
      const symbols = loopVariables(p);
      if (symbols !== undefined) {
        const used = references(fn, symbols);
        if (used !== undefined) {
          report(fn, "loop-closure", `closure captures loop variable '${used.text}'`);
          return;
        }
      }
    }
  }

  function importsValue(name: ts.Identifier): boolean {
    const symbol = checker.getSymbolAtLocation(name);
    if (symbol === undefined) return true;
    const target = (symbol.flags & ts.SymbolFlags.Alias) !== 0 ? checker.getAliasedSymbol(symbol) : symbol;
    return (target.flags & ts.SymbolFlags.Value) !== 0 || (target.flags & ts.SymbolFlags.Alias) !== 0;
  }

  /** Locals of one Lua function: parameters, variables, nested function/class declarations. */
  function countLocals(body: ts.Node, moduleScope: boolean): number {
    let count = 0;
    const walk = (n: ts.Node): void => {
      if (ts.isVariableDeclaration(n)) {
        count += boundNames(n.name, []).length;
        if (n.initializer !== undefined) walk(n.initializer);
        return;
      }
      if (ts.isClassDeclaration(n)) {
        // typescript-to-lua keeps a local for every class, exported ones included (local X = ____exports.X).
        if (!isAmbient(n)) count += 1;
        return;
      }
      if (ts.isFunctionDeclaration(n) || ts.isEnumDeclaration(n)) {
        // Exported functions and enums live in the module table.
        if (!(moduleScope && hasModifier(n, ts.SyntaxKind.ExportKeyword)) && !isAmbient(n)) count += 1;
        return;
      }
      if (isFunctionWithBody(n) || ts.isClassExpression(n) || ts.isInterfaceDeclaration(n) || ts.isTypeAliasDeclaration(n)) {
        return;
      }
      if (ts.isImportDeclaration(n)) {
        // local ____wire = require("wire"); local readU16 = ____wire.readU16 -- one local per value import.
        if (isTypeOnlyImport(n) || n.importClause === undefined) return;
        const clause = n.importClause;
        let values = 0;
        if (clause.name !== undefined && importsValue(clause.name)) values += 1;
        const bindings = clause.namedBindings;
        if (bindings !== undefined) {
          if (ts.isNamespaceImport(bindings)) values += 1;
          else values += bindings.elements.filter((e) => !e.isTypeOnly && importsValue(e.name)).length;
        }
        if (values > 0) count += values + 1; // and the module table
        return;
      }
      if (moduleScope && ts.isVariableStatement(n) && (hasModifier(n, ts.SyntaxKind.ExportKeyword) || isAmbient(n))) {
        return; // exported: a field of the module table, not a local
      }
      ts.forEachChild(n, walk);
    };
    walk(body);
    return count;
  }

  function checkLocals(node: ts.Node, body: ts.Node, parameters: readonly ts.ParameterDeclaration[], what: string): void {
    let count = countLocals(body, ts.isSourceFile(node));
    for (const parameter of parameters) {
      if (ts.isIdentifier(parameter.name) && parameter.name.text === "this") continue;
      count += boundNames(parameter.name, []).length;
    }
    if (count > MAX_LOCALS) {
      const hint = ts.isSourceFile(node)
        ? " (each imported value is a local: a namespace import, import * as wire from \"./wire\", is one)"
        : "";
      report(node, "too-many-locals", `${count} locals in ${what}${hint}`);
    }
  }

  // The Espruino syntax rules (shared with the bundle gate): a destructuring assignment or a binding pattern is
  // reported once, as destructuring, not again for the spread, rest or computed key inside it.
  const espruinoOptions: EspruinoSyntaxOptions = {
    isDestructuringTarget: (n) => destructuringTargets.has(n),
    onDestructuringAssignment: collectDestructuringTarget,
    bindingPatternOnce: true,
  };

  function collectDestructuringTarget(node: ts.Node): void {
    if (ts.isArrayLiteralExpression(node) || ts.isObjectLiteralExpression(node)) {
      destructuringTargets.add(node);
      ts.forEachChild(node, collectDestructuringTarget);
    } else if (ts.isPropertyAssignment(node)) {
      collectDestructuringTarget(node.initializer);
    } else if (ts.isSpreadElement(node) || ts.isSpreadAssignment(node)) {
      collectDestructuringTarget(node.expression);
    } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
      collectDestructuringTarget(node.left); // [a = 1] = x
    }
  }

  function checkImportSpecifier(specifier: ts.Expression | undefined): void {
    if (specifier === undefined || !ts.isStringLiteralLike(specifier)) return;
    if (isRelativeSpecifier(specifier.text) || packageImports) return;
    report(specifier, "node-import", `import of '${specifier.text}'`);
  }

  function visitIdentifier(id: ts.Identifier): void {
    const name = id.text;
    const interesting =
      MAP_SET_SYMBOL.has(name) ||
      TYPED_ARRAYS.has(name) ||
      RUNTIME_GLOBALS.has(name) ||
      ERROR_CLASSES.has(name) ||
      name === "BigInt" ||
      name === "RegExp";
    if (!interesting || isNamePosition(id) || !isGlobal(id)) return;
    if (MAP_SET_SYMBOL.has(name)) report(id, "map-set-symbol", name);
    else if (TYPED_ARRAYS.has(name)) {
      if (!platform) report(id, "typed-array-outside-platform", name);
    } else if (RUNTIME_GLOBALS.has(name)) {
      if (!platform) report(id, "runtime-global-outside-platform", name);
    } else if (name === "BigInt") report(id, "bigint");
    else if (name === "RegExp") report(id, "regex");
    else if (ERROR_CLASSES.has(name)) {
      const p = id.parent;
      if ((ts.isNewExpression(p) || ts.isCallExpression(p)) && p.expression === id) {
        report(p, "new-error", ts.isNewExpression(p) ? `new ${name}` : `${name}()`);
      }
    }
  }

  function visit(node: ts.Node): void {
    // Type-only constructs never reach a runtime.
    if (
      ts.isInterfaceDeclaration(node) ||
      ts.isTypeAliasDeclaration(node) ||
      ts.isTypeParameterDeclaration(node) ||
      (ts.isTypeNode(node) && !ts.isExpressionWithTypeArguments(node)) ||
      (ts.isImportDeclaration(node) && isTypeOnlyImport(node)) ||
      (ts.isExportDeclaration(node) && node.isTypeOnly) ||
      (ts.isImportEqualsDeclaration(node) && node.isTypeOnly) ||
      hasModifier(node, ts.SyntaxKind.DeclareKeyword)
    ) {
      return;
    }

    if (ts.isHeritageClause(node)) {
      if (node.token === ts.SyntaxKind.ExtendsKeyword && ts.isClassLike(node.parent)) {
        for (const base of node.types) {
          const expr = base.expression;
          if (ts.isIdentifier(expr) && ERROR_CLASSES.has(expr.text) && isGlobal(expr)) {
            report(base, "extends-error", `extends ${expr.text}`);
          } else {
            visit(expr);
          }
        }
      }
      return; // implements: type-only
    }

    checkTruthiness(node);
    checkEspruinoSyntaxNode(node, sf, report, espruinoOptions);
    if (ts.isPropertyAccessExpression(node)) visitPropertyAccess(node);
    else if (ts.isElementAccessExpression(node)) visitElementAccess(node);
    else if (ts.isCallExpression(node)) visitCall(node);

    switch (node.kind) {
      case ts.SyntaxKind.ContinueStatement:
        report(node, "continue");
        break;
      case ts.SyntaxKind.ThrowStatement:
        report(node, "throw");
        break;
      case ts.SyntaxKind.RegularExpressionLiteral:
        report(node, "regex");
        break;
      case ts.SyntaxKind.BigIntLiteral:
        report(node, "bigint");
        break;
      case ts.SyntaxKind.NumericLiteral: {
        const value = Number((node as ts.NumericLiteral).text);
        if (Number.isInteger(value) && value >= 2147483648) report(node, "large-integer", (node as ts.NumericLiteral).getText(sf));
        break;
      }
      case ts.SyntaxKind.PrivateIdentifier:
        if (
          ts.isPropertyDeclaration(node.parent) ||
          ts.isMethodDeclaration(node.parent) ||
          ts.isGetAccessorDeclaration(node.parent) ||
          ts.isSetAccessorDeclaration(node.parent)
        ) {
          report(node, "private-field", (node as ts.PrivateIdentifier).text);
        }
        break;
      case ts.SyntaxKind.Identifier:
        visitIdentifier(node as ts.Identifier);
        break;
      case ts.SyntaxKind.BinaryExpression: {
        const op = (node as ts.BinaryExpression).operatorToken;
        const unsigned = ts.SyntaxKind.GreaterThanGreaterThanGreaterThanToken;
        if (op.kind === unsigned || op.kind === ts.SyntaxKind.GreaterThanGreaterThanGreaterThanEqualsToken) {
          report(op, "unsigned-shift", op.getText(sf));
        }
        break;
      }
      case ts.SyntaxKind.ForOfStatement: {
        const f = node as ts.ForOfStatement;
        if (!isArrayIterable(f.expression)) {
          report(f.expression, "for-of-non-array", `for-of over ${checker.typeToString(checker.getTypeAtLocation(f.expression))}`);
        }
        break;
      }
      case ts.SyntaxKind.ImportDeclaration:
        checkImportSpecifier((node as ts.ImportDeclaration).moduleSpecifier);
        break;
      case ts.SyntaxKind.ExportDeclaration:
        checkImportSpecifier((node as ts.ExportDeclaration).moduleSpecifier);
        break;
      case ts.SyntaxKind.ImportEqualsDeclaration: {
        const ref = (node as ts.ImportEqualsDeclaration).moduleReference;
        if (ts.isExternalModuleReference(ref)) checkImportSpecifier(ref.expression);
        break;
      }
      case ts.SyntaxKind.SourceFile:
        checkLocals(node, node, [], "the module body");
        break;
    }

    if (isFunctionWithBody(node)) {
      checkLoopClosure(node);
      const name = node.name !== undefined && !ts.isComputedPropertyName(node.name) ? node.name.getText(sf) : undefined;
      checkLocals(node, node.body!, node.parameters, name === undefined ? "a function" : `function '${name}'`);
    }

    ts.forEachChild(node, visit);
  }

  function visitPropertyAccess(node: ts.PropertyAccessExpression): void {
    const member = node.name.text;
    const target = node.expression;
    if (member === "from" && isGlobalNamed(target, "Array")) {
      report(node, "array-from");
    } else if (PROMISE_MISSING.has(member) && isGlobalNamed(target, "Promise")) {
      report(node, "promise-race-finally", `Promise.${member}`);
    } else if (
      member === "apply" &&
      ts.isPropertyAccessExpression(target) &&
      target.name.text === "fromCharCode" &&
      isGlobalNamed(target.expression, "String")
    ) {
      report(node, "fromcharcode-apply");
    } else if (!ARRAY_MEMBERS_ALLOWED.has(member) && isArrayReceiver(target)) {
      report(node.name, "array-method", `array member '${member}'`);
    }
  }

  function visitElementAccess(node: ts.ElementAccessExpression): void {
    const arg = node.argumentExpression;
    if (!platform && isBytes(node.expression)) {
      report(node, "bytes-index");
    }
    if (ts.isStringLiteralLike(arg) && !ARRAY_MEMBERS_ALLOWED.has(arg.text) && isArrayReceiver(node.expression)) {
      report(node, "array-method", `array member '${arg.text}'`);
    }
  }

  function visitCall(node: ts.CallExpression): void {
    const callee = node.expression;
    if (callee.kind === ts.SyntaxKind.ImportKeyword) {
      if (!packageImports) report(node, "dynamic-import");
      return;
    }
    if (ts.isPropertyAccessExpression(callee)) {
      const member = callee.name.text;
      if (member === "finally") report(callee.name, "promise-race-finally", ".finally()");
      // E.toString(bytes) is how the Espruino platform file turns bytes into a binary string (DESIGN.md).
      const espruinoE = platform && isGlobalNamed(callee.expression, "E");
      if (member === "toString" && node.arguments.length > 0 && !espruinoE) {
        report(callee.name, "tostring-radix", "toString(radix)");
      }
    }
  }

  visit(sf);
  return findings;
}
