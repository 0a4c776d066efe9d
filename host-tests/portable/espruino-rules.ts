// The purely syntactic Espruino rules of DESIGN.md, "The portable subset", written once and used by both gates:
// the portable-subset gate over the device/ TypeScript sources (host-tests/portable/subset.ts) and the syntax
// gate over the built Espruino bundles (host-tests/espruino/syntax.ts). Each gate calls checkEspruinoSyntaxNode
// for every node it visits, with its own report callback (and so its own messages), then adds its own rules:
// the ones that need names or types (globals, Array methods, extends Error, loop closures) differ per gate.

import ts from "typescript";

/** Reports `rule` at `node`; `detail` is put before the rule's message. */
export type EspruinoReport = (node: ts.Node, rule: string, detail?: string) => void;

/** What one gate knows that changes a syntactic rule (the source gate does not report one construct twice). */
export interface EspruinoSyntaxOptions {
  /**
   * A node that is (part of) the target of a destructuring assignment, already reported as destructuring: a
   * spread or rest inside it is not reported again.
   */
  isDestructuringTarget?(node: ts.Node): boolean;
  /** Called with the target of a destructuring assignment (`[a, b] = x`, `for ({ a } of xs)`) once reported. */
  onDestructuringAssignment?(target: ts.Expression): void;
  /**
   * A binding pattern is reported once, as destructuring: a rest element or a computed key inside it is not
   * reported again.
   */
  bindingPatternOnce?: boolean;
}

export type FunctionWithBody =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

/** A function that runs (an overload signature has no body). */
export function isFunctionWithBody(node: ts.Node): node is FunctionWithBody {
  return (
    (ts.isFunctionDeclaration(node) ||
      ts.isFunctionExpression(node) ||
      ts.isArrowFunction(node) ||
      ts.isMethodDeclaration(node) ||
      ts.isConstructorDeclaration(node) ||
      ts.isGetAccessorDeclaration(node) ||
      ts.isSetAccessorDeclaration(node)) &&
    node.body !== undefined
  );
}

/**
 * The Espruino rules that need nothing but the node itself: default parameters, destructuring, spread and rest,
 * computed keys, labels, ?., **, logical assignment, async/await, generators and class static blocks.
 */
export function checkEspruinoSyntaxNode(
  node: ts.Node,
  sf: ts.SourceFile,
  report: EspruinoReport,
  options: EspruinoSyntaxOptions = {},
): void {
  const destructuringAssignment = (target: ts.Expression): void => {
    report(target, "destructuring", "destructuring assignment");
    if (options.onDestructuringAssignment !== undefined) options.onDestructuringAssignment(target);
  };

  switch (node.kind) {
    case ts.SyntaxKind.Parameter: {
      const p = node as ts.ParameterDeclaration;
      if (p.initializer !== undefined) report(p, "default-parameter");
      if (p.dotDotDotToken !== undefined) report(p, "spread-rest", "rest parameter");
      break;
    }
    case ts.SyntaxKind.ObjectBindingPattern:
    case ts.SyntaxKind.ArrayBindingPattern:
      if (!ts.isBindingElement(node.parent)) report(node, "destructuring");
      break;
    case ts.SyntaxKind.SpreadElement:
    case ts.SyntaxKind.SpreadAssignment:
      if (options.isDestructuringTarget === undefined || !options.isDestructuringTarget(node.parent)) {
        report(node, "spread-rest");
      }
      break;
    case ts.SyntaxKind.BindingElement:
      if ((node as ts.BindingElement).dotDotDotToken !== undefined && options.bindingPatternOnce !== true) {
        report(node, "spread-rest", "rest element");
      }
      break;
    case ts.SyntaxKind.ComputedPropertyName:
      if (!(options.bindingPatternOnce === true && ts.isBindingElement(node.parent))) report(node, "computed-key");
      break;
    case ts.SyntaxKind.LabeledStatement:
      report(node, "labelled-statement", `label '${(node as ts.LabeledStatement).label.text}'`);
      break;
    case ts.SyntaxKind.AwaitExpression:
      report(node, "async-await", "await");
      break;
    case ts.SyntaxKind.YieldExpression:
      report(node, "generator", "yield");
      break;
    case ts.SyntaxKind.ClassStaticBlockDeclaration:
      report(node, "static-block");
      break;
    case ts.SyntaxKind.BinaryExpression: {
      const b = node as ts.BinaryExpression;
      const op = b.operatorToken;
      switch (op.kind) {
        case ts.SyntaxKind.AsteriskAsteriskToken:
        case ts.SyntaxKind.AsteriskAsteriskEqualsToken:
          report(op, "exponent");
          break;
        case ts.SyntaxKind.QuestionQuestionEqualsToken:
        case ts.SyntaxKind.BarBarEqualsToken:
        case ts.SyntaxKind.AmpersandAmpersandEqualsToken:
          report(op, "logical-assignment", op.getText(sf));
          break;
        case ts.SyntaxKind.EqualsToken:
          if (ts.isArrayLiteralExpression(b.left) || ts.isObjectLiteralExpression(b.left)) destructuringAssignment(b.left);
          break;
      }
      break;
    }
    case ts.SyntaxKind.ForOfStatement:
    case ts.SyntaxKind.ForInStatement: {
      const f = node as ts.ForOfStatement | ts.ForInStatement;
      if (ts.isForOfStatement(f) && f.awaitModifier !== undefined) report(f.awaitModifier, "async-await", "for await");
      if (ts.isArrayLiteralExpression(f.initializer) || ts.isObjectLiteralExpression(f.initializer)) {
        destructuringAssignment(f.initializer);
      }
      break;
    }
    case ts.SyntaxKind.PropertyAccessExpression:
    case ts.SyntaxKind.ElementAccessExpression:
    case ts.SyntaxKind.CallExpression: {
      const chain = node as ts.PropertyAccessExpression | ts.ElementAccessExpression | ts.CallExpression;
      if (chain.questionDotToken !== undefined) report(chain.questionDotToken, "optional-chaining");
      break;
    }
  }

  if (isFunctionWithBody(node)) {
    const modifiers = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
    if (modifiers !== undefined && modifiers.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword)) {
      report(node, "async-await", "async function");
    }
    if (node.asteriskToken !== undefined) report(node, "generator");
  }
}
