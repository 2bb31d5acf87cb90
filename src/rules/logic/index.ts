export { compileLogic, type CompiledLogic, type CompileLogicOptions, type LogicOperation } from './compile.js';
export { findBlockedSegment, splitPath, walkSegments } from './data-path.js';
export { appendPointer } from './json-pointer.js';
export { argumentPointer, readOperation, type OperationNode } from './operation-node.js';
export { STANDARD_OPERATORS } from './operators.js';
export { truthy } from './runtime.js';
export { validateLogic, type LogicProblem, type ValidateLogicOptions } from './validate.js';
