// Which property names the Espruino build may mangle (scripts/build.ts), derived from the types of the code
// being bundled, so that nothing is kept by hand. esbuild renames a property by its name wherever it occurs,
// so the question is per name: a name may be shortened only when no code outside the module can see it.
//
//   mangled  = the names declared as members (class fields and methods, interface and object-literal members)
//              in the bundled source files,
//   minus      the public names: every non-private member reachable from the types of the module's ambient
//              declarations. Those are `declare const exports: {...}` in the entry (what a maker's code
//              touches: the exported classes, the parameters of their constructors and methods, what those
//              return, the events object a maker passes and the packet it is handed, transitively), and the
//              host APIs the device code declares (`require("net")`'s socket, `E`, `getTime`, ...);
//   minus      every name a library declaration file declares (length, subarray, set, charCodeAt, buffer, ...),
//              in case a device class uses one of them for a member of its own;
//   minus      the names the bundled files export (a namespace import, `import * as mqtt`, reads them as
//              members).
//
// A private member (TypeScript `private`) is not public, even on an exported class: it is what gets
// mangled. A name that is public anywhere stays whole everywhere.

import path from "node:path";
import ts from "typescript";

export interface PropertyNames {
  /** Names esbuild may mangle, sorted. */
  mangled: string[];
}

function hasModifier(node: ts.Node, kind: ts.SyntaxKind): boolean {
  return ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === kind);
}

/** The identifier naming a member, or undefined for a computed, quoted or private (#) name. */
function memberName(node: ts.Node): string | undefined {
  if (ts.isPropertyDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node) || ts.isPropertySignature(node) || ts.isMethodSignature(node) ||
    ts.isPropertyAssignment(node) || ts.isShorthandPropertyAssignment(node)) {
    return ts.isIdentifier(node.name) ? node.name.text : undefined;
  }
  if (ts.isParameter(node) && ts.isIdentifier(node.name) && ts.isConstructorDeclaration(node.parent) &&
    ts.isParameterPropertyDeclaration(node, node.parent)) {
    return node.name.text;
  }
  return undefined;
}

function walk(node: ts.Node, visit: (node: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

/**
 * `files`: the source files esbuild bundled (absolute paths; its metafile's inputs). They are type-checked
 * together, with the library of tsconfig.json. `opaque`: names of types whose members are not to count as
 * public (for bench/size-whatif.ts: what an API that does not hand out that type would save).
 */
export function espruinoPropertyNames(files: string[], opaque: string[] = []): PropertyNames {
  const program = ts.createProgram(files, {
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2020.d.ts"],
    types: [],
    strict: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const bundled = new Set(files.map((f) => path.resolve(f)));
  const sources = program.getSourceFiles().filter((sf) => bundled.has(path.resolve(sf.fileName)));
  const isLibrary = (sf: ts.SourceFile): boolean =>
    program.isSourceFileDefaultLibrary(sf) || program.isSourceFileFromExternalLibrary(sf) || sf.isDeclarationFile;

  const declared = new Set<string>();
  const exported = new Set<string>();
  const ambientTypes: ts.Type[] = [];
  for (const sf of sources) {
    walk(sf, (node) => {
      const name = memberName(node);
      if (name !== undefined) {
        declared.add(name);
      }
    });
    const moduleSymbol = checker.getSymbolAtLocation(sf);
    for (const symbol of moduleSymbol === undefined ? [] : checker.getExportsOfModule(moduleSymbol)) {
      exported.add(symbol.name);
    }
    for (const statement of sf.statements) {
      if (!hasModifier(statement, ts.SyntaxKind.DeclareKeyword)) {
        continue;
      }
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations) {
          ambientTypes.push(checker.getTypeAtLocation(declaration.name));
        }
      } else if (ts.isFunctionDeclaration(statement) && statement.name !== undefined) {
        ambientTypes.push(checker.getTypeAtLocation(statement.name));
      }
    }
  }

  const library = new Set<string>();
  for (const sf of program.getSourceFiles().filter(isLibrary)) {
    walk(sf, (node) => {
      const name = memberName(node);
      if (name !== undefined) {
        library.add(name);
      }
    });
  }

  // Every non-private member reachable from the ambient declarations' types.
  const publicNames = new Set<string>();
  const seen = new Set<ts.Type>();
  const isPrivate = (symbol: ts.Symbol): boolean => (symbol.declarations ?? []).some((d) =>
    hasModifier(d, ts.SyntaxKind.PrivateKeyword) || hasModifier(d, ts.SyntaxKind.ProtectedKeyword));
  const fromLibrary = (type: ts.Type): boolean => {
    const declarations = (type.getSymbol() ?? type.aliasSymbol)?.declarations ?? [];
    return declarations.length > 0 && declarations.every((d) => isLibrary(d.getSourceFile()));
  };
  const visitSignature = (signature: ts.Signature): void => {
    for (const parameter of signature.getParameters()) {
      visitType(checker.getTypeOfSymbol(parameter));
    }
    visitType(signature.getReturnType());
  };
  const visitType = (type: ts.Type): void => {
    if (seen.has(type)) {
      return;
    }
    seen.add(type);
    if (type.isUnionOrIntersection()) {
      type.types.forEach(visitType);
      return;
    }
    // Strings, numbers and the like: their members are the library's.
    if ((type.flags & ts.TypeFlags.Object) === 0) {
      return;
    }
    const reference = type as ts.TypeReference;
    if ((reference.objectFlags & ts.ObjectFlags.Reference) !== 0) {
      checker.getTypeArguments(reference).forEach(visitType);
    }
    if (fromLibrary(type) || opaque.includes(type.getSymbol()?.name ?? "")) {
      return;
    }
    for (const property of checker.getPropertiesOfType(type)) {
      if (isPrivate(property)) {
        continue;
      }
      publicNames.add(property.name);
      visitType(checker.getTypeOfSymbol(property));
    }
    type.getCallSignatures().forEach(visitSignature);
    type.getConstructSignatures().forEach(visitSignature);
  };
  ambientTypes.forEach(visitType);

  const mangled = [...declared].filter((name) => !publicNames.has(name) && !library.has(name) && !exported.has(name));
  return { mangled: mangled.sort() };
}
