/**
 * Load-time checks of how a condition uses the domain operations and the status codes. Each one catches a rule
 * that JSON Logic accepts but that could never match, such as `{"below": [{"var": "listing.listPrice"}]}` (one
 * operand, compared with nothing) or `{"==": [{"var": "listing.lastStatus"}, "Sold"]}` (the code is "Sld").
 */
import {
  appendPointer,
  argumentPointer,
  findBlockedSegment,
  readOperation,
  type LogicProblem,
  type OperationNode,
} from './logic/index.js';
import { codesOf, statusFieldOfPath, type StatusField } from './status-codes.js';
import { countOf, noun } from '../plural.js';

/** Operations that take exactly two numeric operands. */
const comparisons = new Set(['below', 'above', 'at_most', 'at_least', 'dropped', 'rose']);
const transitionOperations = new Set(['became', 'left']);
const transitionPaths = new Set(['change.status', 'change.lastStatus']);
const equalities = new Set(['==', '===', '!=', '!==']);

/** Returns every problem in how `logic` uses domain operations and status codes, or [] when there is none. */
export function checkDomainUsage(logic: unknown): LogicProblem[] {
  const problems: LogicProblem[] = [];
  visit(logic, '', problems);
  return problems;
}

function visit(node: unknown, pointer: string, problems: LogicProblem[]): void {
  if (Array.isArray(node)) {
    node.forEach((element, index) => visit(element, appendPointer(pointer, index), problems));
    return;
  }
  const operation = readOperation(node, pointer);
  if (operation === undefined) return;

  checkOperation(operation, problems);
  operation.args.forEach((arg, index) => visit(arg, argumentPointer(operation, index), problems));
}

function checkOperation(operation: OperationNode, problems: LogicProblem[]): void {
  const { name, args, pointer } = operation;
  const report = (at: string, message: string): void => {
    problems.push({ pointer: at, message });
  };

  if (comparisons.has(name) && args.length !== 2) {
    report(pointer, `${name} compares two values, but got ${args.length}; write {"${name}": [a, b]}`);
  }
  if (name === 'number' && args.length !== 1) {
    report(pointer, `number takes one value, but got ${args.length}`);
  }
  if (transitionOperations.has(name)) checkTransition(operation, report);
  if (name === 'changed') checkChanged(operation, report);
  if (equalities.has(name)) checkStatusEquality(operation, report);
  if (name === 'in') checkStatusMembership(operation, report);
}

function checkTransition(operation: OperationNode, report: (pointer: string, message: string) => void): void {
  const { name, args, pointer } = operation;
  const example = `{"${name}": [{"var": "change.lastStatus"}, ["Sld"]]}`;
  if (args.length !== 2) {
    report(pointer, `${name} takes a status transition and the codes, but got ${countOf(args.length, 'argument')}; write ${example}`);
    return;
  }

  const [transition, codes] = args;
  const transitionPointer = argumentPointer(operation, 0);
  const source = readOperation(transition, transitionPointer);
  if (source === undefined) {
    report(transitionPointer, `${name} needs a status transition such as {"var": "change.lastStatus"}, not a fixed value`);
    return;
  }
  const path = literalVarPath(source);
  let field: StatusField | null = null;
  if (path !== null) {
    if (!transitionPaths.has(path)) {
      report(transitionPointer, `${name} reads a transition from "change.status" or "change.lastStatus", not "${path}"; write ${example}`);
      return;
    }
    field = path === 'change.status' ? 'status' : 'lastStatus';
  }

  const codesPointer = argumentPointer(operation, 1);
  if (readOperation(codes, codesPointer) !== undefined) return;
  const list = typeof codes === 'string' ? [codes] : codes;
  if (!Array.isArray(list) || list.length === 0 || !list.every((code) => typeof code === 'string')) {
    report(codesPointer, `${name} needs a status code or a non-empty list of codes, such as ["Sld", "Lsd"]`);
    return;
  }
  if (field !== null) checkCodes(field, list as string[], codesPointer, report);
}

function checkChanged(operation: OperationNode, report: (pointer: string, message: string) => void): void {
  const { args, pointer } = operation;
  if (args.length === 0) {
    report(pointer, 'changed needs at least one listing field, such as {"changed": "listPrice"}');
    return;
  }
  args.forEach((arg, index) => {
    const at = argumentPointer(operation, index);
    if (readOperation(arg, at) !== undefined) return;
    if (typeof arg !== 'string' || arg === '') {
      report(at, `changed takes listing field paths such as "listPrice" or "details.numBedrooms", but got ${JSON.stringify(arg)}`);
      return;
    }
    const segments = arg.split('.');
    const blocked = findBlockedSegment(segments);
    if (blocked !== undefined) report(at, `changed path ${JSON.stringify(arg)} contains the segment "${blocked}", which never matches`);
    else if (segments.includes('')) report(at, `changed path ${JSON.stringify(arg)} has an empty segment; remove the extra "."`);
    else if (/^(listing|previous)\./.test(arg)) {
      report(at, `changed takes a field of the listing without a prefix: write "${arg.replace(/^(listing|previous)\./, '')}"`);
    }
  });
}

/** `{"==": [{"var": "listing.lastStatus"}, "Sold"]}` never matches: the code is "Sld". */
function checkStatusEquality(operation: OperationNode, report: (pointer: string, message: string) => void): void {
  const { args } = operation;
  if (args.length !== 2) return;
  for (const [varIndex, literalIndex] of [[0, 1], [1, 0]] as const) {
    const source = readOperation(args[varIndex], argumentPointer(operation, varIndex));
    const path = source ? literalVarPath(source) : null;
    const field = path === null ? null : statusFieldOfPath(path);
    const literal = args[literalIndex];
    if (field !== null && typeof literal === 'string') {
      checkCodes(field, [literal], argumentPointer(operation, literalIndex), report);
    }
  }
}

/** `{"in": [{"var": "listing.lastStatus"}, ["Sld", "Sold"]]}`: each listed code must exist. */
function checkStatusMembership(operation: OperationNode, report: (pointer: string, message: string) => void): void {
  const [needle, haystack] = operation.args;
  const source = readOperation(needle, argumentPointer(operation, 0));
  const path = source ? literalVarPath(source) : null;
  const field = path === null ? null : statusFieldOfPath(path);
  if (field === null || !Array.isArray(haystack)) return;
  const codes = haystack.filter((code): code is string => typeof code === 'string');
  checkCodes(field, codes, argumentPointer(operation, 1), report);
}

function checkCodes(
  field: StatusField,
  codes: readonly string[],
  pointer: string,
  report: (pointer: string, message: string) => void,
): void {
  const known = codesOf(field);
  const unknown = codes.filter((code) => !known.includes(code));
  if (unknown.length === 0) return;
  report(
    pointer,
    `unknown ${field} ${noun(unknown.length, 'code')} ${unknown.map((code) => JSON.stringify(code)).join(', ')}, which never match; ${field} is one of ${known.join(', ')} (case-sensitive)`,
  );
}

/** The path of `{"var": "a.b"}` or `{"var": ["a.b", fallback]}` when it is a literal string, else null. */
function literalVarPath(operation: OperationNode): string | null {
  if (operation.name !== 'var') return null;
  const [path] = operation.args;
  return typeof path === 'string' ? path : null;
}
