export { compileLogic, type CompiledLogic, type CompileLogicOptions, type LogicOperation } from './compile.js';
export { validateLogic, type LogicProblem, type ValidateLogicOptions } from './validate.js';
